import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { libraryRoot } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';
import { tempDirUntilExit } from './temp-dir.js';

/**
 * Another copy of the built package, as a dependency's node_modules holds one, whose version.js
 * says `version` (the scope version its meters carry): its own modules and state, the same
 * globalThis. Gives its module `module` (a path under dist/src), loaded.
 *
 * Under dist, not the temporary folder: its imports must find the workspace's node_modules. In a
 * folder of its own, so that two runs in one checkout never load or remove each other's, and
 * removed when the process ends, not after the test: its modules stay loaded, and may load more.
 */
export async function fromPackageCopy<T>(version: string, module: string): Promise<T> {
  const dist = fileURLToPath(new URL('../../', import.meta.url));
  const root = tempDirUntilExit('package-copy-', dist);
  const src = join(root, 'dist', 'src');
  cpSync(join(dist, 'src'), src, { recursive: true });
  symlinkSync(join(libraryRoot, 'data'), join(root, 'data'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ version, type: 'module' }));
  const versionFile = join(src, 'version.js');
  writeFileSync(versionFile, readFileSync(versionFile, 'utf8').replace(VERSION, version));
  return import(pathToFileURL(join(src, module)).href);
}
