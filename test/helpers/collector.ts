import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { freePorts } from './spawn-server.js';
import { waitFor } from './wait.js';

export const COLLECTOR_CONFIG = join(projectRoot, 'otel-collector', 'config.yaml');
const OTELCOL_SCRIPT = join(projectRoot, 'tools', 'otelcol.sh');

/**
 * The path of the real Collector built from otel-collector/ (tools/otelcol.sh builds it when it
 * is not cached; `npm test` did that already in its setup step). Throws the script's one line
 * when it cannot be had, e.g. when Go is missing.
 */
export function collectorBinary(): string {
  try {
    return execFileSync('bash', [OTELCOL_SCRIPT, '--path'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(stderr.split('\n').pop() || `${OTELCOL_SCRIPT} --path failed`);
  }
}

export interface RunningCollector {
  /** Base URL of its OTLP/HTTP receiver, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  otlpUrl: string;
  /** host:port of its prometheus exporter (scrape target). */
  exporterAddress: string;
  /** Its log (stderr), for a failing test's message. */
  log(): string;
  /** Ends it with `signal` (SIGTERM: it shuts down; SIGKILL: a crash) and awaits its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends it `signal` without awaiting anything: SIGSTOP freezes it, SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Runs the real Collector on the repository's config.yaml, changed only by `--set`: every
 * listener moves to a free loopback port, its own telemetry is off (no fixed port 8888), and
 * `settings` (each `key::path=value`) are applied last. Resolves once its health_check
 * extension reports it ready.
 */
export async function startCollector(settings: string[] = []): Promise<RunningCollector> {
  const [grpc, http, exporter, health] = await freePorts(4);
  const set = [
    `receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${grpc}`,
    `receivers::otlp::protocols::http::endpoint=127.0.0.1:${http}`,
    `exporters::prometheus::endpoint=127.0.0.1:${exporter}`,
    `extensions::health_check::endpoint=127.0.0.1:${health}`,
    'service::telemetry::metrics::level=none',
    ...settings,
  ];
  const proc: ChildProcess = spawn(
    collectorBinary(),
    ['--config', COLLECTOR_CONFIG, ...set.flatMap((s) => ['--set', s])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => log.push(c));
  const tail = () => log.join('').slice(-3000);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      await once(proc, 'exit');
    }
  };
  // An exit ends the wait at once; the check below reports it.
  await waitFor(
    'the OpenTelemetry Collector to be ready',
    async () => proc.exitCode !== null || (await fetch(`http://127.0.0.1:${health}/`)).ok,
    20_000,
  ).catch(async (err: Error) => {
    await stop();
    throw new Error(`${err.message}\n${tail()}`);
  });
  if (proc.exitCode !== null) {
    throw new Error(`the OpenTelemetry Collector exited with ${proc.exitCode}:\n${tail()}`);
  }
  return {
    otlpUrl: `http://127.0.0.1:${http}`,
    exporterAddress: `127.0.0.1:${exporter}`,
    log: tail,
    stop,
    signal: (signal) => {
      proc.kill(signal);
    },
  };
}

/**
 * A collector that refuses every push with a 401 whose status line names the `x-api-key` it
 * was sent: a hostile echo, for tests that the key never reaches a log line.
 */
export async function refusingCollector(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(401, `refused ${req.headers['x-api-key']}`).end());
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}
