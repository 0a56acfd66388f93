import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { alternatingRounds } from '../../bench/rounds.js';

describe('bench: alternating rounds', function () {
  this.timeout(20_000);

  it("does not measure the load right after a contender's switch: it settles first, unmeasured", async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // What the server answered from each switch on: the settling load and the measured one.
    const sinceSwitch: number[] = [];
    let atSwitch = 0;
    const switched = async () => {
      if (sinceSwitch.length > 0 || atSwitch > 0) sinceSwitch.push(served - atSwitch);
      atSwitch = served;
    };
    try {
      const { runs } = await alternatingRounds(
        [
          {
            key: 'switched',
            label: 'a contender that switches the server',
            url,
            pid: process.pid,
            requests: [{ path: '/' }],
            before: switched,
            settleSeconds: 1,
          },
        ],
        { warmupSeconds: 0.5, rounds: 1, seconds: 1, connections: 2 },
        () => {},
      );
      await switched(); // closes the last round's count
      const measured = runs.get('switched')?.[0]?.total ?? 0;
      const round = sinceSwitch.at(-1) ?? 0;
      expect(measured).to.be.greaterThan(0);
      // A second of settling load at this rate is hundreds of requests; without it the round
      // served what was measured and at most the two connections' last requests besides.
      expect(
        round - measured,
        `${round} served since the switch, ${measured} measured`,
      ).to.be.greaterThan(50);
    } finally {
      server.close();
    }
  });
});
