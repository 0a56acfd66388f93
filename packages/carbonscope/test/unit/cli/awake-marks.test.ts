import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { AwakeMarks } from '../../../src/cli/awake-marks.js';
import { waitForEnd } from '../../../src/cli/run.js';
import { blockFor, loopbackPair } from '../../helpers/held-loop.js';

describe('run: when the command ended, where carbonscope was stopped', () => {
  it('knows the end precisely where the loop ran on time to it', () => {
    const marks = new AwakeMarks(0, 1500);
    for (let t = 250; t <= 5000; t += 250) marks.tick(t);
    expect(marks.unseenSince(5100)).to.equal(undefined);
  });

  // A 2 s command under a run stopped from 1 s to 9 s read "exited ... after 9.07 s".
  it('gives the time since the loop last ran before a stop it has just woken from', () => {
    const marks = new AwakeMarks(0, 1500);
    for (let t = 250; t <= 1000; t += 250) marks.tick(t);
    // The exit seen before any tick after the stop (the poll phase comes first on waking)...
    expect(marks.unseenSince(9000)).to.equal(1000);
    // ...or after the overdue tick of the same wake.
    marks.tick(9000);
    expect(marks.unseenSince(9001)).to.equal(1000);
    // Ticks on time again since: an exit seen now is now.
    for (let t = 9250; t <= 11_000; t += 250) marks.tick(t);
    expect(marks.unseenSince(11_100)).to.equal(undefined);
  });

  // An exit during the gap is seen in the wake's first poll, before the next tick: once one
  // came on time, the end is known again (a block of 1 s to 3 s and an exit at 4.1 s read
  // "between 1 s and 4.1 s").
  it('knows the end precisely again once a tick came on time after the gap', () => {
    const marks = new AwakeMarks(0, 1500);
    for (let t = 250; t <= 1000; t += 250) marks.tick(t);
    marks.tick(3000);
    marks.tick(3250);
    expect(marks.unseenSince(3300)).to.equal(undefined);
    for (let t = 3500; t <= 4000; t += 250) marks.tick(t);
    expect(marks.unseenSince(4100)).to.equal(undefined);
  });

  // Node runs expired timers before it polls for I/O: an exit handled in that phase took the
  // last sample before the lines nvidia-smi printed meanwhile were read from its pipe.
  it('tells the exit after the I/O of the turn it was seen in', async () => {
    const { client, peer, close } = await loopbackPair();
    let received = '';
    client.setEncoding('utf8');
    client.on('data', (text: string) => {
      received += text;
    });
    try {
      const child = new EventEmitter();
      let seen: string | undefined;
      const told = waitForEnd(child).then((ended) => {
        seen = received;
        return ended;
      });
      // The exit comes in the timers phase, with a line waiting in the socket.
      setTimeout(() => child.emit('exit', 0, null), 1);
      peer.write('line');
      blockFor(20);
      expect(await told).to.deep.equal({ kind: 'exit', code: 0, signal: null });
      expect(seen).to.equal('line');
    } finally {
      close();
    }
  });

  // Node emits `error` on a started child too: a signal it could not be sent (EPERM, to a
  // setuid command when Ctrl-C is passed on). Taken as the end, the run was told "command not
  // found" while the command ran on, and its session was not pushed.
  it('runs on past the error of a command that started, to its exit', async () => {
    const child = Object.assign(new EventEmitter(), { pid: 4242 });
    const late: string[] = [];
    const told = waitForEnd(child, (error) => late.push(String(error.code)));
    const failedKill = Object.assign(new Error('kill EPERM'), { code: 'EPERM', syscall: 'kill' });
    child.emit('error', failedKill);
    setTimeout(() => child.emit('exit', 0, null), 5);
    expect(await told).to.deep.equal({ kind: 'exit', code: 0, signal: null });
    expect(late).to.deep.equal(['EPERM']);
  });

  it('ends at the error of a command that never started', async () => {
    const child = new EventEmitter();
    const missing = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    const told = waitForEnd(child);
    child.emit('error', missing);
    expect(await told).to.deep.equal({ kind: 'error', error: missing });
  });
});
