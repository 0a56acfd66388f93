import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { start, stop } from '../../src/api.js';
import '../../src/before-exit.js';
import '../../src/http/early-requests.js';
import { installFastifyRoutes } from '../../src/http/frameworks/fastify.js';
import { CarbonscopeInstrumentation } from '../../src/instrumentation.js';
import { bindMetricsOnce } from '../../src/otel/shared-binding.js';
import { markOwnCli } from '../../src/own-cli.js';
import {
  clearRegisterPresent,
  markRegisterPresent,
  registerPresent,
} from '../../src/register-present.js';
import { Carbonscope } from '../../src/runtime/carbonscope.js';
import { memoryLogger, testConfig } from './energy/scripted.js';

type Slots = Record<symbol, unknown>;

/** A slot as the application's `{ ...target }` and Object.assign see it (they copy symbols too). */
function copied(target: object, name: string): boolean {
  const key = Symbol.for(name);
  return Object.hasOwn({ ...target }, key) || Object.hasOwn(Object.assign({}, target), key);
}

function hidden(target: object, name: string): void {
  const d = Object.getOwnPropertyDescriptor(target, Symbol.for(name));
  expect(d, `${name} is set`).to.not.equal(undefined);
  expect(d?.enumerable, `${name} enumerable`).to.equal(false);
  expect(copied(target, name), `${name} copied`).to.equal(false);
}

/** Forgets a slot an earlier test made as an older copy would (a plain assignment), if empty. */
function forgetEmpty(target: object, name: string): void {
  if ((target as Slots)[Symbol.for(name)] === undefined) delete (target as Slots)[Symbol.for(name)];
}

// The loop-end watch was an ordinary property of `process`, carbonscope's slots on globalThis
// too: an application's `{ ...process }` or Object.assign({}, globalThis) copied them.
describe("carbonscope's slots on process and globalThis", () => {
  it('are not enumerable: a copy of process or globalThis takes none of them', async () => {
    hidden(process, 'carbonscope.loop-end-watch.v1');
    hidden(globalThis, 'carbonscope.early-requests.v1');

    installFastifyRoutes();
    hidden(globalThis, 'carbonscope.fastify-routes.v1');

    const wasPresent = registerPresent();
    markRegisterPresent();
    try {
      hidden(globalThis, 'carbonscope.register-present.v1');
    } finally {
      if (!wasPresent) clearRegisterPresent();
    }

    const ownCli = Symbol.for('carbonscope.own-cli.v1');
    const wasCli = Object.getOwnPropertyDescriptor(globalThis, ownCli);
    markOwnCli();
    try {
      hidden(globalThis, 'carbonscope.own-cli.v1');
    } finally {
      if (wasCli) Object.defineProperty(globalThis, ownCli, wasCli);
      else delete (globalThis as Slots)[ownCli];
    }

    const { logger } = memoryLogger();
    const cs = await Carbonscope.create({
      settings: testConfig({ ENERGY_SOURCE: 'estimate' }),
      logger,
    });
    const provider = new MeterProvider();
    const unbind = bindMetricsOnce(provider, cs, {}, 'register', logger);
    try {
      hidden(globalThis, 'carbonscope.shared-bindings.v1');
    } finally {
      unbind();
      await provider.shutdown();
    }

    // Handed the API's no-op, an instrumentation says once per Carbonscope that its metrics go
    // nowhere: the Carbonscopes told are kept on globalThis, as its first operation ends.
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger,
    });
    try {
      await instrumentation.ready();
      metrics.disable();
      instrumentation.setMeterProvider(metrics.getMeterProvider());
      (await start()).track('job', () => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      hidden(globalThis, 'carbonscope.instrumentation.told-nowhere.v1');
    } finally {
      instrumentation.disable();
      await stop();
    }

    forgetEmpty(globalThis, 'carbonscope.default');
    forgetEmpty(globalThis, 'carbonscope.default.stopping');
    await start({ env: { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }, logger });
    const stopping = stop();
    try {
      hidden(globalThis, 'carbonscope.default');
      hidden(globalThis, 'carbonscope.default.stopping');
    } finally {
      await stopping;
    }
  });
});
