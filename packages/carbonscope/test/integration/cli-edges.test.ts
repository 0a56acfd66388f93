import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cliEnv } from '../helpers/cli-env.js';
import { otlpReceiver } from '../helpers/otlp-receiver.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ENV = cliEnv({ ENERGY_SAMPLE_INTERVAL_MS: '250' });

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`, its stdin empty; `env` over the test's. */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Ended> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...ENV, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

describe('the CLI at its edges', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-cli-edges-');

  // Each pushed the host's figures of a session whose command never ran, under a run id no
  // report or CSV row names (none is written), as if a run of 0 s had happened.
  it('pushes nothing to --otlp for a command that could not start', async () => {
    const noX = join(dir, 'not-executable.sh');
    writeFileSync(noX, '#!/bin/sh\n', { mode: 0o644 });
    const badInterpreter = join(dir, 'bad-interpreter.sh');
    writeFileSync(badInterpreter, '#!/no/such/sh\n', { mode: 0o755 });
    const receiver = await otlpReceiver();
    try {
      for (const [command, code] of [
        ['carbonscope-no-such-command-xyz', 127],
        [noX, 126],
        [badInterpreter, 127],
      ] as const) {
        const r = await cli(['run', '--json', '--otlp', receiver.url, '--', command]);
        expect(r.code, r.stderr).to.equal(code);
        expect(r.stdout, command).to.equal('');
        expect(r.stderr.split('\n').filter(Boolean), command).to.have.length(1);
      }
      expect(receiver.pushes).to.have.length(0);
    } finally {
      await receiver.close();
    }
  });
});
