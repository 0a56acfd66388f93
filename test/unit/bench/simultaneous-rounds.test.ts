import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { addedInRounds, type RoundResult } from '../../bench/rounds.js';
import { simultaneousRounds } from '../../bench/simultaneous-rounds.js';

/** A server that writes its `key` to `answered` as it answers each request. */
async function notingServer(
  key: string,
  answered: string[],
): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    answered.push(key);
    res.end('ok');
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** How often the server that answered changed, request to request. */
function switches(answered: string[]): number {
  return answered.filter((key, i) => i > 0 && key !== answered[i - 1]).length;
}

const round = (cpuMicrosPerRequest: number) => ({ cpuMicrosPerRequest }) as RoundResult;

describe('bench: simultaneous rounds', function () {
  this.timeout(20_000);

  it('loads every contender at the same moments, not one after the other', async () => {
    const answered: string[] = [];
    const a = await notingServer('a', answered);
    const b = await notingServer('b', answered);
    try {
      const contender = (key: string, url: string) => ({
        key,
        label: key,
        url,
        pid: process.pid,
        requests: [{ path: '/' }],
      });
      const { runs } = await simultaneousRounds(
        [contender('a', a.url), contender('b', b.url)],
        { warmupSeconds: 0.5, rounds: 2, seconds: 1, connections: 2 },
        () => {},
      );
      expect(runs.get('a')).to.have.length(2);
      expect(runs.get('b')?.every((r) => r.total > 0 && r.cpuMicrosPerRequest > 0)).to.equal(true);
      // A warm-up and 2 rounds: taking turns, the answering server changed 5 times at most.
      expect(switches(answered), `${answered.length} answers`).to.be.greaterThan(20);
    } finally {
      a.server.close();
      b.server.close();
    }
  });

  it('refuses a contender that switches its server: there is no turn to switch it in', async () => {
    const switching = {
      key: 'switched',
      label: 'a switched server',
      url: 'http://127.0.0.1:9',
      pid: process.pid,
      requests: [{ path: '/' }],
      before: async () => {},
    };
    let error: unknown;
    try {
      await simultaneousRounds(
        [switching],
        { warmupSeconds: 0.1, rounds: 1, seconds: 0.1, connections: 1 },
        () => {},
      );
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/a switched server: simultaneous rounds take no switch/);
  });

  it("takes what one costs more than the other round by round, whatever the machine's drift", () => {
    // The machine's drift moves both alike from one round to the next.
    const base = [10, 50, 30, 70, 20].map(round);
    const subject = [13, 52, 31, 74, 22].map(round);
    expect(addedInRounds(subject, base)).to.equal(2);
  });
});
