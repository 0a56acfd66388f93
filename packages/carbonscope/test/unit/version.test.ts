import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';

const run = promisify(execFile);

// npm on Node 22.1+ turns on Node's module compile cache, which it keeps in the temporary folder
// (node-compile-cache): a leftover of every run on Node 24, where npm test checks for them.
const NPM_ENV = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };

describe('VERSION', function () {
  this.timeout(60_000);
  // A constant, not read from package.json at run time: a bundle has no package.json beside it.
  it("is the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(libraryRoot, 'package.json'), 'utf8'));
    expect(VERSION).to.equal(pkg.version);
  });

  describe('at release', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'carbonscope-version-'));
      for (const part of ['package.json', 'src/version.ts', 'tools']) {
        cpSync(join(libraryRoot, part), join(dir, part), { recursive: true });
      }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('follows `npm version`', async () => {
      await run('npm', ['version', '9.8.7', '--no-git-tag-version', '--loglevel=error'], {
        cwd: dir,
        env: NPM_ENV,
      });
      expect(readFileSync(join(dir, 'src/version.ts'), 'utf8')).to.include("VERSION = '9.8.7';");
    });

    it('stops npm pack when it differs from package.json', async () => {
      const pkgFile = join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      writeFileSync(pkgFile, JSON.stringify({ ...pkg, version: '9.8.7' }));
      const failure = await run('npm', ['pack', '--dry-run', '--loglevel=error'], {
        cwd: dir,
        env: NPM_ENV,
      }).then(
        () => '',
        (err: { stderr: string }) => err.stderr,
      );
      expect(failure).to.include(`src/version.ts says ${VERSION}, package.json 9.8.7`);
    });
  });
});
