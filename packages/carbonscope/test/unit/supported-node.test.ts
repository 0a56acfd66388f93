import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { SUPPORTED_NODE, unsupportedNode } from '../../src/supported-node.cjs';

describe('unsupportedNode', () => {
  it("is package.json's engines.node: the range checked is the range promised", () => {
    const pkg = JSON.parse(readFileSync(join(libraryRoot, 'package.json'), 'utf8'));
    expect(pkg.engines.node).to.equal(SUPPORTED_NODE);
  });

  // 20.19 and 22.12 brought require(esm) unflagged; 21 never had it.
  for (const version of ['20.19.0', '20.20.2', '22.12.0', '23.0.0', '24.22.3', '30.1.0']) {
    it(`lets Node ${version} import and require carbonscope`, () => {
      expect(unsupportedNode('import', version)).to.equal(undefined);
      expect(unsupportedNode('require', version)).to.equal(undefined);
    });
  }

  // process.getBuiltinModule, which carbonscope's modules call as they load, came in 22.3.
  for (const version of ['22.3.0', '22.11.0']) {
    it(`lets Node ${version} import carbonscope, and says require() needs 22.12`, () => {
      expect(unsupportedNode('import', version)).to.equal(undefined);
      expect(unsupportedNode('require', version)).to.equal(
        `require('carbonscope') needs Node.js ^20.19.0 || >=22.12.0 (require of an ES module); this is Node.js v${version}: import it, or start with --import carbonscope/register`,
      );
    });
  }

  for (const version of [
    '16.20.2',
    '18.20.8',
    '20.0.0',
    '20.10.0',
    '20.18.3',
    '21.7.3',
    '22.2.0',
  ]) {
    it(`names the range needed and Node ${version}, however it is loaded`, () => {
      const needed = `carbonscope needs Node.js ^20.19.0 || >=22.3.0; this is Node.js v${version}`;
      expect(unsupportedNode('import', version)).to.equal(needed);
      expect(unsupportedNode('require', version)).to.equal(needed);
    });
  }

  it('reads the running Node by default, as an import', () => {
    expect(unsupportedNode()).to.equal(unsupportedNode('import', process.versions.node));
  });
});
