import { expect } from 'chai';
import { loadConfig, redactConfig, secretsOf } from '../../src/config.js';
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

  it('says nothing of a key that is not set (no "[redacted]" for an absent key)', () => {
    const { logger, lines } = captureLogger('info');
    logger.info({ config: redactConfig(loadConfig({})) }, 'starting carbonscope');
    const logged = JSON.parse(lines[0] ?? '{}') as { config: { grid: object; llm: object } };
    expect(lines[0]).not.to.include('[redacted]');
    expect(logged.config.grid).not.to.have.property('apiKey');
    expect(logged.config.llm).not.to.have.property('apiKey');
  });

  it('never logs credentials written into a base URL', () => {
    const config = loadConfig({
      ELECTRICITY_MAPS_BASE_URL: 'https://em-user:em-pass@api.example/v3',
      LLM_BASE_URL: 'http://llm-user:llm-pass@127.0.0.1:8002/v1',
    });
    const { logger, lines } = captureLogger('info', secretsOf(config));
    logger.info({ config: redactConfig(config) }, 'starting carbonscope');
    logger.info({ baseUrl: config.grid.baseUrl }, 'grid intensity from Electricity Maps');
    const text = lines.join('\n');
    for (const secret of ['em-pass', 'llm-pass', 'em-user', 'llm-user']) {
      expect(text).not.to.include(secret);
    }
    expect(text).to.include('api.example/v3');
  });

  it('masks a password that begins with the user name whole, not just its first part', () => {
    const url = 'https://admin:admin-PW9SECRET@api.example/v3';
    const config = loadConfig({ ELECTRICITY_MAPS_BASE_URL: url });
    const { logger, lines } = captureLogger('info', secretsOf(config));
    logger.warn({ reason: `cannot fetch ${url}` }, 'grid lookup failed');
    expect(lines[0]).not.to.include('PW9SECRET');
    expect(lines[0]).to.include('https://[redacted]:[redacted]@api.example/v3');
  });
});
