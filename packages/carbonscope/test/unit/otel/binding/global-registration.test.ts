import { DiagConsoleLogger, DiagLogLevel, diag, metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { onGlobalMeterProviderSet } from '../../../../src/otel/binding/global-registration.js';

const API_KEY = Symbol.for('opentelemetry.js.api.1');
const holder = globalThis as unknown as Record<PropertyKey, Record<string, unknown> | undefined>;

describe('onGlobalMeterProviderSet', () => {
  afterEach(() => metrics.disable());

  it('tells of a registration as it is made, the provider already the global one', () => {
    const mp = new MeterProvider();
    const seen: unknown[] = [];
    const off = onGlobalMeterProviderSet(() => seen.push(metrics.getMeterProvider()));
    try {
      expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
      expect(seen).to.deep.equal([mp]);
    } finally {
      off();
    }
  });

  it('leaves a plain property holding the provider once unwatched, and tells no more', () => {
    const seen: number[] = [];
    const off = onGlobalMeterProviderSet(() => seen.push(1));
    off();
    const mp = new MeterProvider();
    expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
    expect(seen).to.deep.equal([]);
    const descriptor = Object.getOwnPropertyDescriptor(holder[API_KEY], 'metrics');
    expect(descriptor?.value).to.equal(mp);
    expect(descriptor?.get).to.equal(undefined);
  });

  it('keeps what was registered while watched when unwatched', () => {
    const mp = new MeterProvider();
    const off = onGlobalMeterProviderSet(() => undefined);
    metrics.setGlobalMeterProvider(mp);
    off();
    expect(metrics.getMeterProvider()).to.equal(mp);
    expect(Object.getOwnPropertyDescriptor(holder[API_KEY], 'metrics')?.value).to.equal(mp);
  });

  it("a listener's failure does not fail the application's registration", () => {
    const off = onGlobalMeterProviderSet(() => {
      throw new Error('boom');
    });
    try {
      const mp = new MeterProvider();
      expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
      expect(metrics.getMeterProvider()).to.equal(mp);
    } finally {
      off();
    }
  });

  it('hears a registration that makes the API global object (no OTel API used before)', () => {
    const api = holder[API_KEY];
    delete holder[API_KEY];
    const seen: unknown[] = [];
    const off = onGlobalMeterProviderSet(() => seen.push(metrics.getMeterProvider()));
    try {
      const mp = new MeterProvider();
      expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
      expect(seen).to.deep.equal([mp]);
    } finally {
      off();
      const made = holder[API_KEY];
      expect(Object.getOwnPropertyDescriptor(globalThis, API_KEY)?.get).to.equal(undefined);
      // The diag logger and others that were registered before, back as they were.
      if (api) holder[API_KEY] = Object.assign(api, { metrics: made?.metrics });
    }
  });

  // The API reads the global object at each call: context.active(), every span's start. An
  // accessor there for the process's life (an application tracing with no meter provider) made
  // each such read a call, several times slower.
  it('puts the global object back as a plain property once made, still hearing metrics', () => {
    const api = holder[API_KEY];
    delete holder[API_KEY];
    const seen: unknown[] = [];
    const off = onGlobalMeterProviderSet(() => seen.push(metrics.getMeterProvider()));
    try {
      // Made by another registration: a tracing SDK's context manager, its diag logger.
      diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.NONE);
      const made = Object.getOwnPropertyDescriptor(globalThis, API_KEY);
      expect(made?.get, 'an accessor on globalThis').to.equal(undefined);
      expect(made?.value).to.have.property('diag');
      const mp = new MeterProvider();
      expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
      expect(seen).to.deep.equal([mp]);
    } finally {
      off();
      diag.disable();
      const made = holder[API_KEY];
      if (api) holder[API_KEY] = Object.assign(api, { metrics: made?.metrics });
    }
  });

  it('watches nothing, and throws nothing, where the global object is frozen', () => {
    const api = holder[API_KEY];
    delete holder[API_KEY];
    const frozen = Object.freeze({ version: '1.9.1' });
    Object.defineProperty(globalThis, API_KEY, { value: frozen, configurable: true });
    try {
      const off = onGlobalMeterProviderSet(() => undefined);
      off();
      expect(Object.getOwnPropertyDescriptor(frozen, 'metrics')).to.equal(undefined);
    } finally {
      delete holder[API_KEY];
      if (api) holder[API_KEY] = api;
    }
  });
});
