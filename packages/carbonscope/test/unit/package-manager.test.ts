import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { startsPackageManager } from '../../src/package-manager.js';

describe("startsPackageManager: whether the main module is a package manager's own", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-pm-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A file at `path` (relative to the scratch folder), its folders made; returns its path. */
  async function file(path: string, text = ''): Promise<string> {
    const at = join(dir, path);
    await mkdir(dirname(at), { recursive: true });
    await writeFile(at, text);
    return at;
  }

  /** A package `name` in folder `folder` with the file `bin` (relative to its root). */
  async function pkg(folder: string, name: string, bin: string): Promise<string> {
    await file(join(folder, 'package.json'), JSON.stringify({ name, bin: { x: bin } }));
    return file(join(folder, bin));
  }

  /** A link named `name` to `target`, as npm's bin folder or corepack enable makes. */
  async function link(name: string, target: string): Promise<string> {
    const at = join(dir, '.bin', name);
    await mkdir(dirname(at), { recursive: true });
    await symlink(target, at);
    return at;
  }

  // Found by PATH, not beside process.execPath: the Node 24 run's node has no npm of its own.
  it('npm and npx as installed here: the link on PATH and the file it leads to', () => {
    for (const name of ['npm', 'npx']) {
      const onPath = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      expect(startsPackageManager(onPath), onPath).to.equal(true);
      const program = realpathSync(onPath);
      expect(program.endsWith(join('bin', `${name}-cli.js`)), program).to.equal(true);
      expect(startsPackageManager(program), program).to.equal(true);
    }
  });

  // Each package's bin as published (npm view <package> bin), reached by the link npm makes.
  const published: Array<[string, string, string]> = [
    ['npm', 'bin/npm-cli.js', 'npm'],
    ['npm', 'bin/npx-cli.js', 'npx'],
    ['yarn', 'bin/yarn.js', 'yarn'],
    ['yarn', 'bin/yarn.js', 'yarnpkg'],
    ['@yarnpkg/cli-dist', 'bin/yarn.js', 'yarn'],
    ['pnpm', 'bin/pnpm.js', 'pnpm'],
    ['pnpm', 'bin/pnpm.cjs', 'pnpm'],
    ['pnpm', 'bin/pnpx.cjs', 'pnpx'],
    ['pnpm', 'bin/pnpm.mjs', 'pn'],
    ['pnpm', 'bin/pnpx.mjs', 'pnx'],
    ['corepack', 'dist/corepack.js', 'corepack'],
    ['corepack', 'dist/yarn.js', 'yarn'],
    ['corepack', 'dist/pnpm.js', 'pnpm'],
    ['corepack', 'dist/npx.js', 'npx'],
  ];
  for (const [name, bin, linkName] of published) {
    it(`${name}'s ${bin}, named or by a link named ${linkName}`, async () => {
      const program = await pkg(name.replace('/', '-'), name, bin);
      expect(startsPackageManager(program)).to.equal(true);
      expect(startsPackageManager(await link(linkName, program))).to.equal(true);
    });
  }

  it("yarn 2+ as one file: a project's checked-in release, corepack's download", async () => {
    expect(startsPackageManager(await file('app/.yarn/releases/yarn-4.5.0.cjs'))).to.equal(true);
    const download = await file('corepack/v1/yarn/4.12.0/yarn.js');
    await file('corepack/v1/yarn/4.12.0/.corepack', '{"locator":{"name":"yarn"},"bin":["yarn"]}');
    expect(startsPackageManager(download)).to.equal(true);
    expect(startsPackageManager(await link('yarn', download))).to.equal(true);
  });

  it('not an application whose own files are named like one, nor a link to it', async () => {
    expect(startsPackageManager(await file('app/npm.js'))).to.equal(false);
    expect(startsPackageManager(await pkg('app', 'app', 'bin/npm-cli.js'))).to.equal(false);
    expect(startsPackageManager(await pkg('other', 'other', 'bin/yarn.js'))).to.equal(false);
    expect(startsPackageManager(await pkg('nameless', '', 'bin/pnpm.cjs'))).to.equal(false);
    expect(startsPackageManager(await file('loose/bin/pnpm.cjs'))).to.equal(false);
    expect(startsPackageManager(await link('npm', await file('app/server.js')))).to.equal(false);
    expect(startsPackageManager(await file('app/scripts/yarn-4.5.0.cjs'))).to.equal(false);
    expect(startsPackageManager(await file('app/yarn/yarn.js'))).to.equal(false);
    await file('app/y/.corepack', '{"locator":{"name":"pnpm"}}');
    expect(startsPackageManager(await file('app/y/yarn.js'))).to.equal(false);
  });

  // Where the package's record cannot be read, the program is not taken for the manager's: the
  // application runs measured, and nothing throws out of register's first lines.
  it('not where its package.json cannot be read: a folder, not JSON, a name not a string', async () => {
    await mkdir(join(dir, 'folder', 'package.json'), { recursive: true });
    expect(startsPackageManager(await file('folder/bin/npm-cli.js'))).to.equal(false);
    await file('broken/package.json', '{"name": "npm"');
    expect(startsPackageManager(await file('broken/bin/npm-cli.js'))).to.equal(false);
    await file('listed/package.json', '{"name": ["npm"]}');
    expect(startsPackageManager(await file('listed/bin/npm-cli.js'))).to.equal(false);
    await file('null/package.json', 'null');
    expect(startsPackageManager(await file('null/bin/npm-cli.js'))).to.equal(false);
    await file('corrupt/.corepack', '{"locator": null');
    expect(startsPackageManager(await file('corrupt/yarn.js'))).to.equal(false);
  });

  it('not a dangling link, nor a loop of links, named npm', async () => {
    expect(startsPackageManager(await link('npm', join(dir, 'gone', 'npm-cli.js')))).to.equal(
      false,
    );
    await symlink(join(dir, '.bin', 'npx'), join(dir, 'loop'));
    expect(startsPackageManager(await link('npx', join(dir, 'loop')))).to.equal(false);
  });

  // Out of this check's platforms, such a path is a name like any other: false, not a throw.
  it('not a Windows path, by either separator', () => {
    const win = 'C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js';
    expect(startsPackageManager(win)).to.equal(false);
    expect(startsPackageManager(win.replaceAll('\\', '/'))).to.equal(false);
  });

  // Read from disk only for a manager's own names: an application's file, whatever it leads to.
  it("not an application's file by its own name, even one linked to npm's program", async () => {
    const npm = await pkg('npm', 'npm', 'bin/npm-cli.js');
    expect(startsPackageManager(await link('server.js', npm))).to.equal(false);
  });

  it('not a file that is not there, nor none (the REPL, -e)', () => {
    expect(startsPackageManager(join(dir, 'npm'))).to.equal(false);
    expect(startsPackageManager(undefined)).to.equal(false);
    expect(startsPackageManager('')).to.equal(false);
  });
});
