import { expect } from 'chai';
import { createTestMetrics } from '#library-tests/helpers/metrics.js';
import { createLlmMetrics } from '../../../src/llm/metrics.js';
import { startMockLlm } from '../../../src/llm/mock-server.js';
import { defaultChatService } from '../../helpers/llm-upstream.js';
import { captureLogger } from '../../helpers/log.js';

describe('llm metrics', () => {
  it('keep their series bounded however many provider and model names arrive, mock or not (real SDK reader)', async () => {
    const mock = await startMockLlm({ port: 0, latencyMs: 0 });
    const source = createTestMetrics();
    const metrics = createTestMetrics();
    try {
      // Real impacts of one real chat, recorded under names a client (or a catalog) could send.
      const chat = defaultChatService(
        `${mock.url}/v1`,
        source.meter,
        captureLogger('silent').logger,
      );
      const { impacts } = await chat.complete({ messages: [{ role: 'user', content: 'hi' }] });
      const llm = createLlmMetrics(metrics.meter);
      const series = async () =>
        (await metrics.scrape())
          .split('\n')
          .filter((l) => l.startsWith('gen_ai_client_token_usage_count{')).length;
      const counts: number[] = [];
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 50; i++) {
          const n = round * 50 + i;
          llm.record(
            `provider-${n % 40}`,
            `model-${n}-${'x'.repeat(n % 300)}`,
            { prompt: 1, completion: 1 },
            impacts,
            n % 3 === 0,
          );
        }
        counts.push(await series());
      }
      expect(counts.at(-1), 'series after 500 names').to.equal(counts[2]);
      // Token types × mock or not × (8 providers + other) × (16 models + other).
      expect(Math.max(...counts)).to.be.at.most(2 * 2 * 9 * 17);
      const text = await metrics.scrape();
      expect(text).to.include('gen_ai_request_model="other"');
      expect(text).to.include('gen_ai_provider_name="other"');
      expect(text).not.to.include('x'.repeat(200));
    } finally {
      await mock.close();
      await source.shutdown();
      await metrics.shutdown();
    }
  });
});
