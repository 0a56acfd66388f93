import type { Agent, ClientRequestArgs } from 'node:http';
import type { AgentOptions as HttpsAgentOptions } from 'node:https';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { atDeadline } from '../../deadline.js';
import { nodeHttp } from '../../node-http.js';
import type { Env } from '../../settings.js';
import { messageOf } from '../../thrown-text.js';
import { type AgentFactory, EXPORT_TIMED_OUT } from './export-deadline.js';
import { type OtlpSignal, otlpTlsFile } from './otlp-tls-files.js';
import { readRegularFile } from './regular-file.js';

/**
 * The OTLP exporter retries a refused connection after 1 s (± 20 %): for the last push, whose
 * process is ending, that second would be the whole of a short script's delay with nothing at the
 * endpoint (the spec's default, localhost:4318, under `NODE_OPTIONS=--import
 * carbonscope/register` for every npm or tsc run), and a collector that refuses now is no
 * likelier to take the push a second later. So with a name that does not resolve (ENOTFOUND: a
 * mistyped host, a collector's service name outside its cluster) and a host or network with no
 * route to it (EHOSTUNREACH, ENETUNREACH): what says so now says it a second later. The
 * resolver's EAI_AGAIN is its own "try again", and stays retried. The error keeps its message,
 * without the code the exporter retries on.
 */
const FINAL_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** `err` made final: its message (each address's, where all of a name's failed), no code. */
function final(err: Error): Error {
  return new Error(err.message || attemptsOf(err));
}

/**
 * A name of several addresses (`localhost`: ::1 and 127.0.0.1) that all refused: Node tries
 * each and gives an AggregateError, whose message is empty; its attempts say what happened.
 */
function attemptsOf(err: Error): string {
  const attempts = err instanceof AggregateError ? (err.errors as unknown[]) : [];
  return attempts.map(messageOf).join(', ') || err.name;
}

type Done = (err: Error | null, socket: Duplex) => void;

/**
 * `agent`, handing each request its socket once connected: a connection it could not make is
 * then the request's error, made final where retrying it is vain (the agent's documented callback
 * form of createConnection). A connection not made within `connectMs` fails as the exporter's
 * own timeout would, so a host that drops the handshake holds nothing past the last push.
 */
function connectingFirst<A extends Agent>(agent: A, connectMs: number): A {
  // The agent's own: net's or tls's connect, with its session cache.
  const create = agent.createConnection.bind(agent) as (options: ClientRequestArgs) => Duplex;
  const deferred = (options: ClientRequestArgs, done: Done): undefined => {
    const socket = create(options);
    const cancel = atDeadline(connectMs, () => socket.destroy(new Error(EXPORT_TIMED_OUT)));
    const failed = (err: Error & { code?: string }) => {
      cancel();
      done(err.code !== undefined && FINAL_CODES.has(err.code) ? final(err) : err, socket);
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      cancel();
      socket.off('error', failed);
      done(null, socket);
    });
    return undefined;
  };
  // The callback form returns nothing: the agent waits for `done`.
  agent.createConnection = deferred as unknown as A['createConnection'];
  return agent;
}

/**
 * A TLS file the OTLP variables name, read as the exporter reads it (otlpTlsFile); unreadable, it
 * is left out, as the exporter leaves it (its constructor has said so through diag already), and
 * so is one that is no regular file (otlpTlsFileErrors names it).
 */
function tlsFile(env: Env, signal: OtlpSignal, name: string): Buffer | undefined {
  const file = otlpTlsFile(env, signal, name);
  if (!file) return undefined;
  try {
    return readRegularFile(resolve(process.cwd(), file.path));
  } catch {
    return undefined;
  }
}

/**
 * The options of the agents the OTLP/HTTP exporter makes for itself when given none: keep-alive,
 * and for https the CA, client certificate and key the OTLP variables of `signal` name (files it
 * cannot read left out, as it leaves them; its constructor has said so through diag already).
 */
export function exporterAgentOptions(env: Env, signal: OtlpSignal = 'METRICS'): HttpsAgentOptions {
  return {
    keepAlive: true,
    ca: tlsFile(env, signal, 'CERTIFICATE'),
    cert: tlsFile(env, signal, 'CLIENT_CERTIFICATE'),
    key: tlsFile(env, signal, 'CLIENT_KEY'),
  };
}

/** The agents the OTLP/HTTP exporter makes for itself when given none (exporterAgentOptions). */
export function exporterAgents(env: Env, signal: OtlpSignal = 'METRICS'): AgentFactory {
  return async (protocol) => {
    const { ca, cert, key, ...options } = exporterAgentOptions(env, signal);
    if (protocol === 'http:') {
      return new nodeHttp.Agent(options);
    }
    const { Agent: HttpsAgent } = await import('node:https');
    return new HttpsAgent({ ...options, ca, cert, key });
  };
}

/**
 * The agents of the last push's exporter: the exporter's own (exporterAgents), connecting before
 * the request is sent so that a refusal is final (see `final`); the TLS files are `signal`'s.
 */
export function lastPushAgents(
  env: Env,
  connectMs: number,
  signal: OtlpSignal = 'METRICS',
): AgentFactory {
  const own = exporterAgents(env, signal);
  return async (protocol) => connectingFirst(await own(protocol), connectMs);
}
