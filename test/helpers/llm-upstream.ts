import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { loadCatalog } from 'carbonscope';
import { type ChatService, createChatService } from '../../src/llm/client.js';
import type { Logger } from '../../src/logger.js';

/** A failing OpenAI-compatible upstream, for the error paths the bundled mock never takes. */
export interface StubUpstream {
  /** Base URL as the openai client takes it (ends in /v1). */
  baseUrl: string;
  /** Requests received, so tests can tell how often the client tried. */
  requests: number;
  close(): Promise<void>;
}

export async function startStubUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<StubUpstream> {
  const stub = {
    baseUrl: '',
    requests: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    stub.requests++;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  stub.baseUrl = `http://127.0.0.1:${port}/v1`;
  stub.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return stub;
}

/** Answers every request with `status` and an OpenAI error body. */
export function failWith(status: number, message = 'upstream exploded') {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }));
  };
}

/** A 401 that echoes the caller's Authorization header, as careless APIs do. */
export function echoKeyIn401(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(401, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: {
        message: `Incorrect API key provided: ${req.headers.authorization}`,
        type: 'invalid_request_error',
      },
    }),
  );
}

/** The chat service with the service's default provider and model, no key, against `baseUrl`. */
export function defaultChatService(
  baseUrl: string,
  meter: Meter,
  logger: Logger,
  timeoutMs = 5000,
): ChatService {
  return createChatService({
    baseUrl,
    apiKey: undefined,
    provider: 'openai',
    defaultModel: 'gpt-4o-mini',
    timeoutMs,
    catalog: loadCatalog(),
    meter,
    logger,
  });
}
