import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { freePort, freePorts } from '#library-tests/helpers/ports.js';
import { type Spawned, spawnUntil } from '#library-tests/helpers/spawn.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { projectRoot } from '../../src/paths.js';
import { waitFor } from './wait.js';

export const SERVER_ENTRY = join(projectRoot, 'dist', 'src', 'server.js');

// An empty working directory, so a developer's own .env cannot change what tests see.
const WORK_DIR = tempDirUntilExit('carbonscope-test-');

export { spawnUntil };

export interface SpawnedServer extends Spawned {
  url: string;
  port: number;
}

export { freePort, freePorts };

/** Polls `GET /readyz` until it answers 200 (the model loaded, the first sample taken). */
export async function untilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const ready = async () => {
    const res = await fetch(`${url}/readyz`);
    await res.arrayBuffer();
    return res.status === 200;
  };
  await waitFor(`the service at ${url} to be ready`, ready, timeoutMs, 100);
}

/** What spawnServer gives the service: `env` over a few defaults, nothing of the developer's. */
export function serviceEnv(env: Record<string, string> = {}): Record<string, string> {
  return childEnv({ HOME: process.env.HOME ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
}

/**
 * Runs the built service (`node dist/src/server.js`) and waits until it listens; on the Node
 * running the tests unless `options.node` names another binary.
 */
export async function spawnServer(
  env: Record<string, string> = {},
  options: { waitFor?: RegExp; timeoutMs?: number; node?: string } = {},
): Promise<SpawnedServer> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const spawned = await spawnUntil(options.node ?? process.execPath, [SERVER_ENTRY], {
    cwd: WORK_DIR,
    env: { ...serviceEnv(env), PORT: String(port) },
    waitFor: options.waitFor ?? /listening on/,
    timeoutMs: options.timeoutMs,
  });
  return { url: `http://127.0.0.1:${port}`, port, ...spawned };
}

/** Runs the service expecting it to fail at start; resolves with its exit code and output. */
export async function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: WORK_DIR,
    env: childEnv({ HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code] = await once(proc, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}
