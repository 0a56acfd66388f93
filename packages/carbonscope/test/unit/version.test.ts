import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';

describe('VERSION', () => {
  // A constant, not read from package.json at run time: a bundle has no package.json beside it.
  it("is the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(libraryRoot, 'package.json'), 'utf8'));
    expect(VERSION).to.equal(pkg.version);
  });
});
