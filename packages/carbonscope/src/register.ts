// `node --import carbonscope/register app.js` (or `-r`, or NODE_OPTIONS) under Node's own loader:
// register-eager.ts's ~250 modules are loaded on the main thread only. A worker thread inherits
// --import and register does nothing there, so it would pay that load at each start for nothing
// (a pool's worker started in 0.35 s instead of 0.05). Loaded by require(esm), synchronously:
// register acts before the application's modules load (its route resolvers, its word to
// instrumentation), which an unawaited import() would not ensure, and a top-level await would make
// `-r carbonscope/register` refuse this file (ERR_REQUIRE_ASYNC_MODULE). package.json gives this
// file under the `module-sync` condition only (Node with require(esm)): bundlers, which cannot
// follow a createRequire, and older Node take register-eager.js itself.
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) createRequire(import.meta.url)('./register-eager.js');
