import { channel } from 'node:diagnostics_channel';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { bindMetrics, type LentFigures, type PowerSource, setRoute } from 'carbonscope';
import { expect } from 'chai';
import { createTestMetrics } from '#library-tests/helpers/metrics.js';
import {
  constantSource,
  intensityReading,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  scriptedCarbonscope,
} from '#library-tests/unit/energy/scripted.js';
import {
  CAR_GRAMS_CO2_PER_METRE,
  createDashboard,
  type Dashboard,
  historyMemoryBytes,
  MAX_ANSWER_ROWS,
} from '../../src/dashboard/index.js';

const EPOCH = Date.UTC(2026, 0, 1);
const start = channel('http.server.request.start');
const finish = channel('http.server.response.finish');
const server = createServer();
const socket = new Socket();

async function setUp(
  historyMinutes = 60,
  sampleIntervalMs = 1000,
  host?: PowerSource,
  env: Record<string, string> = {},
) {
  const clock = new ScriptedClock(0);
  /** What the wall clock was stepped by (an NTP step, a VM restored from a snapshot). */
  const wall = { stepMs: 0 };
  /** How long the machine was suspended: the boot clock runs on by it, the monotonic does not. */
  const boot = { suspendedMs: 0 };
  const cpu = new ScriptedCpu();
  const metrics = createTestMetrics();
  const grid = new StubGrid(intensityReading('DE', 250));
  const wallClock = () => EPOCH + clock.ms + wall.stepMs;
  const meter = await scriptedCarbonscope({
    clock,
    cpu,
    wallClock,
    bootClock: () => clock.ms + boot.suspendedMs,
    env: { ENERGY_SAMPLE_INTERVAL_MS: '60000', ...env },
    grid,
    ...(host ? { host } : {}),
  });
  bindMetrics(metrics.meter, meter);
  const dashboard: Dashboard = createDashboard({
    meter,
    grid,
    sampleIntervalMs,
    historyMinutes,
    now: wallClock,
  });
  await meter.start();
  /** One second at 8 W host, the process busy half of it: 2 W for the process. */
  const tick = () => {
    clock.advance(sampleIntervalMs);
    cpu.interval(1, 0.5, 0.5);
    meter.meter.sampleNow();
  };
  tick();
  /** The dashboard's timer, the meter's and the metrics' readers, stopped in that order. */
  const close = async () => {
    dashboard.close();
    await meter.stop();
    await metrics.shutdown();
  };
  return { clock, meter, dashboard, tick, metrics, wall, boot, close };
}

