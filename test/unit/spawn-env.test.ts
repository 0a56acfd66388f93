import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { serviceEnv } from '../helpers/spawn-server.js';

// `npm test` gives each run a temporary folder of its own and fails on what is left in it
// (tools/fresh-tmpdir.sh); a spawned service that wrote to /tmp instead escaped that check.
describe('test helpers: the environment of a spawned service', () => {
  it("keeps the run's TMPDIR", () => {
    const before = process.env.TMPDIR;
    const runDir = mkdtempSync(join(tmpdir(), 'carbonscope-run-'));
    process.env.TMPDIR = runDir;
    try {
      const seen = execFileSync(
        process.execPath,
        ['-e', "console.log(require('node:os').tmpdir())"],
        { env: serviceEnv(), encoding: 'utf8' },
      );
      expect(seen.trim()).to.equal(runDir);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
