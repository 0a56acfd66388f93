import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { bindMetrics, Carbonscope, type EnergySnapshot } from 'carbonscope';
import { expect } from 'chai';
import Koa from 'koa';
import { createTestMetrics, parseSamples } from '#library-tests/helpers/metrics.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  scriptedCarbonscope,
  testConfig,
} from '#library-tests/unit/energy/scripted.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { Readiness } from '../../src/readiness.js';
import { energyRoutes } from '../../src/routes/energy.js';
import { assembleService } from '../../src/service.js';
import { listen, waitUntilReady } from '../helpers/app.js';
import { captureLogger } from '../helpers/log.js';
import { waitFor } from '../helpers/wait.js';

describe('request tracking and GET /energy', () => {
  it('tracks each request as its route template and serves the snapshot', async () => {
    const clock = new ScriptedClock(0);
    const cpu = new ScriptedCpu();
    const metrics = createTestMetrics();
    const meter = await scriptedCarbonscope({
      clock,
      cpu,
      // Embodied: 31,557.6 kg over one year is 1 g/s for the host (2 of its 2 vCPUs).
      env: {
        ENERGY_SAMPLE_INTERVAL_MS: '60000',
        EMBODIED_KGCO2E: '31557.6',
        EMBODIED_LIFETIME_YEARS: '1',
        EMBODIED_HOST_VCPUS: '2',
        EMBODIED_RESERVED_VCPUS: '2',
      },
    });
    bindMetrics(metrics.meter, meter);
    await meter.start();
    // The first sample by hand, instead of waiting for the timer.
    clock.advance(1000);
    cpu.interval(1, 0.5, 0.5);
    meter.meter.sampleNow();

    const app = new Koa();
    const router = new Router();
    router.get('/things/:id', (ctx) => {
      clock.advance(20);
      ctx.body = { id: ctx.params.id };
    });
    router.use(energyRoutes(meter).routes());
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // No middleware: Node's diagnostics channels see the request, @koa/router names its route.
    meter.trackRequests({ servers: [server] });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const id of ['1', '2', '3'])
        expect((await fetch(`${base}/things/${id}`)).status).to.equal(200);
      expect((await fetch(`${base}/nowhere/${Math.random()}`)).status).to.equal(404);

      const res = await fetch(`${base}/energy`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const body = (await res.json()) as EnergySnapshot;
      expect(body.attribution.mode).to.equal('dynamic');
      expect(body.sources).to.deep.equal([{ name: 'estimate', kind: 'host', estimated: true }]);
      expect(body.grid).to.include({ zone: 'DE', carbonIntensity: 250 });
      // 8 W, 0.5 CPU-s of 1 busy CPU-s, active half: 2 W for the process.
      expect(body.totals.process).to.include({ joules: 2, watts: 2, estimated: true });
      expect(body.power.map((p) => `${p.scope}/${p.component}/${p.source}`).sort()).to.deep.equal([
        'host/cpu/estimate',
        'process/cpu/estimate',
      ]);

      // The next sample settles the requests: 100 ms, 60 of them with a request running (the
      // loop counts as busy all along on this scripted clock), at 2 W again.
      clock.advance(40);
      cpu.interval(0.1, 0.5, 0.05);
      meter.meter.sampleNow();
      const things = { carbonscope_operation: '/things/:id', carbonscope_estimated: 'true' };
      expect(await metrics.value('carbonscope_operation_energy_joules_count', things)).to.equal(3);
      // Each request ran alone for 20 ms at 2 W.
      expect(await metrics.value('carbonscope_operation_energy_joules_sum', things)).to.be.closeTo(
        3 * 0.04,
        1e-12,
      );
      expect(
        await metrics.value('carbonscope_operation_energy_joules_count', {
          carbonscope_operation: 'unmatched',
        }),
      ).to.equal(1);
      const text = await metrics.scrape();
      expect(text).to.not.match(/operation="\/nowhere/);

      // E × I, M and the SCI per route. The process had a quarter of the host's 0.1 g of the
      // interval (0.05 of 0.2 CPU-s), 60 % of it while a request ran: 5 mg each.
      const phase = (name: string) => ({
        carbonscope_operation: '/things/:id',
        carbonscope_phase: name,
      });
      const sum = (name: string) =>
        metrics.value('carbonscope_operation_emissions_grams_sum', phase(name));
      const operational = (await sum('usage')) ?? Number.NaN;
      const embodied = (await sum('embodied')) ?? Number.NaN;
      expect(operational).to.be.closeTo((3 * 0.04 * 250) / 3.6e6, 1e-15);
      expect(embodied).to.be.closeTo(0.015, 1e-12);
      expect(
        await metrics.value('carbonscope_operation_emissions_grams_count', phase('usage')),
      ).to.equal(3);
      const after = (await (await fetch(`${base}/energy`)).json()) as EnergySnapshot;
      const route = after.operations.find((o) => o.operation === '/things/:id');
      expect(route).to.deep.include({ kind: 'request', count: 3, estimated: true });
      expect(route?.operationalGrams).to.be.closeTo(operational / 3, 1e-15);
      expect(route?.embodiedGrams).to.be.closeTo(0.005, 1e-12);
      // SCI = (E × I + M) / R, the same from /energy as from the histograms' sums and count.
      expect(route?.sciGrams).to.be.closeTo((operational + embodied) / 3, 1e-15);
      expect(after.embodied).to.deep.include({ gramsPerSecond: 1, estimated: true });
    } finally {
      server.close();
      await meter.stop();
      await metrics.shutdown();
    }
  });

  it('counts each request under its own route and status when they change from one to the next', async () => {
    const metrics = createTestMetrics();
    const meter = await Carbonscope.create({
      settings: testConfig({ ENERGY_SAMPLE_INTERVAL_MS: '60000' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: constantSource(8), gpus: [] },
      timer: new ManualTimer(),
    });
    bindMetrics(metrics.meter, meter, { http: true });
    const app = new Koa();
    const router = new Router();
    router.get('/a', (ctx) => {
      ctx.status = ctx.query.fail ? 500 : 200;
      ctx.body = 'a';
    });
    router.post('/b', (ctx) => {
      ctx.body = 'b';
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    meter.trackRequests({ servers: [server] });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const sent: Array<[string, string]> = [
        ['GET', '/a'],
        ['GET', '/a'],
        ['GET', '/a?fail=1'],
        ['POST', '/b'],
        ['GET', '/a'],
        ['GET', '/a?fail=1'],
      ];
      for (const [method, path] of sent) await (await fetch(`${base}${path}`, { method })).text();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const counts = parseSamples(await metrics.scrape())
        .filter((s) => s.name === 'http_server_request_duration_seconds_count')
        .map((s) => {
          const { http_route, http_request_method, http_response_status_code } = s.labels;
          return `${http_request_method} ${http_route} ${http_response_status_code} ${s.value}`;
        })
        .sort();
      expect(counts).to.deep.equal(['GET /a 200 3', 'GET /a 500 2', 'POST /b 200 1']);
    } finally {
      server.close();
      await meter.stop();
      await metrics.shutdown();
    }
  });

  it('counts a request whose client left before any response without a status (none was sent)', async () => {
    const metrics = createTestMetrics();
    const clock = new ScriptedClock(0);
    const meter = await Carbonscope.create({
      settings: testConfig({ ENERGY_SAMPLE_INTERVAL_MS: '60000' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: constantSource(8), gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: new ScriptedCpu().hostCpu,
      processCpu: new ScriptedCpu().processCpu,
    });
    bindMetrics(metrics.meter, meter, { http: true });
    await meter.start();
    let reached: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let left: () => void = () => {};
    const serverSawLeave = new Promise<void>((resolve) => {
      left = resolve;
    });
    const app = new Koa();
    const router = new Router();
    // Never answers: the client gives up first. Koa's status is its default 404 meanwhile.
    router.get('/slow', async (ctx) => {
      reached();
      await new Promise((resolve) => ctx.res.once('close', resolve));
      left();
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    meter.trackRequests({ servers: [server] });
    try {
      const client = new AbortController();
      const port = (server.address() as AddressInfo).port;
      const request = fetch(`http://127.0.0.1:${port}/slow`, { signal: client.signal });
      await inHandler;
      client.abort();
      await request.catch(() => {});
      // The server learns of it at a later poll of the event loop: a 50 ms sleep fired first
      // where the machine stalled the process past it (timers run before that poll).
      await serverSawLeave;
      clock.advance(1000);
      meter.meter.sampleNow(); // the sample sweeps the responses that closed unfinished
      const samples = parseSamples(await metrics.scrape()).filter(
        (s) => s.name === 'http_server_request_duration_seconds_count',
      );
      expect(samples.map(({ labels: { otel_scope_name, ...labels } }) => labels)).to.deep.equal([
        {
          http_route: '/slow',
          http_request_method: 'GET',
          url_scheme: 'http',
          error_type: '_OTHER',
        },
      ]);
    } finally {
      server.close();
      await meter.stop();
      await metrics.shutdown();
    }
  });

  it('createApp mounts /energy; a request of another server is not tracked', async () => {
    const metrics = createTestMetrics();
    const { logger } = captureLogger();
    const config = loadConfig({ CARBON_ZONE: 'DE' });
    const clock = new ScriptedClock(0);
    const cpu = new ScriptedCpu();
    const meter = await Carbonscope.create({
      settings: config,
      logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: constantSource(8), gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: cpu.hostCpu,
      processCpu: cpu.processCpu,
    });
    bindMetrics(metrics.meter, meter, { http: true });
    const app = createApp({
      config,
      logger,
      readiness: new Readiness(),
      metricsText: metrics.scrape,
      energy: meter,
    });
    const server = app.listen(0, '127.0.0.1');
    const other = createApp({
      config,
      logger,
      readiness: new Readiness(),
      metricsText: metrics.scrape,
    }).listen(0, '127.0.0.1');
    await Promise.all(
      [server, other].map((s) => new Promise((resolve) => s.once('listening', resolve))),
    );
    meter.trackRequests({ servers: [server] });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${base}/energy`);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as EnergySnapshot).samples).to.equal(0);
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const port = (other.address() as AddressInfo).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200);
      // Counted as it ends; its energy once a sample settles it.
      const healthz = { http_route: '/healthz', http_response_status_code: '200' };
      expect(await metrics.value('http_server_request_duration_seconds_count', healthz)).to.equal(
        1,
      );
      await meter.start();
      clock.advance(100);
      cpu.interval(0.1, 0.5, 0.05);
      meter.meter.sampleNow();
      expect(
        await metrics.value('carbonscope_operation_energy_joules_count', {
          carbonscope_operation: '/healthz',
        }),
      ).to.equal(1);
      expect(
        await metrics.value('http_server_request_duration_seconds_count', {
          http_route: '/healthz',
          http_response_status_code: '200',
        }),
      ).to.equal(1);
    } finally {
      server.close();
      other.close();
      await meter.stop();
      await metrics.shutdown();
    }
  });

  it('the service exposes an operation dropped from sharing on /metrics, by name and kind', async () => {
    // The service as src/service.ts composes it, on the real clock: an operation begun and
    // never ended is dropped at the first sample a second after its start.
    const config = loadConfig({
      ENERGY_SOURCE: 'estimate',
      ENERGY_SAMPLE_INTERVAL_MS: '100',
      ENERGY_OPERATION_MAX_AGE_MS: '1000',
    });
    const metrics = createTestMetrics({ local: true });
    const { logger, lines } = captureLogger('warn');
    const readiness = new Readiness();
    const service = await assembleService({
      config,
      logger,
      meter: metrics.meter,
      histograms: metrics.histograms,
      metricsText: metrics.scrape,
      readiness,
      tracing: false,
    });
    const listening = await listen(createApp(service.deps));
    try {
      await waitUntilReady(readiness);
      service.carbonscope.begin('nightly export');
      await waitFor(
        'the drop',
        async () => service.carbonscope.snapshot().droppedOperations > 0,
        10_000,
        100,
      );
      const text = await (await fetch(`${listening.url}/metrics`)).text();
      const dropped = parseSamples(text).filter(
        (s) => s.name === 'carbonscope_operation_dropped_total',
      );
      const series = dropped.map(({ labels, value }) => ({
        labels: {
          carbonscope_operation: labels.carbonscope_operation,
          carbonscope_operation_kind: labels.carbonscope_operation_kind,
          carbonscope_drop_reason: labels.carbonscope_drop_reason,
        },
        value,
      }));
      expect(series).to.deep.equal([
        {
          labels: {
            carbonscope_operation: 'nightly export',
            carbonscope_operation_kind: 'operation',
            carbonscope_drop_reason: 'age',
          },
          value: 1,
        },
      ]);
      expect(service.carbonscope.snapshot().droppedOperations).to.equal(1);
      expect(lines.filter((l) => l.includes('nightly export\\" dropped'))).to.have.length(1);
    } finally {
      await listening.close();
      for (const part of service.parts) await part.close();
      await metrics.shutdown();
    }
  });
});
