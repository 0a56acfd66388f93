import { join } from 'node:path';
import { toRange } from 'carbonscope';
import { expect } from 'chai';
import { createTestMetrics } from '#library-tests/helpers/metrics.js';
import { loadConfig } from '../../../src/config.js';
import { createLlm } from '../../../src/llm/index.js';
import { projectRoot } from '../../../src/paths.js';
import { captureLogger } from '../../helpers/log.js';

describe('createLlm (service wiring from settings)', () => {
  it('starts the bundled mock in-process when LLM_BASE_URL is unset, and chats through it', async () => {
    const metrics = createTestMetrics();
    const { logger, lines } = captureLogger('info');
    const llm = await createLlm({
      config: loadConfig({
        MOCK_LLM_LATENCY_MS: '0',
        LLM_MODELS_FILE: join(
          projectRoot,
          'packages',
          'carbonscope',
          'test',
          'fixtures',
          'llm',
          'extra-models.json',
        ),
      }),
      logger,
      meter: metrics.meter,
    });
    try {
      expect(llm.mockUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.some((l) => l.includes('mock LLM listening'))).to.equal(true);
      expect(llm.service.models()).to.include.members([
        'openai/gpt-4o',
        'openai/my-finetune',
        'acme/acme-chat-1',
      ]);
      expect(llm.service.defaultModel).to.equal('openai/gpt-4o-mini');
      const r = await llm.service.complete({ messages: [{ role: 'user', content: 'hi' }] });
      expect(r.model).to.equal('gpt-4o-mini');
      expect(toRange(r.impacts.energy.value).max).to.be.greaterThan(0);
      // No model ran: the figures are what the named model would have cost, and say so.
      expect(r.impacts.warnings.map((w) => w.code)).to.include('mock-llm');
      const own = await llm.service.complete({
        model: 'acme-chat-1',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect([own.provider, own.impacts.zone]).to.deep.equal(['acme', 'FRA']);
    } finally {
      await llm.close();
      await metrics.shutdown();
    }
    const closed = await fetch(`${llm.mockUrl}/healthz`).then(
      () => 'open',
      () => 'closed',
    );
    expect(closed).to.equal('closed');
  });

  it('uses LLM_BASE_URL as given, without a mock', async () => {
    const metrics = createTestMetrics();
    const llm = await createLlm({
      config: loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:9/v1' }),
      logger: captureLogger().logger,
      meter: metrics.meter,
    });
    expect(llm.mockUrl).to.equal(undefined);
    await llm.close();
    await metrics.shutdown();
  });

  it('stops the start with a message naming a default model the data does not know', async () => {
    const metrics = createTestMetrics();
    try {
      await createLlm({
        config: loadConfig({ LLM_MODEL: 'gpt-imaginary' }),
        logger: captureLogger().logger,
        meter: metrics.meter,
      });
      expect.fail('expected an error');
    } catch (err) {
      expect((err as Error).message).to.include('unknown model "gpt-imaginary"');
    } finally {
      await metrics.shutdown();
    }
  });
});
