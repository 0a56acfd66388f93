// `carbonscope/register` where the resolver knows no `module-sync` condition (package.json's
// exports), by --import or -r. On a Node carbonscope cannot run on: one line, and the application
// runs unmetered, as register says of its other failures (the rest would stop it deep inside).
// Elsewhere (a bundler under conditions that drop `module`, a resolver of its own) the whole of
// register at once, as before, by a require() a bundler follows (register.js's it cannot).
import { unsupportedNode } from './supported-node.cjs';

const why = unsupportedNode();
if (why === undefined) require('./register-eager.js');
else
  process.stderr.write(
    `carbonscope: error: carbonscope/register: ${why}; the application runs unmetered\n`,
  );
