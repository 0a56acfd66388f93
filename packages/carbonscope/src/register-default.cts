// `carbonscope/register` where Node does not know the `module-sync` condition (package.json's
// exports), by --import or -r: on a Node carbonscope cannot run on, one line and the application
// runs unmetered, as register says of its other failures (the rest would stop it deep inside).
// Elsewhere (a resolver of its own that takes `default`) it does what register.js does.
import { unsupportedNode } from './supported-node.cjs';

const why = unsupportedNode();
if (why === undefined) require('./register.js');
else
  process.stderr.write(
    `carbonscope: error: carbonscope/register: ${why}; the application runs unmetered\n`,
  );
