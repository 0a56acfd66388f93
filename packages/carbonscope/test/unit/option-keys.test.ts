import { createServer } from 'node:http';
import { expect } from 'chai';
import { EmissionsTracker, measure, start, stop } from '../../src/api.js';
import { CarbonscopeInstrumentation } from '../../src/instrumentation.js';
import { nearestName } from '../../src/nearest-name.js';
import { Carbonscope } from '../../src/runtime/carbonscope.js';
import { loadSettings } from '../../src/settings.js';
import { memoryLogger } from './energy/scripted.js';

// A misspelt option key was ignored without a word: the option stayed at its default while its
// author believed it set. Each unknown key is warned of once, with the key it likely meant.
// (Warnings are once per caller and key in the process: each test uses keys of its own.)
const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;
const untyped = <T>(value: unknown) => value as T;

function warnings(lines: Array<Record<string, unknown>>): string[] {
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

describe('unknown option keys', () => {
  afterEach(() => stop());

  it('nearestName: case, a slip of a letter, or the start or end of a name', () => {
    const known = ['settings', 'histograms', 'sampleIntervalMs', 'servers', 'logger'];
    expect(nearestName('Logger', known)).to.equal('logger');
    expect(nearestName('histogram', known)).to.equal('histograms');
    expect(nearestName('setings', known)).to.equal('settings');
    expect(nearestName('settigns', known)).to.equal('settings');
    expect(nearestName('intervalMs', known)).to.equal('sampleIntervalMs');
    expect(nearestName('port', known)).to.equal(undefined);
    expect(nearestName('lg', known)).to.equal(undefined);
    expect(nearestName('', known)).to.equal(undefined);
  });

  it("start() warns of each, once, naming what was meant, a group's key too", async () => {
    const { logger, lines } = memoryLogger();
    const settings = loadSettings(ENV);
    const options = {
      env: ENV,
      logger,
      settings: { ...settings, energy: { ...settings.energy, sampleIntervalMS: 500 } },
      intervalMs: 500,
      zone: 'DE',
      port: 8080,
    };
    await start(untyped(options));
    await stop();
    await start(untyped(options));
    expect(warnings(lines)).to.deep.equal([
      'start(): unknown option settings.energy.sampleIntervalMS (did you mean settings.energy.sampleIntervalMs?); it is ignored',
      'start(): unknown option intervalMs (did you mean settings.energy.sampleIntervalMs?); it is ignored',
      'start(): unknown option zone (did you mean settings.grid.zone?); it is ignored',
      'start(): unknown option port; it is ignored',
    ]);
  });

  it('start() on a running instance warns once of the options it ignores, and where they go', async () => {
    const { logger, lines } = memoryLogger();
    const first = { env: ENV, logger };
    await start(first);
    // Given again, the first start's own options are no news; absent ones are none given.
    await start(first);
    await start({ env: undefined });
    const cs = await start({ env: { ...ENV, ENERGY_SAMPLE_INTERVAL_MS: '200' }, select: {} });
    await start({ logger });
    await new EmissionsTracker('job', { env: ENV }).start();
    expect(cs.settings.energy.sampleIntervalMs).to.equal(1000);
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by start()), so the options env, select are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  // Spread from an application's configuration, its own keys (any number, named anything) were
  // listed as carbonscope's options ignored: they never were any.
  it("the ignored options named are carbonscope's, not an application's other keys", async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger });
    const config = { dbPassword: 'x', stripeKey: 'y', env: { ...ENV } };
    await start(untyped(config));
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by start()), so the options env are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  // Two modules that each start carbonscope with the application's one configuration (each its
  // own object, spread or written out) were told their env and pue were ignored: they were set.
  it("options of the same values as the running instance's are no warning, a changed one is", async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger, settings: undefined });
    await start({ env: ENV, logger });
    await start({ env: ENV, logger: { ...logger } });
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by start()), so the options logger are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  // The warning named `settings`, the whole object, where one field of it differed: the reader
  // was left to compare two objects of some forty fields. Settings of the running instance's
  // values (a module that builds them again from the same variables) were warned of too.
  it('settings given to a running instance name the fields that differ, none where all agree', async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger });
    const running = loadSettings(ENV);
    await start({ settings: loadSettings(ENV) });
    await start({ settings: { ...running, energy: { ...running.energy } } });
    await start({
      settings: {
        ...running,
        grid: { ...running.grid, zone: 'FR', share: 'process' },
        energy: {
          ...running.energy,
          pue: 1.5,
          exporter: { ...running.energy.exporter, timeoutMs: 9000 },
        },
      },
    });
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by start()), so the options settings.grid.zone, settings.grid.share, settings.energy.pue, settings.energy.exporter.timeoutMs are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  // An instance started with no env reads process.env: a start({ env: process.env }) beside it
  // (a module that passes it explicitly) was told its env was ignored, and that one warning an
  // instance gives hid a later one that mattered.
  it('env: process.env beside an instance started without env is the env in force', async () => {
    const { logger, lines } = memoryLogger();
    await start({ settings: loadSettings(ENV), logger });
    await start({ env: process.env });
    await start({ env: { ...ENV }, select: {} });
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by start()), so the options env, select are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  it('EmissionsTracker on a running instance says so, naming itself', async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger });
    const tracker = new EmissionsTracker('job', { env: { ...ENV } });
    await tracker.start();
    await tracker.stop();
    await tracker.start();
    await tracker.stop();
    expect(warnings(lines)).to.deep.equal([
      'EmissionsTracker: carbonscope is already running (started by start()), so the options env are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  it('CarbonscopeInstrumentation on a running instance says so, once, not at a re-enable', async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger });
    const settings = loadSettings(ENV);
    const instrumentation = new CarbonscopeInstrumentation({
      settings: { ...settings, energy: { ...settings.energy, pue: 1.4 } },
    });
    try {
      await instrumentation.ready();
      instrumentation.disable();
      instrumentation.enable();
      await instrumentation.ready();
    } finally {
      instrumentation.disable();
    }
    expect(warnings(lines)).to.deep.equal([
      'CarbonscopeInstrumentation: carbonscope is already running (started by start()), so the options settings.energy.pue are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  it('measure() warns of an unknown option key once, and refuses options that are no object', async () => {
    const { logger, lines } = memoryLogger();
    await start({ env: ENV, logger });
    for (let i = 0; i < 2; i++) {
      const { sci } = await measure('resize', () => [1, 2, 3], untyped({ unit: 1000 }));
      expect(sci.units).to.equal(1);
    }
    const { sci } = await measure('resize', () => [1, 2, 3], { units: (r) => r.length });
    expect(sci.units).to.equal(3);
    expect(warnings(lines)).to.deep.equal([
      'measure(): unknown option unit (did you mean units?); it is ignored',
    ]);
    for (const options of [null, '1000', 1000, [1000]]) {
      const refusal = await measure('resize', () => 1, untyped(options)).then(
        () => 'resolved',
        (err: Error) => `${err.name}: ${err.message}`,
      );
      expect(refusal).to.match(/^TypeError: measure\(\): the options must be an object \(got /);
    }
  });

  it("known keys, a null or absent group, and settings' own, are no warning", async () => {
    const { logger, lines } = memoryLogger();
    const cs = await Carbonscope.create({
      env: ENV,
      logger,
      // An application's whole configuration, carbonscope's settings a part of it (the service's).
      settings: untyped({ ...loadSettings(ENV), port: 8080, llm: { model: 'x' } }),
      select: { holdProcess: false },
      grid: untyped(null),
    });
    cs.trackRequests({ knownMethods: ['GET'] });
    await cs.stop();
    expect(warnings(lines)).to.deep.equal([]);
  });

  // settings' top level takes an application's other keys, so a setting given a level too high
  // (plain JavaScript, `settings.operationMaxNames = 10` after loadSettings()) was taken for one of
  // them, in silence: the label kept 512 names.
  it("warns of a group's key given at settings' top level, naming where it goes", async () => {
    const { logger, lines } = memoryLogger();
    const settings = { ...loadSettings(ENV), operationMaxNames: 10, source: 'rapl', port: 8080 };
    const cs = await start(untyped({ env: ENV, logger, settings }));
    expect(cs.settings.energy.operationMaxNames).to.equal(512);
    expect(warnings(lines)).to.deep.equal([
      'start(): unknown option settings.operationMaxNames (did you mean settings.energy.operationMaxNames?); it is ignored',
      'start(): unknown option settings.source (did you mean settings.energy.source or settings.embodied.source?); it is ignored',
    ]);
  });

  it('Carbonscope.create(), EmissionsTracker and trackRequests() name themselves', async () => {
    const { logger, lines } = memoryLogger();
    const cs = await Carbonscope.create(untyped({ env: ENV, logger, setings: {} }));
    const server = createServer();
    cs.trackRequests(untyped({ server: [server] }));
    await cs.stop();
    const tracker = new EmissionsTracker('job', untyped({ env: ENV, logger, Logger: logger }));
    await tracker.start();
    await tracker.stop();
    expect(warnings(lines)).to.deep.equal([
      'Carbonscope.create(): unknown option setings (did you mean settings?); it is ignored',
      'trackRequests(): unknown option server (did you mean servers?); it is ignored',
      'EmissionsTracker: unknown option Logger (did you mean logger?); it is ignored',
    ]);
  });

  it('CarbonscopeInstrumentation warns at its config and setConfig, and its start not again', async () => {
    const { logger, lines } = memoryLogger();
    const instrumentation = new CarbonscopeInstrumentation(
      untyped({ settings: loadSettings(ENV), logger, histogram: undefined, enabeld: false }),
    );
    instrumentation.setConfig(untyped({ htttp: true }));
    try {
      await instrumentation.ready();
    } finally {
      instrumentation.disable();
    }
    expect(warnings(lines).filter((l) => l.includes('unknown option'))).to.deep.equal([
      'CarbonscopeInstrumentation: unknown option histogram (did you mean histograms?); it is ignored',
      'CarbonscopeInstrumentation: unknown option enabeld (did you mean enabled?); it is ignored',
      'CarbonscopeInstrumentation: unknown option htttp (did you mean http?); it is ignored',
    ]);
  });

  it("CarbonscopeInstrumentation warns of a group's key once, as its own", async () => {
    const { logger, lines } = memoryLogger();
    const settings = loadSettings(ENV);
    const instrumentation = new CarbonscopeInstrumentation({
      settings: untyped({ ...settings, grid: { ...settings.grid, zones: 'DE' } }),
      logger,
    });
    try {
      await instrumentation.ready();
    } finally {
      instrumentation.disable();
    }
    expect(warnings(lines).filter((l) => l.includes('unknown option'))).to.deep.equal([
      'CarbonscopeInstrumentation: unknown option settings.grid.zones (did you mean settings.grid.zone?); it is ignored',
    ]);
  });
});
