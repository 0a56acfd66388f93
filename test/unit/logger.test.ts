import { expect } from 'chai';
import { captureLogger } from '../helpers/log.js';

describe('logger', () => {
  it('redacts apiKey fields and masks a secret value wherever it appears', () => {
    const { logger, lines } = captureLogger('info', ['sk-very-secret']);
    logger.info({ apiKey: 'plain-key', config: { llm: { apiKey: 'nested-key' } } }, 'config');
    logger.warn({ err: new Error('upstream said: bad key sk-very-secret') }, 'upstream failed');
    logger.info({ deep: { down: { token: 'sk-very-secret' } } }, 'odd place');
    const text = lines.join('\n');
    expect(lines).to.have.length(3);
    expect(text).not.to.include('plain-key');
    expect(text).not.to.include('nested-key');
    expect(text).not.to.include('sk-very-secret');
    expect(text.match(/\[redacted\]/g)).to.have.length.of.at.least(4);
  });
});
