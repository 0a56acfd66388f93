// `carbonscope/register` by -r where the resolver knows no `module-sync` condition (package.json's
// exports): on a Node without require(esm), one line, and the application runs unmetered.
// Elsewhere (a bundler under conditions that drop `module`, a resolver of its own) the whole of
// register at once, as before, by a require() a bundler follows (register.js's it cannot), and
// which runs where an import would.
import {
  importWithoutAddons,
  refusedRequireOfEsm,
  registerUnmetered,
  registerUnsupported,
  unsupportedNode,
} from './supported-node.cjs';

if (!registerUnsupported('import')) {
  try {
    require('./register-eager.js');
  } catch (err) {
    if (!(refusedRequireOfEsm(err) && registerUnmetered(whyNotRequired()))) throw err;
  }
}

/**
 * Why Node refused the require(): a -r's, or an import's that `--no-addons` sent here. Node's ES
 * loader gives a CommonJS module it loads no parent (a -r's is `internal/preload`); the import
 * found this file, not register-import.js, only because `node-addons` was off.
 */
function whyNotRequired(): string | undefined {
  return module.parent === undefined ? importWithoutAddons() : unsupportedNode('require');
}
