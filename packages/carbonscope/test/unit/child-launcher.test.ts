import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { startsChildLauncher } from '../../src/child-launcher.js';
import { scratchFolder } from '../helpers/scratch-folder.js';

describe("startsChildLauncher: whether the main module is a package manager's or launcher's own", () => {
  const scratch = scratchFolder('cs-pm-');
  const { file } = scratch;

  /** A package `name` in folder `folder` with the file `bin` (relative to its root). */
  async function pkg(folder: string, name: string, bin: string): Promise<string> {
    await file(join(folder, 'package.json'), JSON.stringify({ name, bin: { x: bin } }));
    return file(join(folder, bin));
  }

  /** A link named `name` to `target`, as npm's bin folder or corepack enable makes. */
  async function link(name: string, target: string): Promise<string> {
    const at = join(scratch.dir, '.bin', name);
    await mkdir(dirname(at), { recursive: true });
    await symlink(target, at);
    return at;
  }

  // Found by PATH, not beside process.execPath: the Node 24 run's node has no npm of its own.
  it('npm and npx as installed here: the link on PATH and the file it leads to', () => {
    for (const name of ['npm', 'npx']) {
      const onPath = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      expect(startsChildLauncher(onPath), onPath).to.equal(true);
      const program = realpathSync(onPath);
      expect(program.endsWith(join('bin', `${name}-cli.js`)), program).to.equal(true);
      expect(startsChildLauncher(program), program).to.equal(true);
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
      expect(startsChildLauncher(program)).to.equal(true);
      expect(startsChildLauncher(await link(linkName, program))).to.equal(true);
    });
  }

  // Launchers seen holding the Prometheus port their child, the application, then could not take
  // (each run under NODE_OPTIONS at the version noted in child-launcher.ts).
  const launchers: Array<[string, string, string]> = [
    ['nodemon', 'bin/nodemon.js', 'nodemon'],
    ['tsx', 'dist/cli.mjs', 'tsx'],
    ['tsx', 'dist/cli.js', 'tsx'],
    ['ts-node', 'dist/bin-esm.js', 'ts-node-esm'],
    ['ts-node-dev', 'lib/bin.js', 'ts-node-dev'],
    ['ts-node-dev', 'lib/bin.js', 'tsnd'],
    ['node-dev', 'bin/node-dev', 'node-dev'],
    ['pm2', 'bin/pm2', 'pm2'],
    ['pm2', 'bin/pm2-runtime', 'pm2-runtime'],
    ['pm2', 'bin/pm2-docker', 'pm2-docker'],
    ['pm2', 'bin/pm2-dev', 'pm2-dev'],
    ['concurrently', 'dist/bin/index.js', 'conc'],
    ['concurrently', 'dist/bin/concurrently.js', 'concurrently'],
    ['npm-run-all', 'bin/npm-run-all/index.js', 'npm-run-all'],
    ['npm-run-all', 'bin/run-s/index.js', 'run-s'],
    ['npm-run-all2', 'bin/run-p/index.js', 'run-p'],
  ];
  for (const [name, bin, linkName] of launchers) {
    it(`${name}'s ${bin}, named or by a link named ${linkName}`, async () => {
      const program = await pkg(name, name, bin);
      expect(startsChildLauncher(program)).to.equal(true);
      expect(startsChildLauncher(await link(linkName, program))).to.equal(true);
    });
  }

  // Children that are the application: ts-node's ESM entry and ts-node-dev's wrapper load the
  // script in their own process.
  it("not the launchers' children that run the script themselves", async () => {
    await pkg('ts-node', 'ts-node', 'dist/bin.js');
    expect(startsChildLauncher(await file('ts-node/dist/child/child-entrypoint.js'))).to.equal(
      false,
    );
    await pkg('ts-node-dev', 'ts-node-dev', 'lib/bin.js');
    expect(startsChildLauncher(await file('ts-node-dev/lib/wrap.js'))).to.equal(false);
  });

  // Plain ts-node runs the script in its own process: measured. With --esm among its own options
  // it starts a child instead; an application's argument named --esm does not count.
  it('ts-node: only with --esm before the script', async () => {
    const tsNode = await pkg('ts-node', 'ts-node', 'dist/bin.js');
    const linked = await link('ts-node', tsNode);
    for (const main of [tsNode, linked]) {
      expect(startsChildLauncher(main, ['server.ts']), main).to.equal(false);
      expect(startsChildLauncher(main, []), main).to.equal(false);
      expect(startsChildLauncher(main, ['--esm', 'server.mts']), main).to.equal(true);
      expect(startsChildLauncher(main, ['-T', '--esm', 'server.mts']), main).to.equal(true);
      expect(startsChildLauncher(main, ['server.ts', '--esm']), main).to.equal(false);
      expect(startsChildLauncher(main, ['--', '--esm']), main).to.equal(false);
    }
    const other = await pkg('app', 'app', 'dist/bin.js');
    expect(startsChildLauncher(other, ['--esm', 'server.mts'])).to.equal(false);
  });

  // ts-node reads its options with arg 4: one that takes a value takes the next argument, which
  // is not the script; `--esm=<anything>` is --esm. Its other programs take --esm alike.
  it("ts-node: --esm after an option's value, or as --esm=; by its other programs", async () => {
    const tsNode = await pkg('ts-node', 'ts-node', 'dist/bin.js');
    const esm = (args: string[]) => startsChildLauncher(tsNode, args);
    expect(esm(['-P', 'tsconfig.json', '--esm', 'server.mts'])).to.equal(true);
    expect(esm(['--project', 'tsconfig.json', '--esm', 'server.mts'])).to.equal(true);
    expect(esm(['--project=tsconfig.json', '--esm', 'server.mts'])).to.equal(true);
    expect(esm(['-r', 'dotenv/config', '-O', '{}', '--esm', 'server.mts'])).to.equal(true);
    expect(esm(['-Tr', 'dotenv/config', '--esm', 'server.mts'])).to.equal(true);
    expect(esm(['--esm=true', 'server.mts'])).to.equal(true);
    expect(esm(['-P', 'tsconfig.json', 'server.ts', '--esm'])).to.equal(false);
    expect(esm(['--project=tsconfig.json', 'server.ts', '--esm'])).to.equal(false);
    for (const bin of ['dist/bin-transpile.js', 'dist/bin-script.js', 'dist/bin-cwd.js']) {
      const program = join(scratch.dir, 'ts-node', bin);
      await file(join('ts-node', bin));
      expect(startsChildLauncher(program, ['--esm', 'server.mts']), bin).to.equal(true);
      expect(startsChildLauncher(program, ['server.ts']), bin).to.equal(false);
    }
    const transpileOnly = await link(
      'ts-node-transpile-only',
      join(scratch.dir, 'ts-node/dist/bin-transpile.js'),
    );
    expect(startsChildLauncher(transpileOnly, ['--esm', 'server.mts'])).to.equal(true);
  });

  it("not an application's launcher-named files, nor a link by a launcher's name to it", async () => {
    expect(startsChildLauncher(await pkg('mine', 'mine', 'bin/nodemon.js'))).to.equal(false);
    expect(startsChildLauncher(await pkg('app2', 'app2', 'dist/cli.mjs'))).to.equal(false);
    expect(startsChildLauncher(await pkg('app3', 'app3', 'lib/Daemon.js'))).to.equal(false);
    expect(startsChildLauncher(await file('loose/dist/bin/index.js'))).to.equal(false);
    expect(startsChildLauncher(await link('nodemon', await file('app/server.js')))).to.equal(false);
    expect(startsChildLauncher(await link('pm2', await file('app/index.js')))).to.equal(false);
  });

  it("yarn 2+ as one file: a project's checked-in release, corepack's download", async () => {
    expect(startsChildLauncher(await file('app/.yarn/releases/yarn-4.5.0.cjs'))).to.equal(true);
    const download = await file('corepack/v1/yarn/4.12.0/yarn.js');
    await file('corepack/v1/yarn/4.12.0/.corepack', '{"locator":{"name":"yarn"},"bin":["yarn"]}');
    expect(startsChildLauncher(download)).to.equal(true);
    expect(startsChildLauncher(await link('yarn', download))).to.equal(true);
  });

  it('not an application whose own files are named like one, nor a link to it', async () => {
    expect(startsChildLauncher(await file('app/npm.js'))).to.equal(false);
    expect(startsChildLauncher(await pkg('app', 'app', 'bin/npm-cli.js'))).to.equal(false);
    expect(startsChildLauncher(await pkg('other', 'other', 'bin/yarn.js'))).to.equal(false);
    expect(startsChildLauncher(await pkg('nameless', '', 'bin/pnpm.cjs'))).to.equal(false);
    expect(startsChildLauncher(await file('loose/bin/pnpm.cjs'))).to.equal(false);
    expect(startsChildLauncher(await link('npm', await file('app/server.js')))).to.equal(false);
    expect(startsChildLauncher(await file('app/scripts/yarn-4.5.0.cjs'))).to.equal(false);
    expect(startsChildLauncher(await file('app/yarn/yarn.js'))).to.equal(false);
    await file('app/y/.corepack', '{"locator":{"name":"pnpm"}}');
    expect(startsChildLauncher(await file('app/y/yarn.js'))).to.equal(false);
  });

  // Where the package's record cannot be read, the program is not taken for the manager's: the
  // application runs measured, and nothing throws out of register's first lines.
  it('not where its package.json cannot be read: a folder, not JSON, a name not a string', async () => {
    await mkdir(join(scratch.dir, 'folder', 'package.json'), { recursive: true });
    expect(startsChildLauncher(await file('folder/bin/npm-cli.js'))).to.equal(false);
    await file('broken/package.json', '{"name": "npm"');
    expect(startsChildLauncher(await file('broken/bin/npm-cli.js'))).to.equal(false);
    await file('listed/package.json', '{"name": ["npm"]}');
    expect(startsChildLauncher(await file('listed/bin/npm-cli.js'))).to.equal(false);
    await file('null/package.json', 'null');
    expect(startsChildLauncher(await file('null/bin/npm-cli.js'))).to.equal(false);
    await file('corrupt/.corepack', '{"locator": null');
    expect(startsChildLauncher(await file('corrupt/yarn.js'))).to.equal(false);
  });

  it('not a dangling link, nor a loop of links, named npm', async () => {
    expect(
      startsChildLauncher(await link('npm', join(scratch.dir, 'gone', 'npm-cli.js'))),
    ).to.equal(false);
    await symlink(join(scratch.dir, '.bin', 'npx'), join(scratch.dir, 'loop'));
    expect(startsChildLauncher(await link('npx', join(scratch.dir, 'loop')))).to.equal(false);
  });

  // Out of this check's platforms, such a path is a name like any other: false, not a throw.
  it('not a Windows path, by either separator', () => {
    const win = 'C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js';
    expect(startsChildLauncher(win)).to.equal(false);
    expect(startsChildLauncher(win.replaceAll('\\', '/'))).to.equal(false);
  });

  // Read from disk only for a manager's own names: an application's file, whatever it leads to.
  it("not an application's file by its own name, even one linked to npm's program", async () => {
    const npm = await pkg('npm', 'npm', 'bin/npm-cli.js');
    expect(startsChildLauncher(await link('server.js', npm))).to.equal(false);
  });

  it('not a file that is not there, nor none (the REPL, -e)', () => {
    expect(startsChildLauncher(join(scratch.dir, 'npm'))).to.equal(false);
    expect(startsChildLauncher(undefined)).to.equal(false);
    expect(startsChildLauncher('')).to.equal(false);
  });
});
