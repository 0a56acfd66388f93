import { once } from 'node:events';
import {
  createServer,
  type RequestListener,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { type RPCMetadata, RPCType, setRPCMetadata } from '@opentelemetry/core';
import type { OperationFootprint } from '../../src/energy/index.js';
import { steadyCarbonscope } from '../unit/energy/scripted.js';

/** A GET of a path, or a method, a path and a Host header of its own. */
export type RouteRequest = string | [method: string, path: string, host?: string];

/**
 * `listener` served as @opentelemetry/instrumentation-http serves a request: in a context holding
 * the RPC metadata a framework's instrumentation writes its route on (and, `withSpan`, its server
 * span as the active one), read as the answer finishes. Its server's `emit` is wrapped, as OTel's
 * is, not the listener: the server's request listener stays the app itself.
 */
export function servedAsOtel(
  listener: RequestListener,
  withSpan: boolean,
): { server: Server; routes: string[] } {
  const routes: string[] = [];
  const server = createServer(listener);
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event !== 'request') return emit(event, ...args);
    const res = args[1] as ServerResponse;
    const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const metadata: RPCMetadata = { type: RPCType.HTTP, span };
    res.on('finish', () => routes.push(metadata.route ?? '-'));
    const withMetadata = setRPCMetadata(context.active(), metadata);
    const active = withSpan ? trace.setSpan(withMetadata, span) : withMetadata;
    return context.with(active, () => emit(event, ...args));
  }) as Server['emit'];
  return { server, routes };
}

/** Sent with node:http, which sends the Host given (fetch sends its own). */
function send(base: string, method: string, path: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = host === undefined ? {} : { host };
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Each request in turn, served by `server` with carbonscope tracking it; `late` adds a route once
 * it listens. Answers carbonscope's `name status` per request.
 */
export async function namesServed(
  server: Server,
  requests: readonly RouteRequest[],
  late?: () => void,
): Promise<string[]> {
  const cs = await steadyCarbonscope();
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests({ servers: [server] });
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    late?.();
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [i, req] of requests.entries()) {
      const [method, path, host] = typeof req === 'string' ? ['GET', req] : req;
      await send(base, method, path, host);
      for (let t = 0; t < 100 && ended.length <= i; t++) await new Promise((r) => setTimeout(r, 5));
    }
    return ended.map((f) => `${f.operation} ${f.status}`);
  } finally {
    server.close();
    await cs.stop();
  }
}
