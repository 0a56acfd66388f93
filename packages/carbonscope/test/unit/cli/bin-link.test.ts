import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
// The test runs from dist/test/unit/cli: the package's own folder is four levels up.
const PACKAGE_DIR = fileURLToPath(new URL('../../../../', import.meta.url));

interface Manifest {
  bin: Record<string, string>;
  files: string[];
  scripts?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(`${PACKAGE_DIR}package.json`, 'utf8')) as Manifest;

describe('the carbonscope command as npm links it', () => {
  const bin = manifest.bin.carbonscope ?? '';

  it('names a file that exists before any build, so that npm ci in a clone links it', () => {
    // npm skips a bin whose file is missing when it installs, and in a clone `npm ci` runs
    // before `npm run build`: a bin under dist/ left `npx carbonscope` "not found".
    expect(bin).to.not.match(/^(\.\/)?dist\//);
    expect(existsSync(`${PACKAGE_DIR}${bin}`), `${bin} in the package`).to.equal(true);
    expect(manifest.files.some((f) => bin.startsWith(f.replace(/\/$/, '')))).to.equal(true);
  });

  it('is packed with the build it loads', () => {
    // A tarball packed from a clone that was never built shipped the bin without dist/: its
    // users were told to "run npm run build", which they cannot.
    expect(manifest.scripts?.prepack ?? '').to.match(/\btsc -b\b/);
  });

  it('runs the built command line', async () => {
    const { stdout } = await run(process.execPath, [`${PACKAGE_DIR}${bin}`, 'help', 'impacts']);
    expect(stdout).to.match(/carbonscope impacts/);
  });
});
