import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startsOwnCli } from '../../src/own-cli.js';
import { libraryRoot } from '../../src/paths.js';

describe("startsOwnCli: whether the main module is carbonscope's command", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-own-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A package `name` with a bin/carbonscope.js; returns that file. */
  async function pkg(name: string): Promise<string> {
    await mkdir(join(dir, name, 'bin'), { recursive: true });
    await writeFile(join(dir, name, 'package.json'), JSON.stringify({ name }));
    const bin = join(dir, name, 'bin', 'carbonscope.js');
    await writeFile(bin, '');
    return bin;
  }

  it("this package's bin, named or by npm's link", async () => {
    const bin = join(libraryRoot, 'bin', 'carbonscope.js');
    expect(startsOwnCli(bin)).to.equal(true);
    await symlink(bin, join(dir, 'carbonscope'));
    expect(startsOwnCli(join(dir, 'carbonscope'))).to.equal(true);
  });

  it("another copy's bin (another version in node_modules)", async () => {
    expect(startsOwnCli(await pkg('carbonscope'))).to.equal(true);
  });

  it('not an application, nor a file of that name in another package, nor none', async () => {
    expect(startsOwnCli(await pkg('other'))).to.equal(false);
    expect(startsOwnCli(join(dir, 'app.js'))).to.equal(false);
    expect(startsOwnCli(join(dir, 'carbonscope'))).to.equal(false);
    expect(startsOwnCli(undefined)).to.equal(false);
  });
});
