import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A folder made fresh for each test of the suite that asks for it, and what is written in it. */
export interface ScratchFolder {
  /** The current test's folder. */
  readonly dir: string;
  /** A file at `path` (relative to the folder), its folders made; returns its path. */
  file(path: string, text?: string): Promise<string>;
}

/**
 * A folder under the temporary folder for each test of the calling `describe`, removed after
 * it: the main-module checks (a launcher's, Next's) are asked about files laid out as packages.
 */
export function scratchFolder(prefix: string): ScratchFolder {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async file(path, text = '') {
      const at = join(dir, path);
      await mkdir(dirname(at), { recursive: true });
      await writeFile(at, text);
      return at;
    },
  };
}
