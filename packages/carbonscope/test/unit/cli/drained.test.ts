import { Writable } from 'node:stream';
import { expect } from 'chai';
import { drainedOrStopped } from '../../../src/cli/drained.js';

/** A stream whose reader never takes anything: a write's callback never comes. */
function neverRead(): Writable {
  return new Writable({ write: () => undefined });
}

/** Whether `promise` has settled by the next turn of the loop. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('drainedOrStopped', () => {
  it('waits while the reader takes nothing, and resolves once it has taken all', async () => {
    // Takes nothing until `reading`, then all it holds and all it is given.
    let reading = false;
    const held: Array<() => void> = [];
    const stream = new Writable({
      write: (_chunk, _enc, callback) => {
        if (reading) callback();
        else held.push(callback);
      },
    });
    stream.write('x');
    const drained = drainedOrStopped(stream);
    expect(await settled(drained)).to.equal(false);
    reading = true;
    for (const callback of held.splice(0)) callback();
    expect(await settled(drained)).to.equal(true);
  });

  // main.ts waits on stdout, then on stderr: a supervisor's one SIGTERM while stdout was unread
  // ended that wait, and the next one (stderr, unread as well) waited for another.
  it('one stop signal ends this wait and every one after it', async () => {
    // The suite's own SIGTERM listeners (a temporary folder's cleanup) are set aside meanwhile:
    // the signal is emitted in this process.
    const others = process.rawListeners('SIGTERM') as Array<(...args: unknown[]) => void>;
    process.removeAllListeners('SIGTERM');
    try {
      const first = drainedOrStopped(neverRead());
      expect(await settled(first)).to.equal(false);
      process.emit('SIGTERM', 'SIGTERM');
      expect(await settled(first)).to.equal(true);
      expect(await settled(drainedOrStopped(neverRead()))).to.equal(true);
      expect(process.listenerCount('SIGTERM')).to.equal(0);
    } finally {
      for (const listener of others) process.on('SIGTERM', listener);
    }
  });
});
