import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import {
  lineSplitter,
  MAX_LINE_CHARS,
  spawnLineChild,
} from '../../../../src/energy/sources/line-child.js';
import { waitFor } from '../../../helpers/wait.js';
import { fakePid, isAlive, tempDir, writeFakeBinary } from './helpers.js';

function procStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

describe('energy/sources/line-child', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('line-child'));
  });
  afterEach(() => cleanup());

  // On the H200, `nvidia-smi -lms 1000` and `pmon -d 1` ended ~700 ms after SIGTERM: they act
  // on it at their next tick (tools/device/exit-time.mjs, 300 ms after the first line). That was
  // most of the second `run -- true` spent beside a GPU, after the last sample had been taken.
  it('stop() does not wait for a reader that honours SIGTERM only at its next 1 s tick', async () => {
    const binary = writeFakeBinary(
      dir,
      'reader',
      `let asked = false;
process.on('SIGTERM', () => { asked = true; });
const tick = () => { if (asked) process.exit(0); process.stdout.write('line\\n'); };
tick();
setInterval(tick, 60_000);`,
    );
    let first: () => void = () => undefined;
    const lined = new Promise<void>((resolve) => {
      first = resolve;
    });
    let ended: NodeJS.Signals | number | null = null;
    const child = spawnLineChild(binary, [], {
      onLine: () => first(),
      onExit: (code, signal) => {
        ended = signal ?? code;
      },
    });
    await lined;
    await child.stop();
    // Its next tick is a minute away (past mocha's timeout): ended by the SIGKILL after the
    // grace, not by its own exit at that tick. A wall-clock bound missed on a loaded machine.
    expect(ended).to.equal('SIGKILL');
  });

  // A child stuck in the kernel (D state: a hung driver ioctl) cannot die, SIGKILL included, so
  // it never sends 'close': stop(), so the meter's stop and the end of `carbonscope run`, waited
  // for ever. After the last grace it is let go of: pipes destroyed, unref'd, said once.
  it('stop() resolves for a child that never ends, lets go of it and says so once', async () => {
    const signals: [number, string][] = [];
    const refs: string[] = [];
    const fake = Object.assign(new EventEmitter(), {
      pid: 424242,
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      kill: () => true,
      ref: () => refs.push('ref'),
      unref: () => refs.push('unref'),
    });
    const detached: number[] = [];
    const exitHooksBefore = process.listeners('exit').length;
    const child = spawnLineChild(
      'stuck-reader',
      [],
      { onLine: () => undefined, onExit: () => undefined, onDetach: (pid) => detached.push(pid) },
      {
        spawn: () => fake as unknown as ChildProcess,
        kill: (pid, signal) => void signals.push([pid, signal]),
      },
    );
    await child.stop(5);
    expect(signals).to.deep.equal([
      [-424242, 'SIGTERM'],
      [-424242, 'SIGKILL'],
    ]);
    expect(detached).to.deep.equal([424242]);
    expect(fake.stdout.destroyed && fake.stderr.destroyed).to.equal(true);
    // Held while stop() waited, let go of after: the process may end without it.
    expect(refs.at(-1)).to.equal('unref');
    expect(process.listeners('exit').length).to.equal(exitHooksBefore);
    await child.stop(5);
    expect(detached).to.have.length(1);
    expect(signals).to.have.length(2);
  });

  // A reader that prints without a newline (a binary dumping garbage, a wedged tool repeating a
  // prompt) grew the pending text for as long as it ran: memory without bound, and at the end
  // one huge "line" handed to the parser.
  it('drops a line longer than MAX_LINE_CHARS without holding it, and reads on after it', async () => {
    const binary = writeFakeBinary(
      dir,
      'reader',
      `const chunk = 'x'.repeat(64 * 1024);
let left = ${Math.ceil((MAX_LINE_CHARS * 4) / (64 * 1024))};
const more = () => {
  if (left-- > 0) return process.stdout.write(chunk, more);
  process.stdout.write('\\nok\\n', () => process.exit(0));
};
more();`,
    );
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      spawnLineChild(binary, [], { onLine: (l) => lines.push(l), onExit: () => resolve() });
    });
    expect(lines.map((l) => l.length)).to.deep.equal([2]);
    expect(lines).to.deep.equal(['ok']);
  });

  describe('lineSplitter', () => {
    const split = (chunks: readonly string[]): string[] => {
      const lines: string[] = [];
      const push = lineSplitter((l) => lines.push(l));
      for (const c of chunks) push(c);
      return lines;
    };
    const atLimit = 'a'.repeat(MAX_LINE_CHARS);

    it('a line of exactly MAX_LINE_CHARS is handed over, one more is dropped, in one chunk or many', () => {
      const over = `${atLimit}b`;
      const text = `${atLimit}\n${over}\nok\n`;
      expect(split([text]).map((l) => l.length)).to.deep.equal([MAX_LINE_CHARS, 2]);
      const cuts = [1, MAX_LINE_CHARS, MAX_LINE_CHARS + 1, 2 * MAX_LINE_CHARS + 1, text.length - 2];
      const chunks = cuts.map((c, i) => text.slice(i === 0 ? 0 : cuts[i - 1], c));
      chunks.push(text.slice(cuts[cuts.length - 1]));
      expect(chunks.join('')).to.equal(text);
      expect(split(chunks).map((l) => l.length)).to.deep.equal([MAX_LINE_CHARS, 2]);
    });

    // A CRLF line at the limit whose \r ends one chunk and \n starts the next was held as one
    // character over the limit, and dropped; the same line in one chunk was handed over.
    it('a CRLF line of exactly MAX_LINE_CHARS is handed over when its \\r and \\n come apart', () => {
      expect(split([`${atLimit}\r\nok\r\n`]).map((l) => l.length)).to.deep.equal([
        MAX_LINE_CHARS,
        2,
      ]);
      expect(split([`${atLimit}\r`, '\nok\r\n']).map((l) => l.length)).to.deep.equal([
        MAX_LINE_CHARS,
        2,
      ]);
    });
  });

  // setEncoding('utf8') decodes across chunks: a character cut between two writes is whole.
  it('a multibyte character split between two writes comes whole', async () => {
    const binary = writeFakeBinary(
      dir,
      'reader',
      `const b = Buffer.from('€uro ☃\\n', 'utf8');
process.stdout.write(b.subarray(0, 2), () => setTimeout(() => {
  process.stdout.write(b.subarray(2, 6), () => setTimeout(() => {
    process.stdout.write(b.subarray(6), () => process.exit(0));
  }, 50));
}, 50));`,
    );
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      spawnLineChild(binary, [], { onLine: (l) => lines.push(l), onExit: () => resolve() });
    });
    expect(lines).to.deep.equal(['€uro ☃']);
  });

  // A binary that cannot start has no pid: nothing may be signalled, least of all -undefined
  // (NaN) or a group of ours (kill(0) and kill(-our pid) would end this very process's group).
  it('a reader that cannot start: stop() and the exit hook signal nothing', async () => {
    const kills: unknown[][] = [];
    const kill = process.kill;
    const exitHooksBefore = process.listeners('exit');
    process.kill = ((...a: unknown[]) => {
      kills.push(a);
      return true;
    }) as typeof process.kill;
    try {
      let ended: (e: unknown) => void = () => undefined;
      const error = new Promise<unknown>((resolve) => {
        ended = resolve;
      });
      const child = spawnLineChild(join(dir, 'no-such-reader'), [], {
        onLine: () => undefined,
        onExit: (_c, _s, err) => ended(err),
      });
      // Before the spawn error is told, as at a process exit right after the spawn.
      const hook = process.listeners('exit').find((l) => !exitHooksBefore.includes(l));
      expect(hook, 'an exit hook').to.be.a('function');
      (hook as () => void)();
      await child.stop();
      expect(((await error) as NodeJS.ErrnoException).code).to.equal('ENOENT');
      expect(child.pid).to.equal(undefined);
      await child.stop();
      expect(kills).to.deep.equal([]);
    } finally {
      process.kill = kill;
    }
  });

  // A reader that is a wrapper (a shell script around the vendor tool, without exec) leaves the
  // tool as a grandchild holding stdout: SIGTERM and SIGKILL went to the wrapper alone, the pipe
  // never closed, and stop() (so the meter's stop, and `run`'s end) waited for ever.
  it('stop() ends a wrapper and the reader it started, which holds the pipe', async () => {
    const binary = writeFakeBinary(
      dir,
      'wrapper',
      `const { spawn } = require('node:child_process');
const tool = spawn(process.execPath, ['-e', "require('node:fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => process.stdout.write('line\\\\n'), 50);", ${JSON.stringify(join(dir, 'tool.pid'))}], { stdio: ['ignore', 'inherit', 'inherit'] });
setInterval(() => undefined, 1000);`,
    );
    let first: () => void = () => undefined;
    const lined = new Promise<void>((resolve) => {
      first = resolve;
    });
    const child = spawnLineChild(binary, [], { onLine: () => first(), onExit: () => undefined });
    await lined;
    const tool = fakePid(dir, 'tool');
    const stopped = await Promise.race([
      child.stop().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    // Orphaned, it is reaped by whoever adopts it: a zombie until then, which is no reader.
    const running = () => isAlive(tool) && !/^State:\s+Z/m.test(procStatus(tool));
    const toolAlive = await waitFor('the tool to end', () => !running(), 1000).then(
      () => false,
      () => true,
    );
    if (toolAlive) process.kill(tool, 'SIGKILL');
    expect({ stopped, toolAlive }).to.deep.equal({ stopped: true, toolAlive: false });
  });
});
