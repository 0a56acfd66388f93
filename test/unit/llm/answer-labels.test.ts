import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactionList } from 'carbonscope';
import { expect } from 'chai';
import OpenAI from 'openai';
import { createTestMetrics, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { upstreamFetch } from '../../../src/llm/client.js';
import { MAX_ANSWER_CHOICES, MAX_UPSTREAM_LABEL } from '../../../src/llm/labelled-answer-fetch.js';
import {
  defaultChatService,
  type StubUpstream,
  startStubUpstream,
} from '../../helpers/llm-upstream.js';
import { captureLogger } from '../../helpers/log.js';

const KEY = 'sk-test-KEY/SECRET+9';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MB = 'm'.repeat(1_000_000);

/** A completion whose naming fields are a megabyte each (the model echoing the key and half a
 * pair), with a thousand choices: 4 MB, under the 8 MiB an answer may have. */
function hugeLabels(req: IncomingMessage): string {
  const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  const choice = (index: number) => ({
    index,
    finish_reason: index === 0 ? `stop${MB}` : 'stop',
    message: { role: 'assistant', content: 'hi' },
  });
  return JSON.stringify({
    id: `chatcmpl-${MB}`,
    object: 'chat.completion',
    created: 0,
    model: `gpt-4o \ud800 ${key} ${MB}`,
    system_fingerprint: `fp_${MB}`,
    choices: Array.from({ length: 1000 }, (_, i) => choice(i)),
  });
}

function answer(body: (req: IncomingMessage) => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body(req));
  };
}

const codePoints = (text: string) => Array.from(text).length;

// The OpenAI instrumentation sets gen_ai.response.model, .id and .finish_reasons on its span
// from the object the client parsed: what the upstream fetch hands the client is what it records.
describe('llm upstream fetch: the naming fields of an answer are bounded', () => {
  let stub: StubUpstream | undefined;
  let metrics: TestMetrics;
  beforeEach(() => {
    metrics = createTestMetrics();
  });
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
    await metrics.shutdown();
  });

  it('hands the client each cut short, well-formed and without the key, and a few choices', async () => {
    stub = await startStubUpstream(answer(hugeLabels));
    const client = new OpenAI({
      baseURL: stub.baseUrl,
      apiKey: KEY,
      maxRetries: 0,
      fetch: upstreamFetch(5000, redactionList([KEY])),
      logLevel: 'off',
    });
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [] });
    const labels = [r.id, r.model, r.system_fingerprint ?? '', r.choices[0]?.finish_reason ?? ''];
    for (const label of labels) {
      expect(codePoints(label)).to.be.at.most(MAX_UPSTREAM_LABEL + 1);
      expect(label).to.match(/…$/);
      expect(LONE_SURROGATE.test(label), 'a lone surrogate').to.equal(false);
    }
    expect(r.model).to.match(/^gpt-4o \ufffd \[redacted\] m+…$/);
    expect(r.choices).to.have.length(MAX_ANSWER_CHOICES);
    expect(r.choices[1]?.finish_reason).to.equal('stop');
    expect(r.choices[0]?.message.content).to.equal('hi');
  });

  it("bounds /chat's answer: the upstream's model, id and finish reason", async () => {
    stub = await startStubUpstream(answer(hugeLabels));
    const chat = defaultChatService(stub.baseUrl, metrics.meter, captureLogger('silent').logger);
    const r = await chat.complete({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    for (const label of [r.id, r.upstreamModel, r.finishReason ?? '']) {
      expect(codePoints(label)).to.be.at.most(MAX_UPSTREAM_LABEL + 1);
    }
    expect(r.model).to.equal('gpt-4o');
    expect(r.message.content).to.equal('hi');
  });

  // The client takes a JSON answer of Content-Length 0 for none: /chat's "without a completion".
  // With the length dropped, it parsed the empty body and failed as "not a chat completion".
  it('passes an empty answer on with its Content-Length, read as no completion', async () => {
    stub = await startStubUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
      res.end();
    });
    const res = await upstreamFetch(5000, [])(`${stub.baseUrl}/chat/completions`);
    expect(res.headers.get('content-length')).to.equal('0');
    const chat = defaultChatService(stub.baseUrl, metrics.meter, captureLogger('silent').logger);
    const err: unknown = await chat.complete({ messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.equal('the LLM service answered without a completion');
  });

  it('passes an ordinary answer on as it came', async () => {
    const body = JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 0,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
    });
    stub = await startStubUpstream(answer(() => body));
    const res = await upstreamFetch(5000, [])(`${stub.baseUrl}/chat/completions`);
    expect(await res.text()).to.equal(body);
  });
});
