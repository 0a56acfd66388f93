import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { addedInRounds, addedPercent, alternatingRounds } from '../../bench/rounds.js';

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

  it('gives the CPU added as a share of the base that agrees with the µs it is printed beside', () => {
    // Run AS's nine side-by-side rounds of Express alone and under `register` (µs per request):
    // paired, the rounds say +13.0 µs, but the two medians fell in different rounds and were
    // 4.1 µs apart, and "13.0 µs (2 %)" read as if a request cost 650 µs.
    const runs = (cpu: number[]) => cpu.map((cpuMicrosPerRequest) => ({ cpuMicrosPerRequest }));
    const express = runs([266.3, 259.7, 231.1, 216.0, 222.3, 204.5, 230.9, 177.9, 149.9]);
    const register = runs([289.4, 272.8, 244.1, 226.4, 218.9, 215.3, 247.9, 192.5, 158.0]);
    const added = addedInRounds(register, express);
    expect(added).to.be.closeTo(13.0, 0.05);
    // 13.0 of the base's median, 222.3 µs.
    expect(addedPercent(added, express)).to.be.closeTo(5.85, 0.01);
  });
});
