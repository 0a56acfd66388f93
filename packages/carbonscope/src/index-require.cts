// `require('carbonscope')` where Node does not know the `module-sync` condition (package.json's
// exports): a Node without require(esm), told the version needed rather than ERR_REQUIRE_ESM, and
// a bundler's require(), which takes the library itself (and runs where an import would).
import { refusedRequireOfEsm, refuseUnsupportedNode } from './supported-node.cjs';

refuseUnsupportedNode();

/** The library, or the version a require() of it needs where Node refused it. */
function library(): typeof import('./index.js') {
  try {
    return require('./index.js');
  } catch (err) {
    if (refusedRequireOfEsm(err)) refuseUnsupportedNode('require');
    throw err;
  }
}

export = library();
