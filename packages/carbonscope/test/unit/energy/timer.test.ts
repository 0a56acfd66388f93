import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type TimerHandle, unrefTimer } from '../../../src/energy/index.js';
import { blockFor } from '../../helpers/held-loop.js';

describe('unrefTimer', () => {
  let dir: string;
  let server: Server;
  let client: Socket;
  let received: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-timer-'));
    const path = join(dir, 'sock');
    received = '';
    const accepted = new Promise<void>((resolve) => {
      server = createServer((socket) => {
        socket.setEncoding('utf8');
        socket.on('data', (text: string) => {
          received += text;
        });
        resolve();
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    client = createConnection(path);
    await accepted;
  });

  afterEach(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  // What came while the process was stopped (nvidia-smi's lines in its pipe) was read after the
  // sample of the overdue timer: read before, the sample covers it.
  for (const kind of ['once', 'every'] as const) {
    it(`${kind}: an overdue call comes after the I/O that waited meanwhile`, async () => {
      let seen: string | undefined;
      let handle: TimerHandle | undefined;
      const called = new Promise<void>((resolve) => {
        handle = unrefTimer[kind](1, () => {
          seen ??= received;
          resolve();
        });
      });
      // The data is in the socket before the loop turns again, with the timer overdue.
      client.write('line');
      blockFor(20);
      await called;
      handle?.cancel();
      expect(seen).to.equal('line');
    });
  }

  // stop() cancels the timer, then takes the last sample itself: a call already due must not
  // come after it.
  it('cancel() drops a call whose timer already fired', async () => {
    let calls = 0;
    const handle = unrefTimer.once(1, () => {
      calls++;
    });
    // Due just after the timer above: both run in one timers phase, before the check phase.
    setTimeout(() => handle.cancel(), 1);
    blockFor(10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).to.equal(0);
  });
});
