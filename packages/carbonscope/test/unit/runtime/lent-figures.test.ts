import { channel } from 'node:diagnostics_channel';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { setAttributes, setRoute } from '../../../src/http/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { createTestMetrics } from '../../helpers/metrics.js';
import { ScriptedClock, ScriptedCpu, scriptedCarbonscope } from '../energy/scripted.js';

const start = channel('http.server.request.start');
const finish = channel('http.server.response.finish');

/**
 * One scripted run: requests under two routes (some with the application's attributes), track()
 * jobs and an end() someone awaits, five samples; what the scores and the operation histograms
 * say at the end. `appOnEnd`: an onEnd listener of the application's is subscribed, so every
 * operation's footprint is built for it and carbonscope's own listeners are given that.
 */
async function figures(env: Record<string, string>, appOnEnd: boolean): Promise<string[]> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const metrics = createTestMetrics({ local: true });
  const cs = await scriptedCarbonscope({ clock, cpu, env });
  bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
  await cs.start();
  if (appOnEnd) cs.onEnd(() => {});
  cs.trackRequests();
  const socket = new Socket();
  const server = createServer();
  const awaited: Array<Promise<OperationFootprint>> = [];
  try {
    for (let sample = 0; sample < 5; sample++) {
      for (let i = 0; i < 40; i++) {
        const request = new IncomingMessage(socket);
        const response = new ServerResponse(request);
        const message = { request, response, socket, server };
        start.publish(message);
        clock.advance(1 + (i % 7));
        setRoute(request, i % 3 ? '/a/:id' : '/b');
        if (i % 5 === 0) setAttributes(request, { tenant: `t${i % 2}` });
        response.statusCode = i % 4 ? 200 : 404;
        finish.publish(message);
        if (i % 10 === 0) cs.track('job', () => clock.advance(3));
        if (i % 20 === 0) {
          const op = cs.begin('awaited');
          clock.advance(2);
          op.end();
          awaited.push(op.settled());
        }
      }
      clock.advance(100);
      cpu.interval(0.5, 0.5, 0.3);
      cs.meter.sampleNow();
    }
    const settled = (await Promise.all(awaited)).map((f) => f.joules);
    const scores = cs.snapshot().operations.map((s) => JSON.stringify(s));
    const series = (await metrics.scrape())
      .split('\n')
      .filter((line) => line.startsWith('carbonscope_operation_'));
    expect(series.some((line) => line.includes('tenant="t1"'))).to.equal(true);
    return [...scores, ...series, ...settled.map(String)];
  } finally {
    await cs.stop();
    await metrics.shutdown();
  }
}

// carbonscope's own listeners (its scores, the operation histograms) are lent the settled
// figures (onSettled) where no onEnd listener wants a footprint, and given the footprint where
// one does: both must count the same, to the last digit. Under `exact` the tracker holds each
// operation till the sample, so they are given its footprint either way (report's path).
describe('the settled figures lent to carbonscope’s own listeners', () => {
  for (const attribution of ['wall', 'exact']) {
    it(`count what a footprint built for onEnd counts (${attribution} attribution)`, async () => {
      const env = { ENERGY_OPERATION_ATTRIBUTION: attribution };
      const lent = await figures(env, false);
      expect(lent).to.deep.equal(await figures(env, true));
      expect(lent.length).to.be.greaterThan(20);
    });
  }
});

/**
 * Operations a, b and c, reported at a sample whose first onSettled listener stops carbonscope
 * (its stop() takes the last sample at once); what the listener after it read, and what onEnd
 * was told where `onEnd` is subscribed.
 */
async function stoppedInTheCall(onEnd: boolean): Promise<{ after: string[]; ended: string[] }> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const env = { ENERGY_OPERATION_ATTRIBUTION: 'wall' };
  const cs = await scriptedCarbonscope({ clock, cpu, env });
  await cs.start();
  const after: string[] = [];
  const ended: string[] = [];
  let stopping: Promise<void> | undefined;
  cs.onSettled(() => {
    if (stopping) return;
    clock.advance(50);
    stopping = cs.stop();
  });
  cs.onSettled((f) => after.push(f.operation));
  if (onEnd) cs.onEnd((f) => ended.push(f.operation));
  for (const name of ['a', 'b', 'c']) {
    const op = cs.begin(name);
    clock.advance(10 * name.length);
    op.end();
  }
  clock.advance(100);
  cpu.interval(0.5, 0.5, 0.3);
  cs.meter.sampleNow();
  await stopping;
  return { after, ended };
}

// cs.stop() in a listener's call takes its last sample there: settled after the report, it no
// longer rewrites the lent figures under the listeners after it, nor reports anything twice.
describe('carbonscope stopped in an onSettled listener’s call', () => {
  it('lends the listeners after it the operations that were due', async () => {
    expect((await stoppedInTheCall(false)).after).to.deep.equal(['a', 'b', 'c']);
  });

  it('tells onEnd of each operation once', async () => {
    const { after, ended } = await stoppedInTheCall(true);
    expect(ended).to.deep.equal(['a', 'b', 'c']);
    expect(after).to.deep.equal(['a', 'b', 'c']);
  });
});
