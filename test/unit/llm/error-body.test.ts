import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactionList } from 'carbonscope';
import { expect } from 'chai';
import OpenAI, { APIError } from 'openai';
import { upstreamFetch } from '../../../src/llm/client.js';
import { MAX_ERROR_BODY_CHARS } from '../../../src/llm/scrubbed-error-fetch.js';
import { type StubUpstream, startStubUpstream } from '../../helpers/llm-upstream.js';

const KEY = 'sk-test-KEY/SECRET+9';

/**
 * The OpenAI client's error is what its instrumentation records as the span's status message,
 * which no log redaction sees: sent to the trace exporter (OTLP, or stdout for `console`) whole.
 */
async function errorOf(stub: StubUpstream): Promise<APIError> {
  const client = new OpenAI({
    baseURL: stub.baseUrl,
    apiKey: KEY,
    maxRetries: 0,
    fetch: upstreamFetch(5000, redactionList([KEY])),
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
});
