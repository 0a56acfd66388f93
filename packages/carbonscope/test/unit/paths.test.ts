import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
