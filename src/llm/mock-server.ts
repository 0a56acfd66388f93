import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { messageOf, printable } from 'carbonscope';
import { firstCodeUnits } from '../http/index.js';
import type { Logger } from '../logger.js';
import { MOCK_FINGERPRINT } from './mock-fingerprint.js';
import { CHARS_PER_TOKEN, estimateTokens } from './tokens.js';

/**
 * An OpenAI-compatible chat-completions mock: the service uses it in-process when no
 * LLM_BASE_URL is set, and `npm run mock-llm` runs it alone. Answers are canned; token counts
 * follow the text (about 4 characters a token, as OpenAI documents for English), so the impact
 * estimate downstream moves with the input as it would against a real API.
 */
export interface MockLlmOptions {
  host?: string;
  /** 0 for an ephemeral port. */
  port?: number;
  /** Delay before each answer, to stand for generation time. */
  latencyMs?: number;
  logger?: Logger;
  /** Largest request body accepted, bytes. */
  bodyLimitBytes?: number;
}

export interface MockLlm {
  /** Base URL without a path, e.g. http://127.0.0.1:8002; the OpenAI client wants `${url}/v1`. */
  url: string;
  close(): Promise<void>;
}

/** Framing tokens OpenAI counts per message and per reply. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;

interface ChatMessage {
  role: string;
  content: string;
}

class MockHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  // The array form: [{type: 'text', text}]; other parts (images) carry no text.
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown, j) => {
      if (!part || typeof part !== 'object' || !('text' in part)) return '';
      // As OpenAI does; String() of it threw on {"toString": 1}, a 500 for a bad request.
      if (typeof part.text !== 'string') {
        const param = `messages[${i}].content[${j}].text`;
        throw new MockHttpError(400, `${param} must be a string`, param);
      }
      return part.text;
    })
    .join('');
}

function parseMessages(body: unknown): ChatMessage[] {
  if (!body || typeof body !== 'object')
    throw new MockHttpError(400, 'request body must be a JSON object');
  const messages = (body as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new MockHttpError(400, "'messages' must be a non-empty array", 'messages');
  }
  return messages.map((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
      throw new MockHttpError(400, `messages[${i}] needs a string 'role'`, `messages[${i}].role`);
    }
    return {
      role: (m as { role: string }).role,
      content: contentText((m as { content?: unknown }).content, i),
    };
  });
}

function promptTokens(messages: ChatMessage[]): number {
  let n = TOKENS_PER_REPLY;
  for (const m of messages)
    n += TOKENS_PER_MESSAGE + estimateTokens(m.role) + estimateTokens(m.content);
  return n;
}

function mockAnswer(messages: ChatMessage[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const words = lastUser.trim().split(/\s+/).filter(Boolean).length;
  // Cut never inside an emoji: /chat passes the answer on to a page and JSON, as UTF-8.
  const excerpt = lastUser.length > 120 ? `${firstCodeUnits(lastUser, 117)}...` : lastUser;
  return [
    'This is a mock answer from the carbonscope mock LLM; no model was run.',
    `Your message had ${words} word${words === 1 ? '' : 's'}: "${excerpt}".`,
    'A real model would now generate text whose length depends on the question,',
    'and every generated token would cost energy in a data centre far away.',
  ].join(' ');
}

function maxTokensOf(body: unknown): number | undefined {
  const b = body as { max_tokens?: unknown; max_completion_tokens?: unknown };
  const v = b.max_completion_tokens ?? b.max_tokens;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function completion(body: unknown) {
  const messages = parseMessages(body);
  const b = body as { model?: unknown; stream?: unknown };
  if (b.stream === true)
    throw new MockHttpError(400, 'streaming is not supported by the mock', 'stream');
  const model = typeof b.model === 'string' && b.model ? b.model : 'mock';
  let answer = mockAnswer(messages);
  let finishReason: 'stop' | 'length' = 'stop';
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined && estimateTokens(answer) > maxTokens) {
    answer = firstCodeUnits(answer, maxTokens * CHARS_PER_TOKEN);
    finishReason = 'length';
  }
  const prompt = promptTokens(messages);
  const generated = estimateTokens(answer);
  return {
    id: `chatcmpl-mock-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: MOCK_FINGERPRINT,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer, refusal: null },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: generated,
      total_tokens: prompt + generated,
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** OpenAI's error shape, so the official client turns it into the right error class. */
function sendError(res: ServerResponse, status: number, message: string, param?: string): void {
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  send(res, status, { error: { message, type, param: param ?? null, code: null } });
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Not destroyed: the client would see its connection reset instead of the 413, which
        // goes with Connection: close, Node dropping the rest of the body.
        chunks.length = 0;
        reject(new MockHttpError(413, `request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Waits `ms`, or less if the client goes away first (so close() is not held up). */
function delay(ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions', '/chat']);

async function handle(req: IncomingMessage, res: ServerResponse, latencyMs: number, limit: number) {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'GET' && (path === '/healthz' || path === '/')) {
    send(res, 200, { status: 'ok', service: 'carbonscope mock LLM' });
    return;
  }
  if (!CHAT_PATHS.has(path)) {
    sendError(res, 404, `no route for ${req.method} ${path.slice(0, 100)}`);
    return;
  }
  if (req.method !== 'POST') {
    sendError(res, 405, `use POST for ${path}`);
    return;
  }
  const raw = await readBody(req, limit);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new MockHttpError(400, 'request body is not valid JSON');
  }
  const answer = completion(body);
  await delay(latencyMs, res);
  send(res, 200, answer);
}

export function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const host = options.host ?? '127.0.0.1';
  const latencyMs = options.latencyMs ?? 0;
  const limit = options.bodyLimitBytes ?? 1024 * 1024;
  const logger = options.logger;
  const server = createServer((req, res) => {
    handle(req, res, latencyMs, limit).catch((err: unknown) => {
      if (err instanceof MockHttpError) {
        if (err.status === 413) res.setHeader('connection', 'close');
        sendError(res, err.status, err.message, err.param);
      } else {
        logger?.error({ err }, 'mock LLM failed');
        sendError(res, 500, 'mock LLM internal error');
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${port}`;
      logger?.info({ url, latencyMs }, 'mock LLM listening');
      resolve({
        url,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Stops the start with one line, as the service's own start does. */
function fail(message: string): never {
  process.stderr.write(`carbonscope: ${printable(message)}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { ConfigError, loadConfig, readDotenv } = await import('../config.js');
  const { createLogger } = await import('../logger.js');
  const { listenFailure } = await import('../http/index.js');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ ...readDotenv(), ...process.env });
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid setting ${err.message}`);
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const target = { host: config.host, port: config.llm.mockPort, portVariable: 'MOCK_LLM_PORT' };
  const mock = await startMockLlm({
    host: target.host,
    port: target.port,
    latencyMs: config.llm.mockLatencyMs,
    logger,
  }).catch((err: NodeJS.ErrnoException) => fail(listenFailure(err, target)));
  // Once, kept on: Ctrl-C under npm sends SIGINT twice, and a second with no listener would end
  // the process by Node's default before the close.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    mock.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// Runs only as `node dist/src/llm/mock-server.js`, never on import.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    fail(`mock LLM start-up failed: ${messageOf(err)}`);
  });
}
