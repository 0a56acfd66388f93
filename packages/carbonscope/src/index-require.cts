// `require('carbonscope')` where Node does not know the `module-sync` condition (package.json's
// exports): a Node without require(esm), told the version needed rather than ERR_REQUIRE_ESM, and
// a bundler's require(), which takes the library itself.
import { refuseUnsupportedNode } from './supported-node.cjs';

refuseUnsupportedNode('require');
export = require('./index.js');