describe('dashboard state (real meter, scripted clock and source)', () => {
  it('records a row per sample and serves only new rows after the cursor', async () => {
    const { dashboard, tick, meter, close } = await setUp();
    try {
      tick();
      tick();
      const first = dashboard.data(0);
      expect(first.reset).to.equal(true);
      expect(first.seq).to.equal(3);
      expect(first.times).to.have.length(3);
      expect(first.columns.process_watts).to.deep.equal([2, 2, 2]);
      expect(first.columns.host_watts).to.deep.equal([8, 8, 8]);
      expect(first.columns.intensity).to.deep.equal([250, 250, 250]);
      const snap = meter.snapshot();
      expect(first.columns.process_joules.at(-1)).to.equal(snap.totals.process.joules);
      // The page sums its older rows up as the service does: these keep their last value.
      expect(first.runningTotals).to.have.members([
        'host_joules',
        'process_joules',
        'host_grams',
        'process_grams',
      ]);
      expect(first.energy.totals).to.deep.equal(snap.totals);
      expect(first.power.map((p) => p.key).sort()).to.deep.equal([
        'power:host:cpu:estimate',
        'power:process:cpu:estimate',
      ]);
      expect(first.power.every((p) => p.estimated)).to.equal(true);
      expect(first.energy.grid).to.include({ zone: 'DE', carbonIntensity: 250, source: 'fixed' });
      expect(first.energy.grid.ageSeconds).to.equal(0);

      expect(dashboard.data(first.seq, first.boot)).to.deep.include({ reset: false, times: [] });
      tick();
      const next = dashboard.data(first.seq, first.boot);
      expect(next.reset).to.equal(false);
      expect(next.times).to.have.length(1);
      expect(dashboard.data(first.seq, 'another-boot').reset).to.equal(true);
    } finally {
      await close();
    }
  });

  // At ENERGY_SAMPLE_INTERVAL_MS=50 the first answer was the whole history, 72,000 rows an hour:
  // ~20 MB of JSON, and a batch the page's push(...values) could not take (Chromium's argument
  // limit). Ten minutes (12,000 rows) here, to keep the test short.
  it('answers a full history at a 50 ms interval in at most MAX_ANSWER_ROWS rows, newest as it is', async () => {
    const { dashboard, tick, meter, close } = await setUp(10, 50);
    try {
      for (let i = 0; i < 12_050; i++) tick();
      const first = dashboard.data(0);
      expect(first.capacity).to.equal(12_000);
      expect(first).to.include({ reset: true, seq: 12_051 });
      expect(first.times).to.have.length(MAX_ANSWER_ROWS);
      expect(MAX_ANSWER_ROWS).to.be.at.most(1000);
      expect(JSON.stringify(first).length, 'bytes').to.be.below(500_000);
      const snap = meter.snapshot();
      expect(first.times.at(-1)).to.equal(dashboard.history.timeAt(12_051));
      expect(first.columns.process_joules.at(-1)).to.equal(snap.totals.process.joules);
      expect(first.columns.process_watts.every((w) => w === 2)).to.equal(true);
      // Caught up, the page gets the new rows as they are.
      tick();
      const next = dashboard.data(first.seq, first.boot);
      expect(next).to.deep.include({ reset: false, seq: 12_052 });
      expect(next.times).to.have.length(1);
      // A page that fell further behind (a hidden tab) starts again from the summed-up history.
      for (let i = 0; i < MAX_ANSWER_ROWS + 1; i++) tick();
      const behind = dashboard.data(next.seq, first.boot);
      expect(behind.reset).to.equal(true);
      expect(behind.times).to.have.length(MAX_ANSWER_ROWS);
    } finally {
      await close();
    }
  });

  it('shows requests by endpoint and recent operations, from the operations that end', async () => {
    const { dashboard, tick, clock, meter, metrics, close } = await setUp();
    try {
      for (let i = 0; i < 3; i++) {
        const request = meter.begin('request', 'request');
        // The request's own work (reading it, answering), then its inference: nested, the
        // inference's CPU is not the request's.
        request.run(() => clock.advance(10));
        await meter.track('inference', async () => {
          clock.advance(100);
        });
        request.end('/predict');
      }
      tick();
      const d = dashboard.data(0);
      expect(d.recent.map((o) => o.operation)).to.deep.equal([
        'inference',
        'inference',
        'inference',
      ]);
      // The meter's own histogram saw the operations too: the decorator changes nothing there.
      expect(
        await metrics.value('carbonscope_operation_energy_joules_count', {
          carbonscope_operation: 'inference',
        }),
      ).to.equal(3);
      const [predict] = d.requests;
      expect(predict).to.include({ endpoint: '/predict', requests: 3 });
      expect(predict.joulesPerRequest).to.be.greaterThan(0);
      // Each request's SCI: its E × I and its share of the embodied emissions, R one request.
      expect(predict.embodiedGramsPerRequest).to.be.greaterThan(0);
      expect(predict.sciGramsPerRequest).to.be.closeTo(
        predict.gramsPerRequest + predict.embodiedGramsPerRequest,
        1e-15,
      );
      expect(d.endpoints).to.deep.equal([{ key: 'rps:/predict', endpoint: '/predict' }]);
      // 3 requests in a sample interval of 1.33 s (3 × 110 ms, then the 1 s tick).
      expect(d.columns['rps:/predict'].at(-1)).to.be.closeTo(3 / 1.33, 1e-12);
    } finally {
      await close();
    }
  });

  it('says how many requests were answered before the app, which the endpoints leave out', async () => {
    const { dashboard, tick, meter, close } = await setUp();
    try {
      expect(dashboard.data(0).answeredBeforeApp).to.equal(0);
      // What the service's HTTP server reports: Node's parser rejected them, the app never ran.
      meter.answeredEarly(400);
      meter.answeredEarly(408, { seconds: 10 });
      meter.answeredEarly(405, { method: 'CONNECT' });
      tick();
      const d = dashboard.data(0);
      expect(d.answeredBeforeApp).to.equal(3);
      expect(d.requests).to.deep.equal([]);
      dashboard.close();
      meter.answeredEarly(400);
      expect(dashboard.data(0).answeredBeforeApp, 'counted after close').to.equal(3);
    } finally {
      await close();
    }
  });

  it('puts the emissions of the last hour in plain words with the car equivalence', async () => {
    const { dashboard, tick, close } = await setUp(1);
    try {
      for (let i = 0; i < 200; i++) tick();
      const d = dashboard.data(0);
      // 1 minute of history at 1 s: 60 rows, however many samples came.
      expect(d.times).to.have.length(60);
      expect(d.capacity).to.equal(60);
      expect(d.memoryBytes).to.equal(historyMemoryBytes(1, 1000));
      // The history holds 60 s, so the window is what it holds, not a made-up hour.
      expect(d.lastHour.windowSeconds).to.equal(59);
      const grams = d.columns.process_grams;
      const expected = (grams.at(-1) ?? 0) - (grams[0] ?? 0);
      expect(d.lastHour.grams).to.be.closeTo(expected, 1e-12);
      // 2 W × 59 s × 250 g/kWh.
      expect(d.lastHour.grams).to.be.closeTo((2 * 59 * 250) / 3.6e6, 1e-9);
      expect(d.lastHour.carMetres).to.be.closeTo(d.lastHour.grams / CAR_GRAMS_CO2_PER_METRE, 1e-9);
      expect(CAR_GRAMS_CO2_PER_METRE).to.be.closeTo(0.251, 0.001);
    } finally {
      await close();
    }
  });

  it('counts the whole run while the service is younger than an hour', async () => {
    const { dashboard, tick, meter, close } = await setUp(60);
    try {
      for (let i = 0; i < 10; i++) tick();
      const d = dashboard.data(0);
      expect(d.lastHour.grams).to.equal(meter.snapshot().totals.process.grams);
    } finally {
      await close();
    }
  });

  // Every other figure of the page and of /energy says it is a model's; the sentence that puts
  // the grams in words said "This service emitted 0.959 mg CO2e" of the estimate alone.
  it("labels the last hour's grams estimated as the process's totals are", async () => {
    for (const [host, estimated] of [
      [undefined, true],
      [constantSource(8, { name: 'rapl', component: 'package' }), false],
    ] as const) {
      const { dashboard, tick, meter, close } = await setUp(60, 1000, host);
      try {
        for (let i = 0; i < 3; i++) tick();
        const d = dashboard.data(0);
        expect(meter.snapshot().totals.process.estimated).to.equal(estimated);
        expect(d.lastHour.grams).to.be.above(0);
        expect(d.lastHour.estimated, host?.name ?? 'estimate').to.equal(estimated);
      } finally {
        await close();
      }
    }
  });

  // The figure is the newest sample's: read 9 s after it, "the last 119 s" overstated the span
  // its grams cover by 9 s (by up to a minute at ENERGY_SAMPLE_INTERVAL_MS=60000).
  it('gives the span up to the newest sample, not up to the poll, for the last hour', async () => {
    const { dashboard, tick, clock, meter, close } = await setUp(60, 10_000);
    try {
      for (let i = 0; i < 10; i++) tick();
      clock.advance(9000);
      const d = dashboard.data(0);
      // Started at 0; 11 samples 10 s apart: the newest at 110 s.
      expect(d.lastHour.windowSeconds).to.equal(110);
      expect(d.lastHour.grams).to.equal(meter.snapshot().totals.process.grams);
    } finally {
      await close();
    }
  });

  // Rounded to whole seconds, a first sample 118 ms after the start read "in the last 0 ms".
  it('gives the span of a first sample under a second after the start to the millisecond', async () => {
    const { dashboard, close } = await setUp(60, 118);
    try {
      const d = dashboard.data(0);
      expect(d.lastHour.windowSeconds).to.equal(0.118);
      expect(d.lastHour.grams).to.be.above(0);
    } finally {
      await close();
    }
  });

  it('keeps the times in order, the last hour and requests/s whole, when the wall clock steps back an hour', async () => {
    const { dashboard, tick, clock, meter, wall, close } = await setUp(60);
    try {
      for (let i = 0; i < 200; i++) tick();
      const page = dashboard.data(0);
      wall.stepMs = -3_600_000;
      for (let i = 0; i < 5; i++) {
        const request = meter.begin('request', 'request');
        request.run(() => clock.advance(10));
        request.end('/healthz');
        tick();
      }
      const d = dashboard.data(0);
      const increasing = d.times.every((t, i) => i === 0 || t > d.times[i - 1]);
      expect(increasing, 'row times in order').to.equal(true);
      // The newest row is at the wall clock's time, as the operations' end times are.
      expect(d.times.at(-1)).to.equal(EPOCH + clock.ms + wall.stepMs);
      // 206 samples of 2 W: the whole run is within the last hour, whatever the clock says.
      expect(d.lastHour.windowSeconds).to.be.closeTo(206, 1);
      expect(d.lastHour.grams).to.be.closeTo(meter.snapshot().totals.process.grams, 1e-12);
      // 5 requests over the last minute of rows (60 rows of 1 s, 5 of them 1.01 s).
      expect(d.requests[0].perSecond).to.be.closeTo(5 / 60, 0.01);
      // A page that held rows from before the step starts again: their times moved.
      expect(dashboard.data(page.seq, page.boot).reset).to.equal(true);
    } finally {
      await close();
    }
  });

  it('takes no step in whole-ms wall time between samples a fraction of a millisecond apart', async () => {
    const { dashboard, clock, meter, wall, close } = await setUp(60);
    try {
      // Date.now() counts whole ms; a collection samples whenever operations wait to settle.
      const page = dashboard.data(0);
      for (let i = 0; i < 20; i++) {
        clock.advance(0.05);
        wall.stepMs = -((EPOCH + clock.ms) % 1);
        meter.meter.sampleNow();
      }
      const d = dashboard.data(page.seq, page.boot);
      expect(d.reset).to.equal(false);
      expect(d.times).to.have.length(20);
      expect(d.times.every((t, i) => i === 0 || t >= d.times[i - 1])).to.equal(true);
    } finally {
      await close();
    }
  });

  it('counts the rows after a forward step of the wall clock as what they are (a VM paused looks alike)', async () => {
    const { dashboard, tick, wall, close } = await setUp(60);
    try {
      for (let i = 0; i < 10; i++) tick();
      const page = dashboard.data(0);
      wall.stepMs = 3_600_000;
      tick();
      const d = dashboard.data(page.seq, page.boot);
      expect(d.reset).to.equal(false);
      expect(d.times).to.have.length(1);
    } finally {
      await close();
    }
  });

  // Set an hour behind by hand, then corrected: the step back moved the rows held back an hour;
  // the step forward by it was a gap, so the last hour lost every row from before (under
  // libfaketime the service's last-hour grams fell from 1.29e-4 to 1.9e-5 as the clock came back).
  it('moves every row back onto the clock when it steps forward by its last step back (corrected)', async () => {
    const { dashboard, tick, clock, meter, wall, close } = await setUp(60);
    try {
      for (let i = 0; i < 599; i++) tick();
      const before = dashboard.data(0).times;
      wall.stepMs = -3_600_000;
      for (let i = 0; i < 300; i++) tick();
      const page = dashboard.data(0);
      // Corrected: the step forward read 4 ms longer than the one back (the timers' lateness).
      wall.stepMs = 4;
      tick();
      const d = dashboard.data(0);
      // The rows before the step back were on the right time: they are back there.
      expect(d.times.slice(0, 600)).to.deep.equal(before);
      expect(d.times.every((t, i) => i === 0 || t > d.times[i - 1])).to.equal(true);
      expect(d.times.at(-1)).to.equal(EPOCH + clock.ms + 4);
      // 901 s of 2 W, all within the last hour: not the row since the step forward.
      expect(d.lastHour.windowSeconds).to.be.closeTo(901, 1);
      expect(d.lastHour.grams).to.be.closeTo(meter.snapshot().totals.process.grams, 1e-12);
      // A page that held rows from before the step starts again: their times moved.
      expect(dashboard.data(page.seq, page.boot).reset).to.equal(true);
    } finally {
      await close();
    }
  });

  // A suspend as long as the last step back is no correction of it: the wall clock went on with
  // the time that passed, and the rows stay where they are (they were all moved an hour on).
  it('leaves the rows where they are across a suspend as long as the last step back', async () => {
    const { dashboard, tick, clock, wall, boot, close } = await setUp(60);
    try {
      for (let i = 0; i < 599; i++) tick();
      wall.stepMs = -3_600_000;
      for (let i = 0; i < 300; i++) tick();
      const before = dashboard.data(0).times;
      boot.suspendedMs = 3_600_000;
      wall.stepMs += 3_600_000;
      tick();
      const d = dashboard.data(0);
      expect(d.times.slice(0, -1)).to.deep.equal(before);
      expect(d.times.at(-1)).to.equal(EPOCH + clock.ms + wall.stepMs);
    } finally {
      await close();
    }
  });

  it('moves only the rows since a forward step when the clock steps back by it (a bad NTP source corrected)', async () => {
    const { dashboard, tick, clock, meter, wall, close } = await setUp(60);
    try {
      for (let i = 0; i < 599; i++) tick();
      const before = dashboard.data(0).times;
      wall.stepMs = 3_600_000;
      for (let i = 0; i < 300; i++) tick();
      // Corrected: the step back read 4 ms longer than the one forward (the timers' lateness).
      wall.stepMs = -4;
      tick();
      const d = dashboard.data(0);
      // The rows before the forward step were on the right time all along: they stay there.
      expect(d.times.slice(0, 600)).to.deep.equal(before);
      expect(d.times.every((t, i) => i === 0 || t > d.times[i - 1])).to.equal(true);
      expect(d.times.at(-1)).to.equal(EPOCH + clock.ms - 4);
      // 901 s of 2 W, all within the last hour: not the 300 s since the forward step.
      expect(d.lastHour.windowSeconds).to.be.closeTo(901, 1);
      expect(d.lastHour.grams).to.be.closeTo(meter.snapshot().totals.process.grams, 1e-12);
    } finally {
      await close();
    }
  });

  // Its per-request table was fed by onEnd: a footprint built for every request, kept by
  // nothing past the call, was what the service's scavenges kept of carbonscope's request path.
  it('adds up the requests from lent figures: no footprint is built for one', async () => {
    // Wall attribution: under the default (calibrated), a calibration window (the first sample
    // opens one for new names) would hold each operation and build its footprint, whoever
    // listens, and no figures would be lent.
    const { dashboard, tick, clock, meter, close } = await setUp(60, 1000, undefined, {
      ENERGY_OPERATION_ATTRIBUTION: 'wall',
    });
    try {
      const requests: LentFigures[] = [];
      meter.onSettled((f) => {
        if (f.kind === 'request') requests.push(f);
      });
      const joules: number[] = [];
      meter.trackRequests();
      for (const route of ['/predict', '/predict', '/chat']) {
        // As Node announces a request and its end: request tracking's path, the service's.
        const request = new IncomingMessage(socket);
        const message = { request, response: new ServerResponse(request), socket, server };
        start.publish(message);
        clock.advance(10);
        setRoute(request, route);
        finish.publish(message);
        await meter.track('inference', async () => {
          clock.advance(20);
        });
      }
      meter.onSettled((f) => {
        if (f.kind === 'request') joules.push(f.joules);
      });
      tick();
      const d = dashboard.data(0);
      expect(requests).to.have.length(3);
      // One object lent for each request: none was built for the dashboard.
      expect(new Set(requests).size).to.equal(1);
      expect(d.recent.map((o) => o.operation)).to.deep.equal(Array(3).fill('inference'));
      expect(d.requests.map((r) => [r.endpoint, r.requests])).to.deep.equal([
        ['/predict', 2],
        ['/chat', 1],
      ]);
      expect(joules[0]).to.be.greaterThan(0);
      expect(d.requests[0].joulesPerRequest).to.be.closeTo((joules[0] + joules[1]) / 2, 1e-15);
      expect(d.requests[1].joulesPerRequest).to.equal(joules[2]);
    } finally {
      await close();
    }
  });

  it('stops listening to the meter when closed', async () => {
    const { dashboard, tick, meter, metrics } = await setUp();
    dashboard.close();
    const seq = dashboard.history.seq;
    tick();
    expect(dashboard.history.seq).to.equal(seq);
    await meter.stop();
    await metrics.shutdown();
  });
});
