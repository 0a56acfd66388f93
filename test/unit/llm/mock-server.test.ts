import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI, { BadRequestError } from 'openai';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { type MockLlm, startMockLlm } from '../../../src/llm/mock-server.js';
import { projectRoot } from '../../../src/paths.js';

describe('mock LLM server', () => {
  let mock: MockLlm;
  let client: OpenAI;
  before(async () => {
    mock = await startMockLlm({ port: 0, latencyMs: 0 });
    client = new OpenAI({
      baseURL: `${mock.url}/v1`,
      apiKey: 'test',
      maxRetries: 0,
      logLevel: 'off',
    });
  });
  after(() => mock.close());

  it('speaks the OpenAI shape: the official client parses its answer', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the carbon intensity of the French grid?' },
      ],
    });
    expect(r.object).to.equal('chat.completion');
    expect(r.id).to.match(/^chatcmpl-/);
    expect(r.model).to.equal('gpt-4o');
    expect(r.choices).to.have.length(1);
    expect(r.choices[0].message.role).to.equal('assistant');
    expect(r.choices[0].message.content).to.include('mock answer');
    expect(r.choices[0].finish_reason).to.equal('stop');
    const usage = r.usage;
    expect(usage?.completion_tokens).to.equal(
      Math.ceil((r.choices[0].message.content ?? '').length / 4),
    );
    expect(usage?.total_tokens).to.equal(
      (usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0),
    );
  });

  it('counts prompt tokens from the input: about 4 characters a token', async () => {
    const ask = (content: string) =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] });
    const short = await ask('hi');
    const long = await ask('x'.repeat(4000));
    expect((long.usage?.prompt_tokens ?? 0) - (short.usage?.prompt_tokens ?? 0)).to.equal(1000 - 1);
  });

  it('answers the workshop route POST /chat with the same shape', async () => {
    const res = await fetch(`${mock.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
      }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as {
      object: string;
      choices: unknown[];
      usage: { prompt_tokens: number };
    };
    expect(body.object).to.equal('chat.completion');
    expect(body.choices).to.have.length(1);
    expect(body.usage.prompt_tokens).to.be.greaterThan(0);
  });

  it('honours max_tokens with finish_reason "length"', async () => {
    const r = await client.chat.completions.create({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'tell me everything' }],
    });
    expect(r.choices[0].finish_reason).to.equal('length');
    expect(r.usage?.completion_tokens).to.equal(5);
  });

  // Cut in UTF-16 units, an emoji across the cut left half a surrogate pair in the answer, which
  // /chat then served: U+FFFD on its page, an escape strict JSON parsers refuse in its JSON.
  it('never cuts an answer inside a surrogate pair (the excerpt, max_tokens)', async () => {
    // Half a pair does not survive UTF-8: it comes back as U+FFFD.
    const wellFormed = (text = '') => Buffer.from(text, 'utf8').toString('utf8') === text;
    const ask = (content: string, max_tokens?: number) =>
      client.chat.completions.create({
        model: 'm',
        max_tokens,
        messages: [{ role: 'user', content }],
      });
    for (const lead of ['', 'a', 'ab', 'abc']) {
      const content = lead + '😀'.repeat(100);
      const full = (await ask(content)).choices[0].message.content ?? '';
      expect(wellFormed(full), `excerpt after "${lead}"`).to.equal(true);
      const high = [...full.matchAll(/[\uD800-\uDBFF]/g)].find((m) => (m.index + 1) % 4 === 0);
      if (!high) continue;
      const maxTokens = (high.index + 1) / 4;
      const cut = await ask(content, maxTokens);
      expect(wellFormed(cut.choices[0].message.content ?? ''), `max_tokens ${maxTokens}`).to.equal(
        true,
      );
      expect(cut.usage?.completion_tokens).to.be.at.most(maxTokens);
    }
  });

  it('refuses empty messages with an OpenAI error the client recognises', async () => {
    try {
      await client.chat.completions.create({ model: 'm', messages: [] });
      expect.fail('expected a 400');
    } catch (err) {
      expect(err).to.be.instanceOf(BadRequestError);
      expect((err as BadRequestError).message).to.include("'messages' must be a non-empty array");
    }
  });

  it('refuses bodies that are not JSON, and unknown paths', async () => {
    const bad = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).to.equal(
      'invalid_request_error',
    );
    expect(
      (await fetch(`${mock.url}/v1/embeddings`, { method: 'POST', body: '{}' })).status,
    ).to.equal(404);
  });

  // `String(part.text)` threw on {"toString": 1}: a 500 and an error line for a bad request.
  for (const text of [{ toString: 1 }, {}, 7, null]) {
    it(`refuses a content part whose text is ${JSON.stringify(text)}, not a string, with a 400`, async () => {
      const res = await fetch(`${mock.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({
          messages: [{ role: 'user', content: [{ type: 'text', text }] }],
        }),
      });
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { error: { type: string; param: string } };
      expect(body.error).to.include({
        type: 'invalid_request_error',
        param: 'messages[0].content[0].text',
      });
    });
  }

  // The request was destroyed at the limit: the client saw its connection reset, not why.
  it('answers a body over its limit with a 413, not a reset connection', async () => {
    const small = await startMockLlm({ port: 0, latencyMs: 0, bodyLimitBytes: 1024 });
    try {
      const res = await fetch(`${small.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(256 * 1024) }] }),
      });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { error: { message: string } }).error.message).to.include(
        'larger than 1024 bytes',
      );
    } finally {
      await small.close();
    }
  });

  it('waits the configured latency before answering', async () => {
    const slow = await startMockLlm({ port: 0, latencyMs: 300 });
    try {
      // Set before the request, so due before the server's latency timer (same process): had
      // the server answered at once, the answer would be in when it fires.
      let answered = false;
      const answeredEarly = new Promise<boolean>((r) => setTimeout(() => r(answered), 290));
      const res = await fetch(`${slow.url}/chat`, {
        method: 'POST',
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      answered = true;
      expect(res.status).to.equal(200);
      expect(await answeredEarly, 'answered before its latency').to.equal(false);
    } finally {
      await slow.close();
    }
  });

  it('runs alone (npm run mock-llm) on MOCK_LLM_PORT, and stops on SIGTERM', async () => {
    const script = join(projectRoot, 'dist', 'src', 'llm', 'mock-server.js');
    const child = spawn(process.execPath, [script], {
      cwd: tmpdir(),
      env: childEnv({
        MOCK_LLM_PORT: '0',
        HOST: '127.0.0.1',
        MOCK_LLM_LATENCY_MS: '0',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /"url":"(http:[^"]+)"/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).to.equal(200);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  // Ctrl-C under `npm run mock-llm` sends SIGINT twice (the terminal's and npm's copy): with
  // process.once a second found no listener and ended it by the signal.
  it('ends with 0 on a doubled SIGINT, more sent while it stops', async () => {
    const script = join(projectRoot, 'dist', 'src', 'llm', 'mock-server.js');
    const child = spawn(process.execPath, [script], {
      cwd: tmpdir(),
      env: childEnv({ MOCK_LLM_PORT: '0', HOST: '127.0.0.1', MOCK_LLM_LATENCY_MS: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          const m = /"url":"(http:[^"]+)"/.exec(chunk.toString());
          if (m?.[1]) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
      });
      // Answered, it has its handlers: the line comes just before they are added.
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      // More come while it stops, each a few ms apart (the kernel merges a signal still pending).
      for (let n = 0; n < 20 && child.exitCode === null && child.signalCode === null; n++) {
        child.kill('SIGINT');
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(await exited).to.deep.equal([0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  /** Runs the standalone mock expecting it to stop at start: its exit code and stderr. */
  async function failedStart(env: Record<string, string>): Promise<[number | null, string]> {
    const script = join(projectRoot, 'dist', 'src', 'llm', 'mock-server.js');
    const child = spawn(process.execPath, [script], {
      cwd: tmpdir(),
      env: childEnv({ HOST: '127.0.0.1', ...env }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    return [code as number | null, err];
  }

  // It printed the bare message (`MOCK_LLM_PORT: ...`, `listen EADDRINUSE: ...`), not the
  // service's line that says what failed and what to do.
  it('stops at a bad setting or a taken port with one line, as the service does', async () => {
    const [badCode, bad] = await failedStart({ MOCK_LLM_PORT: 'abc' });
    expect(badCode).to.equal(1);
    expect(bad).to.match(/^carbonscope: invalid setting MOCK_LLM_PORT: .*"abc"\)\n$/);
    const taken = new URL(mock.url).port;
    const [takenCode, inUse] = await failedStart({ MOCK_LLM_PORT: taken });
    expect(takenCode).to.equal(1);
    expect(inUse).to.equal(
      `carbonscope: port ${taken} is in use: stop the other process or set MOCK_LLM_PORT\n`,
    );
  });
});
