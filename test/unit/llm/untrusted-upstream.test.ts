import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { constants, createGzip } from 'node:zlib';
import { LlmError } from 'carbonscope';
import { expect } from 'chai';
import { createTestMetrics, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { MAX_REPORTED_TOKENS } from '../../../src/llm/tokens.js';
import {
  defaultChatService,
  type StubUpstream,
  startStubUpstream,
} from '../../helpers/llm-upstream.js';
import { captureLogger } from '../../helpers/log.js';

/** Half a surrogate pair, which no UTF-8 text can hold. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What an OpenAI-compatible API could send that is not a usable chat completion. */
const question = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Hi there' }] };

function completion(message: unknown, usage?: unknown): string {
  return JSON.stringify({
    id: 'chatcmpl-untrusted',
    object: 'chat.completion',
    created: 0,
    model: 'gpt-4o',
    choices: [{ index: 0, finish_reason: 'stop', message }],
    usage,
  });
}

/**
 * A completion whose content is `mib` MiB of spaces, gzipped as it streams from one 1 MiB buffer:
 * ~0.1 s, where the 64 MB string and default deflate's search for matches took ~10 s loaded.
 */
async function gzippedCompletionOfSpaces(mib: number): Promise<Buffer> {
  const [head, tail] = completion({ role: 'assistant', content: '<spaces>' }).split('<spaces>');
  const mebibyte = Buffer.alloc(1 << 20, ' ');
  const parts = [head, ...Array.from({ length: mib }, () => mebibyte), tail];
  return buffer(Readable.from(parts).pipe(createGzip({ strategy: constants.Z_RLE })));
}

const GZIP = { 'content-encoding': 'gzip' } as const;

function answer(
  status: number,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
) {
  return (_req: unknown, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

describe('llm chat client: an upstream that cannot be trusted', () => {
  let metrics: TestMetrics;
  let stub: StubUpstream | undefined;
  beforeEach(() => {
    metrics = createTestMetrics();
  });
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
    await metrics.shutdown();
  });

  async function chatWith(handler: (req: unknown, res: ServerResponse) => void, timeoutMs = 5000) {
    stub = await startStubUpstream(handler);
    return defaultChatService(
      stub.baseUrl,
      metrics.meter,
      captureLogger('silent').logger,
      timeoutMs,
    );
  }

  async function failure(work: Promise<unknown>): Promise<LlmError> {
    try {
      await work;
    } catch (err) {
      expect(err).to.be.instanceOf(LlmError);
      return err as LlmError;
    }
    throw new Error('expected the chat to fail');
  }

  for (const [what, headers] of [
    ['Retry-After: 3600', { 'retry-after': '3600' }],
    ['Retry-After: 1 (longer than the timeout)', { 'retry-after': '1' }],
    ['retry-after-ms: 3600000', { 'retry-after-ms': '3600000' }],
    ['an HTTP date in 2099', { 'retry-after': 'Fri, 01 Jan 2099 00:00:00 GMT' }],
    // The SDK reads retry-after-ms only when parseFloat gives a number other than 0, and
    // Retry-After as parseFloat's seconds before it tries a date: read any other way, these
    // were a wait that fits, handed on, and the SDK slept the hour past the deadline (504).
    [
      'retry-after-ms: 0 beside a date an hour ahead',
      { 'retry-after-ms': '0', 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() },
    ],
    ['Retry-After: 3600s (3600 to parseFloat)', { 'retry-after': '3600s' }],
  ] as const) {
    for (const status of [429, 503]) {
      it(`ends within LLM_TIMEOUT_MS on a ${status} with ${what}`, async () => {
        let calls = 0;
        const refuse = answer(status, '{"error":{"message":"slow down"}}', headers);
        const chat = await chatWith((req, res) => {
          calls++;
          refuse(req, res);
        }, 400);
        const err = await failure(chat.complete(question));
        // The upstream's refusal, given up on at once: no retry waited for past the deadline
        // (the deadline's answer would be a 504), none left sleeping after it.
        expect(err.status).to.equal(502);
        expect(calls, 'requests to the upstream').to.equal(1);
      });
    }
  }

  it('still retries once after a short Retry-After that fits the timeout', async () => {
    let calls = 0;
    const chat = await chatWith((req, res) => {
      calls++;
      if (calls === 1) return answer(429, '{}', { 'retry-after-ms': '50' })(req, res);
      answer(200, completion({ role: 'assistant', content: 'ok' }))(req, res);
    }, 2000);
    expect((await chat.complete(question)).message.content).to.equal('ok');
    expect(calls).to.equal(2);
  });

  // A Retry-After date is on the upstream's clock, as its Date is. Read against ours, an hour
  // behind, the 1 s asked was an hour's wait: given up on at once (502). Handed on as it was,
  // the SDK would read it against ours too and sleep the hour, past the deadline.
  it("retries after a Retry-After date by the answer's Date when our wall clock is behind", async () => {
    let calls = 0;
    const sent = Math.floor(Date.now() / 1000) * 1000;
    const chat = await chatWith((req, res) => {
      calls++;
      if (calls > 1) return answer(200, completion({ role: 'assistant', content: 'ok' }))(req, res);
      const date = new Date(sent).toUTCString();
      answer(429, '{}', { date, 'retry-after': new Date(sent + 1000).toUTCString() })(req, res);
    }, 4000);
    const realNow = Date.now;
    Date.now = () => realNow() - 3_600_000;
    try {
      expect((await chat.complete(question)).message.content).to.equal('ok');
    } finally {
      Date.now = realNow;
    }
    expect(calls).to.equal(2);
  });

  // A date in no form of HTTP's (UTC for GMT) is no wait to us, and Date.parse reads it: handed
  // on, the SDK slept the hour. Without the wait headers it backs off by its own schedule.
  it('retries by its own back-off after a Retry-After date in a form HTTP does not name', async () => {
    let calls = 0;
    const chat = await chatWith((req, res) => {
      calls++;
      if (calls > 1) return answer(200, completion({ role: 'assistant', content: 'ok' }))(req, res);
      const hourAhead = new Date(Date.now() + 3_600_000).toUTCString().replace('GMT', 'UTC');
      answer(429, '{}', { 'retry-after': hourAhead })(req, res);
    }, 4000);
    expect((await chat.complete(question)).message.content).to.equal('ok');
    expect(calls).to.equal(2);
  });

  for (const [what, body] of [
    ['an empty body', ''],
    ['null', 'null'],
    ['a number', '42'],
    ['content that is an object', completion({ role: 'assistant', content: { text: 'hi' } })],
    ['content that is a number', completion({ role: 'assistant', content: 7 })],
    // Read as a message without content, these were a 200 with an empty answer and its impacts.
    ['a message that is text', completion('hi')],
    ['a message that is a number', completion(7)],
    ['a message that is an array', completion([{ role: 'assistant', content: 'hi' }])],
    [
      'choices that are an object, not a list',
      JSON.stringify({ choices: { 0: { message: { role: 'assistant', content: 'hi' } } } }),
    ],
  ] as const) {
    it(`answers 502 for ${what}`, async () => {
      const chat = await chatWith(answer(200, body));
      const err = await failure(chat.complete(question));
      expect(err.status).to.equal(502);
      expect(err.code).to.equal('upstream_invalid');
    });
  }

  // Some gateways answer an upstream failure (quota, unknown model) with a 200 and OpenAI's error
  // object: that was a 502 "without a completion" with no log line at all, the reason dropped.
  it('passes on and logs the error object of a 200 that holds one, not a bare "no completion"', async () => {
    const log = captureLogger('debug');
    stub = await startStubUpstream(
      answer(200, '{"error":{"message":"You exceeded your current quota","type":"quota"}}'),
    );
    const chat = defaultChatService(stub.baseUrl, metrics.meter, log.logger);
    const err = await failure(chat.complete(question));
    expect([err.status, err.code]).to.deep.equal([502, 'upstream_error']);
    expect(err.message).to.include('You exceeded your current quota');
    const warned = log.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warned.map((l) => l.reason)).to.deep.equal(['You exceeded your current quota']);
  });

  it('logs a 200 without a completion or an error, as any upstream fault is', async () => {
    const log = captureLogger('debug');
    stub = await startStubUpstream(answer(200, '{"id":"x","choices":[]}'));
    const chat = defaultChatService(stub.baseUrl, metrics.meter, log.logger);
    const err = await failure(chat.complete(question));
    expect([err.status, err.code]).to.deep.equal([502, 'upstream_invalid']);
    expect(log.lines.filter((l) => JSON.parse(l).level === 40)).to.have.length(1);
  });

  // The openai client reads an answer whole: 200 MB of one (or a 200 KB gzip body that fetch
  // inflates to it) took the service to 790 MB, past compose's 768 MB.
  // Each body is made, as bytes, before the request: the stub shares this process, and making the
  // 64 MB one in the handler took ~10 s on a loaded machine, past the client's 5 s deadline (504).
  for (const [what, body, headers] of [
    [
      'a completion of 20 MB',
      async () => Buffer.from(completion({ role: 'assistant', content: 'y'.repeat(20 << 20) })),
    ],
    ['a gzip body that inflates to 64 MB', () => gzippedCompletionOfSpaces(64), GZIP],
  ] as const) {
    it(`answers 502 for ${what}, over the 8 MiB an answer may have`, async () => {
      const chat = await chatWith(answer(200, await body(), headers));
      const err = await failure(chat.complete(question));
      expect(err.status).to.equal(502);
      expect(err.message).to.include('over 8 MiB');
      expect(err.message.length).to.be.below(400);
    });
  }
  // An error's body is read no further than its start: its 20 MB are not held to keep 8 K.
  it('answers 502 for an error of 20 MB as the status it came with', async () => {
    const chat = await chatWith(answer(400, `{"error":{"message":"${'z'.repeat(20 << 20)}"}}`));
    const err = await failure(chat.complete(question));
    expect(err.status).to.equal(502);
    expect(err.message).to.include('status 400');
    expect(err.message.length).to.be.below(1024);
  });

  for (const usage of [
    { prompt_tokens: 12, completion_tokens: 1e12, total_tokens: 1e12 + 12 },
    { prompt_tokens: 1e15, completion_tokens: 3, total_tokens: 1e15 + 3 },
    { prompt_tokens: 12, completion_tokens: MAX_REPORTED_TOKENS + 1, total_tokens: 0 },
  ]) {
    it(`estimates usage it cannot believe (${usage.prompt_tokens}, ${usage.completion_tokens}), and says so`, async () => {
      const chat = await chatWith(
        answer(200, completion({ role: 'assistant', content: 'a b c d' }, usage)),
      );
      const r = await chat.complete(question);
      expect(r.usage.completionTokens).to.be.below(100);
      expect(r.usage.promptTokens).to.be.below(100);
      const warning = r.impacts.warnings.find((w) => w.code === 'usage-estimated');
      expect(warning?.message).to.include('implausible');
      const joules = await metrics.value('carbonscope_llm_energy_joules_total', {
        gen_ai_request_model: 'gpt-4o',
        carbonscope_bound: 'max',
        carbonscope_phase: 'usage',
      });
      expect(joules, 'J added by one chat').to.be.below(1e5);
    });
  }

  it('keeps a plausible large count as reported', async () => {
    const usage = { prompt_tokens: 120_000, completion_tokens: 16_000, total_tokens: 136_000 };
    const chat = await chatWith(
      answer(200, completion({ role: 'assistant', content: 'x' }, usage)),
    );
    const r = await chat.complete(question);
    expect(r.usage).to.include({ promptTokens: 120_000, completionTokens: 16_000 });
  });

  // JSON lets an upstream send half a surrogate pair ("\ud800"): passed on, /chat's JSON said
  // "\ud800" too, which strict parsers refuse, and no UTF-8 text can hold.
  it('replaces the lone surrogates of an answer with U+FFFD', async () => {
    const chat = await chatWith(
      answer(200, completion({ role: 'assistant', content: 'a \ud800 b \udc00' }, undefined)),
    );
    const r = await chat.complete(question);
    expect(r.message.content).to.equal('a \ufffd b \ufffd');
    expect(JSON.stringify(r)).not.to.match(/\\ud[89a-f]/i);
  });

  for (const [what, reason, shown] of [
    ['a lone surrogate', 'bad \ud800 key', '400 bad \ufffd key'],
    // Cut at 300 UTF-16 units ("400 " and 295 before it), an emoji across the cut left half.
    ['an emoji across the cut', `${'a'.repeat(295)}\u{1f600}`, `400 ${'a'.repeat(295)}\u{1f600}`],
  ] as const) {
    it(`passes on and logs an upstream error as well-formed text (${what})`, async () => {
      const log = captureLogger('debug');
      stub = await startStubUpstream(answer(400, JSON.stringify({ error: { message: reason } })));
      const chat = defaultChatService(stub.baseUrl, metrics.meter, log.logger);
      const err = await failure(chat.complete(question));
      expect(err.message.endsWith(shown)).to.equal(true);
      expect(err.message).not.to.match(LONE_SURROGATE);
      const warned = log.lines.filter((l) => JSON.parse(l).level === 40);
      expect(warned.map((l) => JSON.parse(l).reason)).to.deep.equal([shown]);
      expect(warned.join('\n')).not.to.match(/\\ud[89a-f]/i);
    });
  }

  // With one count usable the warning said "reported no token usage", which the answer's own
  // usage (one count as reported) contradicted: it names the count that was estimated, and
  // what was wrong with each count it could not use.
  for (const [usage, message] of [
    [
      { prompt_tokens: 5, completion_tokens: -7 },
      'the LLM service reported a completion token count that is not a whole number (-7): it is estimated at ~4 characters a token',
    ],
    [
      { prompt_tokens: null, completion_tokens: 3 },
      'the LLM service reported no prompt token count: it is estimated at ~4 characters a token',
    ],
    [
      undefined,
      'the LLM service reported no token usage: counts are estimated at ~4 characters a token',
    ],
    // Both counts there but fractional: "reported no token usage" said otherwise.
    [
      { prompt_tokens: 12.5, completion_tokens: 3.7 },
      'the LLM service reported prompt and completion token counts that are not whole numbers (12.5, 3.7): counts are estimated at ~4 characters a token',
    ],
    [
      { prompt_tokens: '12', completion_tokens: { n: 3 } },
      'the LLM service reported prompt and completion token counts that are not whole numbers (a string, an object): counts are estimated at ~4 characters a token',
    ],
    [
      { prompt_tokens: 2.5 },
      'the LLM service reported a prompt token count that is not a whole number (2.5) and no completion token count: counts are estimated at ~4 characters a token',
    ],
  ] as const) {
    it(`says which token count it estimated (${JSON.stringify(usage)})`, async () => {
      const chat = await chatWith(
        answer(200, completion({ role: 'assistant', content: 'a b c d' }, usage)),
      );
      const r = await chat.complete(question);
      const warning = r.impacts.warnings.find((w) => w.code === 'usage-estimated');
      expect(warning?.message).to.equal(message);
    });
  }
});
