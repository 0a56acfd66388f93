import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactionList } from 'carbonscope';
import { expect } from 'chai';
import OpenAI, { APIError } from 'openai';
import { upstreamFetch } from '../../../src/llm/client.js';
import { MAX_ERROR_BODY_CHARS, scrubbedErrorFetch } from '../../../src/llm/scrubbed-error-fetch.js';
import { type StubUpstream, startStubUpstream } from '../../helpers/llm-upstream.js';

const KEY = 'sk-test-KEY/SECRET+9';

/**
 * The OpenAI client's error is what its instrumentation records as the span's status message,
 * which no log redaction sees: sent to the trace exporter (OTLP, or stdout for `console`) whole.
 */
async function errorOf(stub: StubUpstream, key = KEY, timeoutMs = 5000): Promise<APIError> {
  const client = new OpenAI({
    baseURL: stub.baseUrl,
    apiKey: key,
    maxRetries: 0,
    fetch: upstreamFetch(timeoutMs, redactionList([key])),
    logLevel: 'off',
  });
  try {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [] });
  } catch (err) {
    expect(err).to.be.instanceOf(APIError);
    return err as APIError;
  }
  throw new Error('expected the call to fail');
}

function answer(status: number, body: (req: IncomingMessage) => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body(req));
  };
}

describe('llm upstream fetch: what the OpenAI client reads of an error answer', () => {
  let stub: StubUpstream | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  // An upstream that echoed the request's headers put the key in the openai span's status.
  it('reads an echoed key as [redacted], in each form the body may write it', async () => {
    stub = await startStubUpstream(
      answer(400, (req) =>
        JSON.stringify({
          error: {
            message: `denied: ${req.headers.authorization} ${encodeURIComponent(KEY)} ${JSON.stringify(JSON.stringify(req.headers))}`,
          },
        }),
      ),
    );
    const err = await errorOf(stub);
    expect(err.status).to.equal(400);
    expect(err.message).to.include('denied: Bearer [redacted] [redacted]');
    expect(err.message).not.to.include('KEY/SECRET');
    expect(err.message).not.to.include('KEY%2FSECRET');
  });

  // A 400 with 8 MiB of text was an 8 MiB span status message.
  it(`reads at most ${MAX_ERROR_BODY_CHARS} characters of an error body`, async () => {
    const message = `quota exceeded ${'y'.repeat(200_000)}`;
    stub = await startStubUpstream(answer(429, () => JSON.stringify({ error: { message } })));
    const err = await errorOf(stub);
    expect(err.status).to.equal(429);
    expect(err.message).to.include('quota exceeded');
    expect(err.message.length).to.be.at.most(MAX_ERROR_BODY_CHARS + 20);
  });

  it('leaves a short error body as it was, JSON the client reads', async () => {
    stub = await startStubUpstream(
      answer(404, () => JSON.stringify({ error: { message: 'no such model', code: 'nope' } })),
    );
    const err = await errorOf(stub);
    expect(err.message).to.equal('404 no such model');
    expect(err.code).to.equal('nope');
  });

  // The whole body was awaited: one that dripped on held the request until LLM_TIMEOUT_MS, and
  // its error then read as the abort, not as what the upstream said.
  it('reads the start of an error body that never ends, and cancels the rest', async () => {
    let closed: Promise<unknown> = new Promise(() => {});
    stub = await startStubUpstream((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write(`overloaded ${'z'.repeat(16 * MAX_ERROR_BODY_CHARS)}`);
      closed = once(res, 'close');
    });
    // A timeout past mocha's: only a read that stops at the start of the body ends in time.
    const err = await errorOf(stub, KEY, 600_000);
    expect(err.status).to.equal(500);
    expect(err.message).to.include('overloaded zzz');
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('body not cancelled')), 2000)),
    ]);
  });

  // A bounded read ends mid-body: a key it cut in two would be matched by no form.
  it('shows no part of a key that the read cut, however much masking shortened the rest', async () => {
    const key = `sk-${'k'.repeat(60)}LONGKEYTAIL${'q'.repeat(60)}`;
    const secrets = redactionList([key]);
    for (let pad = 0; pad < key.length; pad += 7) {
      const body = `${'p'.repeat(pad)}${key.repeat(2000)}`;
      const chunks = body.match(/.{1,97}/gs) ?? [];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(chunk));
        },
      });
      const inner = async () => new Response(stream, { status: 401 });
      const res = await scrubbedErrorFetch(secrets, inner)('http://upstream/');
      const text = await res.text();
      expect(text).to.include('[redacted]');
      expect(text, `pad ${pad}: ${text.slice(-160)}`).not.to.match(/kk|qq|LONG|TAIL|sk-/);
    }
  });
});
