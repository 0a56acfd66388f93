// `node --import carbonscope/register app.js` and `import 'carbonscope/register'`: register.ts's
// work, for an import. register-eager.ts's ~250 modules are loaded on the main thread only, and
// by import(), awaited, where register.ts require()s them: Node 20's require() of an ES module
// resolves that module's imports with its own resolver, past the loader's hooks, so under Yarn
// Plug'n'Play (packages in zip archives that only its loader reaches) it found none of them and
// the application ran unmetered. The await holds the application's modules until register has
// acted, as the synchronous require() did. package.json gives this file to `import` under the
// `module-sync` condition only, which bundlers do not know: a top-level await cannot go in a
// CommonJS bundle, and `-r` takes register.js, since require() refuses a top-level await.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) await loadRest();

/** register-eager.js, imported; a load that throws stops nothing: one line, as register.ts's. */
async function loadRest(): Promise<void> {
  try {
    if (!(await standsDown())) await import('./register-eager.js');
  } catch (err) {
    await tell(err);
  }
}

/** register-unmetered's line where that loads; else stderr, as register.ts writes it. */
async function tell(err: unknown): Promise<void> {
  try {
    const { tellUnmetered } = await import('./register-unmetered.js');
    tellUnmetered(err, 'import');
  } catch {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(
      `carbonscope: error: carbonscope/register: ${reason}; the application runs unmetered\n`,
    );
  }
}

/** Where register-eager would do nothing, its load is not paid either (see register.ts). */
async function standsDown(): Promise<boolean> {
  try {
    const { registerRole } = await import('./register-role.js');
    return registerRole() === 'stands-down';
  } catch {
    return false;
  }
}
