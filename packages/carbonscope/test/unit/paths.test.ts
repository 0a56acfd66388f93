import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { dataFile, isOwnPackage, libraryRoot } from '../../src/paths.js';

describe('the data folder', () => {
  it("is the package's own: its package.json names carbonscope", () => {
    expect(isOwnPackage(libraryRoot)).to.equal(true);
    expect(dataFile('llm', 'models.json')).to.equal(
      join(libraryRoot, 'data', 'llm', 'models.json'),
    );
  });

  // Inlined by a bundler, '../..' of the bundle is the application's folder, tables and all.
  it("is not an application's folder that holds a data/llm/ of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-paths-'));
    try {
      cpSync(join(libraryRoot, 'data'), join(dir, 'data'), { recursive: true });
      expect(isOwnPackage(dir)).to.equal(false);
      writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"9.9.9"}');
      expect(isOwnPackage(dir)).to.equal(false);
      writeFileSync(join(dir, 'package.json'), '["carbonscope"]');
      expect(isOwnPackage(dir)).to.equal(false);
      writeFileSync(join(dir, 'package.json'), '{"name":"carbonscope"}');
      expect(isOwnPackage(dir)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the library's code, as bundlers read it", () => {
  // Bundlers take `new URL('<literal>', import.meta.url)` for an asset to copy, and Turbopack
  // (next build's bundler from Next 16) follows a const that holds import.meta.url: it failed the
  // build of any Next route that imported carbonscope (`Module not found: Can't resolve '../..'`,
  // paths.js). webpack (next build --webpack) built it.
  it('names no file by a literal URL beside its own', () => {
    const literalUrl = /new URL\(\s*(['"`])[^'"`]*\1\s*,/;
    const found = readdirSync(join(libraryRoot, 'dist', 'src'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.js'))
      .filter((file) =>
        literalUrl.test(readFileSync(join(libraryRoot, 'dist', 'src', file), 'utf8')),
      );
    expect(found).to.deep.equal([]);
  });
});
