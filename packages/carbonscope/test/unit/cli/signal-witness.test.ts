import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { processGroupOf } from '../../../src/cli/signal-witness.js';

describe('cli: the process group of a process', () => {
  it('is read right where the command name holds `) ` and spaces', async function () {
    if (process.platform !== 'linux') this.skip();
    // Node sets the command name (/proc/<pid>/stat's second field) to the title, cut to 15 bytes.
    const child = spawn(
      process.execPath,
      ['-e', "process.title = 'a) b c ) 1 2'; console.log('ready'); setInterval(() => {}, 1000)"],
      { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await once(child.stdout, 'data');
      const pid = child.pid ?? 0;
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).to.match(/^\d+ \(a\) b c \) 1 2\) /);
      // detached: the child leads a group of its own, so the answer is no inherited number.
      expect(processGroupOf(pid)).to.equal(pid);
      const ps = Number(
        execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }),
      );
      expect(processGroupOf(pid)).to.equal(ps);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
