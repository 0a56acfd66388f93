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

  it('runs under a small file-descriptor limit (ulimit -n 64), each command', async () => {
    // Node 20 reads an import()ed module graph's files all at once: `run` and `monitor` (zod's
    // locales among their ~500 modules) died at start at `ulimit -n` 96 and below with EMFILE and a
    // stack trace, where `register` (loaded by require()) ran at 40.
    const limited = (args: string[]) =>
      run('bash', ['-c', 'ulimit -n 64 && exec "$@"', 'bash', process.execPath, bin, ...args], {
        cwd: PACKAGE_DIR,
        env: { ...process.env, CARBONSCOPE_LOG_LEVEL: 'error' },
      });
    const ran = await limited(['run', '-z', 'DE', '--json', '--', process.execPath, '-e', '1']);
    expect(ran.stderr).to.match(/exited with code 0/);
    expect(JSON.parse(ran.stdout)).to.have.property('exit');
    const impacts = await limited(['impacts', '--model', 'gpt-4o', '--output-tokens', '10']);
    expect(impacts.stdout).to.match(/CO2e/);
  });
});
