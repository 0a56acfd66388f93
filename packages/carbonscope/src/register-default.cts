// `carbonscope/register` by -r where the resolver knows no `module-sync` condition (package.json's
// exports): on a Node without require(esm), one line, and the application runs unmetered.
// Elsewhere (a bundler under conditions that drop `module`, a resolver of its own) the whole of
// register at once, as before, by a require() a bundler follows (register.js's it cannot), and
// which runs where an import would.
import { refusedRequireOfEsm, registerUnsupported } from './supported-node.cjs';

if (!registerUnsupported('import')) {
  try {
    require('./register-eager.js');
  } catch (err) {
    if (!(refusedRequireOfEsm(err) && registerUnsupported('require'))) throw err;
  }
}
