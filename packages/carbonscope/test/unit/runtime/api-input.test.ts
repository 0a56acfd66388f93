import { expect } from 'chai';
import { EmissionsTracker, measure, start, stop, track } from '../../../src/api.js';
import type { OperationKind } from '../../../src/energy/index.js';
import { EnergyTracker } from '../../../src/energy/tracker.js';
import { routeOf, setRoute } from '../../../src/http/index.js';
import type { RoutableRequest } from '../../../src/http/route.js';
import { loadCatalog } from '../../../src/llm/catalog.js';
import { llmImpacts } from '../../../src/llm/llm-impacts.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { checkSettings, loadSettings } from '../../../src/settings.js';
import { memoryLogger, ScriptedClock } from '../energy/scripted.js';

// What a plain JavaScript caller can hand the API where TypeScript would have stopped it. Each
// must be refused at the call, by a message that names the argument and what it takes: not a
// bare "fn is not a function" from inside carbonscope, nor a value that breaks later, where
// the metrics are collected (a Symbol route failed every Prometheus scrape after it).
const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;
const untyped = <T>(value: unknown) => value as T;

describe('the API given what plain JavaScript can pass', () => {
  afterEach(() => stop());

  it('track() and measure() refuse a function that is none, before start() and after', async () => {
    for (const started of [false, true]) {
      const cs = started ? await start({ env: ENV }) : undefined;
      let ended = 0;
      cs?.tracker.onFinish(() => ended++);
      for (const fn of [undefined, null, 42, 'job', {}]) {
        const what = `${started ? 'started' : 'not started'}, ${String(fn)}`;
        expect(() => track('job', untyped(fn)), what).to.throw(
          TypeError,
          /^track\(\): the function to run must be a function \(got /,
        );
        const refused = await measure('job', untyped(fn)).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(refused, what).to.be.instanceOf(TypeError);
        expect((refused as Error).message, what).to.match(/^measure\(\): the function to run/);
        if (!cs) continue;
        expect(() => cs.track('job', untyped(fn)), what).to.throw(TypeError, /^track\(\): /);
        const byInstance = await cs.measure('job', untyped(fn)).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect((byInstance as Error).message, what).to.match(/^measure\(\): the function/);
      }
      // Nothing was begun for the refused calls: no operation counts under their name.
      expect(cs?.tracker.active ?? 0).to.equal(0);
      if (cs) {
        cs.meter.sampleNow();
        expect(ended).to.equal(0);
      }
    }
  });

  it('begin() refuses a kind that is neither operation nor request', async () => {
    const cs = await start({ env: ENV });
    for (const kind of ['bogus', 5, null]) {
      expect(() => cs.begin('job', untyped<OperationKind>(kind))).to.throw(
        TypeError,
        /^begin\(\): the kind must be 'operation' or 'request' \(got /,
      );
    }
    cs.begin('job', 'operation').end();
    cs.begin('job').end();
  });

  it('EmissionsTracker refuses a name that is no text, at construction', () => {
    for (const name of [5, null, '']) {
      expect(() => new EmissionsTracker(untyped(name))).to.throw(
        TypeError,
        /^EmissionsTracker: the operation name must be a non-empty string \(got /,
      );
    }
    for (const options of [null, 5]) {
      expect(() => new EmissionsTracker('job', untyped(options))).to.throw(
        TypeError,
        /^EmissionsTracker: the options must be an object \(got /,
      );
    }
    expect(() => new EmissionsTracker(undefined)).not.to.throw();
    expect(() => new EmissionsTracker('job', undefined)).not.to.throw();
  });

  it('EmissionsTracker refuses a logger without its methods at construction, by its own name', () => {
    // Not at start(), long after, as Carbonscope.create()'s.
    expect(() => new EmissionsTracker('job', untyped({ logger: {} }))).to.throw(
      TypeError,
      /^EmissionsTracker: logger must have debug, info, warn and error functions/,
    );
  });

  it('start() refuses options that are not an object, by name', async () => {
    for (const options of [null, 5, 'env']) {
      const refused = await start(untyped(options)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused, String(options)).to.be.instanceOf(TypeError);
      expect((refused as Error).message).to.match(/^start\(\): the options must be an object/);
    }
  });

  it('setRoute() refuses a template that is no string and a request that is no object', () => {
    const req = untyped<RoutableRequest>({});
    for (const template of [
      undefined,
      null,
      5,
      Symbol('route'),
      ['/a'],
      { toString: () => '/a' },
    ]) {
      expect(() => setRoute(req, untyped(template)), String(typeof template)).to.throw(
        TypeError,
        /^setRoute\(\): the route template must be a string \(got /,
      );
    }
    for (const target of [undefined, null, 'req', 5]) {
      expect(() => setRoute(untyped(target), '/a'), String(target)).to.throw(
        TypeError,
        /^setRoute\(\): the request must be an object/,
      );
      expect(() => routeOf(untyped(target)), String(target)).to.throw(
        TypeError,
        /^routeOf\(\): the request must be an object/,
      );
    }
    setRoute(req, '/users/:id');
  });

  it('settings built in code without their groups are refused by name, not destructured', async () => {
    const whole = loadSettings({ ENERGY_SOURCE: 'estimate' });
    for (const [settings, message] of [
      [{ zone: 'DE' }, /^settings\.grid must be an object \(loadSettings\(\) builds settings/],
      [{ ...whole, energy: null }, /^settings\.energy must be an object/],
      [{ ...whole, embodied: 5 }, /^settings\.embodied must be an object/],
    ] as const) {
      expect(() => checkSettings(untyped(settings))).to.throw(TypeError, message);
      const refused = await start({ settings: untyped(settings) }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((refused as Error).message).to.match(message);
    }
    for (const options of [null, 5]) {
      const refused = await Carbonscope.create(untyped(options)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((refused as Error).message).to.match(/^Carbonscope\.create\(\): the options must be/);
    }
  });

  it('a listener that is no function is refused as it subscribes', async () => {
    const cs = await start({ env: ENV });
    const subscribe = [
      ['onSample', (l: unknown) => cs.onSample(untyped(l))],
      ['onEnd', (l: unknown) => cs.onEnd(untyped(l))],
      ['onFinish', (l: unknown) => cs.onFinish(untyped(l))],
      ['onRequestEnd', (l: unknown) => cs.onRequestEnd(untyped(l))],
      ['onEarlyAnswer', (l: unknown) => cs.onEarlyAnswer(untyped(l))],
      // The meter and tracker are exported and public on the instance: the same check.
      ['onSample', (l: unknown) => cs.meter.onSample(untyped(l))],
      ['onEnd', (l: unknown) => cs.tracker.onEnd(untyped(l))],
      ['onFinish', (l: unknown) => cs.tracker.onFinish(untyped(l))],
      ['onRequestEnd', (l: unknown) => cs.tracker.onRequestEnd(untyped(l))],
      ['onDrop', (l: unknown) => cs.tracker.onDrop(untyped(l))],
    ] as const;
    for (const [name, add] of subscribe) {
      for (const listener of [undefined, 5, {}]) {
        expect(() => add(listener), name).to.throw(
          TypeError,
          new RegExp(`^${name}\\(\\): the listener must be a function \\(got `),
        );
      }
    }
  });

  it("an async listener's rejection is warned of, never an unhandled rejection", async () => {
    const { logger, lines } = memoryLogger();
    const cs = await start({ env: ENV, logger });
    const unhandled: unknown[] = [];
    const catcher = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', catcher);
    try {
      cs.onSample(async () => {
        throw new Error('sample listener rejected');
      });
      cs.onEnd(async () => {
        throw new Error('end listener rejected');
      });
      cs.onFinish(async () => {
        throw new Error('finish listener rejected');
      });
      cs.onEarlyAnswer(() => {
        throw new Error('early listener threw');
      });
      track('job', () => 1);
      cs.answeredEarly(400);
      cs.meter.sampleNow();
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', catcher);
    }
    expect(unhandled.map(String)).to.deep.equal([]);
    const warned = lines.map((l) => String(l.msg)).join('\n');
    for (const what of ['sample listener rejected', 'end listener rejected', 'finish listener']) {
      expect(warned).to.include(what);
    }
    expect(warned).to.include('early listener threw');
  });

  // The three listeners the test above leaves out: each site hands its own listener's result on,
  // and one left as it was is an unhandled rejection per request, per early answer, per drop.
  it("an async onRequestEnd, onEarlyAnswer or onDrop listener's rejection is told too", async () => {
    const { logger, lines } = memoryLogger();
    const cs = await start({ env: ENV, logger });
    const clock = new ScriptedClock(0);
    const told: unknown[] = [];
    const tracker = new EnergyTracker({
      clock: clock.now,
      maxRunning: 1,
      onListenerError: told.push.bind(told),
    });
    const unhandled: unknown[] = [];
    const catcher = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', catcher);
    try {
      cs.onRequestEnd(async () => {
        throw new Error('request listener rejected');
      });
      cs.onEarlyAnswer(async () => {
        throw new Error('early listener rejected');
      });
      tracker.onDrop(async () => {
        throw new Error('drop listener rejected');
      });
      cs.begin('GET /', 'request').end();
      cs.answeredEarly(400);
      tracker.begin('leaked');
      tracker.begin('next').end(); // drops the leaked one: one may run at once
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', catcher);
      tracker.stop();
    }
    expect(unhandled.map(String)).to.deep.equal([]);
    const warned = lines.map((l) => String(l.msg)).join('\n');
    expect(warned).to.include('request listener rejected');
    expect(warned).to.include('early listener rejected');
    expect(told.map(String)).to.deep.equal(['Error: drop listener rejected']);
  });

  it('a logger, sources or grid given in code that lack their methods are refused at start', async () => {
    const wrong: Array<[Record<string, unknown>, RegExp]> = [
      [{ logger: {} }, /^start\(\): logger must have debug, info, warn and error functions/],
      [{ logger: { warn() {} } }, /^start\(\): logger must have debug, info, warn and error/],
      [{ sources: { host: {}, gpus: [] } }, /^start\(\): sources\.host must be a power source/],
      [{ sources: 5 }, /^start\(\): sources must be \{ host, gpus \}/],
      [{ sources: { host: null } }, /^start\(\): sources\.host must be a power source/],
      [{ grid: {} }, /^start\(\): grid must have current\(\) and peek\(\)/],
    ];
    for (const [options, message] of wrong) {
      // Each failed after the start (a source's close() at stop, the grid's peek() at a sample)
      // as an uncaught exception, from a timer.
      const refused = await start(untyped({ env: ENV, ...options })).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused, JSON.stringify(options)).to.be.instanceOf(TypeError);
      expect((refused as Error).message).to.match(message);
    }
  });

  // `options.grid ?? ...` took null as "none given" before the checks came: a JavaScript caller's
  // `grid: config.grid ?? null` started with carbonscope's own, as a logger of null still does.
  it('a logger, sources or grid of null are none given, as before the checks', async () => {
    const cs = await start(untyped({ env: ENV, logger: null, sources: null, grid: null }));
    expect(cs.meter.sources.host.name).to.equal('estimate');
  });

  it('llmImpacts() names its catalog and request when they are no objects', () => {
    const catalog = loadCatalog();
    for (const request of [null, undefined, 'gpt-4o']) {
      expect(() => llmImpacts(catalog, untyped(request))).to.throw(
        TypeError,
        /^llmImpacts\(\): the request must be \{ provider, model, outputTokens/,
      );
    }
    const request = { provider: 'openai', model: 'gpt-4o', outputTokens: 10 };
    for (const wrong of [null, undefined, {}]) {
      expect(() => llmImpacts(untyped(wrong), request)).to.throw(
        TypeError,
        /^llmImpacts\(\): the catalog must be loadCatalog\(\)'s/,
      );
    }
  });
});
