import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Runs a shell line, `$0` the node binary and `$1` the CLI, `$2` `file`: what it left there. */
function shell(line: string, file: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', line, process.execPath, MAIN, file], { env: ENV }, (err) =>
      resolve(err ? (typeof err.code === 'number' ? err.code : null) : 0),
    );
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

  // Only a command that never started is let go: one that started and ended 127 itself (a
  // shell's own `command not found`) ran, and its session is pushed as any other's.
  it('still pushes a run whose command started and then exited 127 itself', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--otlp', receiver.url, '--', 'sh', '-c', 'exit 127']);
      expect(r.code, r.stderr).to.equal(127);
      expect(receiver.pushes.length, r.stderr).to.be.greaterThan(0);
    } finally {
      await receiver.close();
    }
  });

  // The command writes to the same file directly (it inherits stdout and stderr): `printf abc`
  // left `abc{` there, whose JSON no reader could parse, and `abccarbonscope: ...` of 2>&1.
  it("starts its JSON and its summary on a line of their own after a command's unended one", async () => {
    const file = join(dir, 'shared.txt');
    for (const [command, printed] of [
      ['printf abc', 'abc\n'],
      ['echo abc', 'abc\n'],
      ['true', ''],
    ]) {
      expect(await shell(`"$0" "$1" run --json -- ${command} >"$2" 2>/dev/null`, file)).to.equal(0);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(`${printed}{`), `${command}: ${text}`).to.equal(true);
      expect(JSON.parse(text.slice(printed.length)).command, text).to.equal('run');
      expect(await shell(`"$0" "$1" run -- ${command} >"$2" 2>&1`, file)).to.equal(0);
      const together = readFileSync(file, 'utf8');
      expect(together.startsWith(`${printed}carbonscope: \``), together).to.equal(true);
    }
  });
});
