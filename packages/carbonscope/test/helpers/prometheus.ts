import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface LaunchedPrometheus {
  proc: ChildProcess;
  /** host:port it listens on (loopback). */
  address: string;
  /** The tail of its log (stderr), for a failing test's message. */
  log(): string;
  /** Ends it and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Debian's prometheus (`bash tools/test-setup.sh`) on a free loopback port, in a temporary
 * folder that stop() removes: `config(address)` is its prometheus.yml, made once the port is
 * known, and `files` are written beside it (a rules file the config names). Resolves once it
 * has started; whether it is ready or has scraped is the caller's to wait for.
 */
export async function launchPrometheus(
  config: (address: string) => string,
  files: Record<string, string> = {},
): Promise<LaunchedPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prom-'));
  const address = `127.0.0.1:${await freePort()}`;
  writeFileSync(join(dir, 'prometheus.yml'), config(address));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const proc: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    await once(proc, 'spawn');
  } catch (err) {
    // Missing is a failure that says how to install it, never a skip nor a bare ENOENT.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prometheus: ${(err as Error).message} (bash tools/test-setup.sh)`);
  }
  const log: string[] = [];
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => log.push(c));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { proc, address, log: () => log.join('').slice(-2000), stop };
}
