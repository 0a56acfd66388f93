// Imported first by carbonscope's entry: ES modules evaluate in import order, so on a Node that
// cannot run it this throws the version needed before the modules that would fail deep inside.
// An ES module, not CommonJS: Node 18's loader reports a CommonJS module's throw a second time,
// uncaught, even where the import() that loaded it was caught.
import { refuseUnsupportedNode } from './supported-node.cjs';

refuseUnsupportedNode();
