import { type MeterProvider, metrics, type TracerProvider } from '@opentelemetry/api';
import { typeOf } from './argument-checks.js';
import { defaultLogger } from './default-logger.js';
import { setHidden } from './hidden-slot.js';
import { heldUntilSettled } from './hold.js';
import { installRouteResolvers } from './http/frameworks/index.js';
import type { Logger } from './log.js';
import { type KeyTable, knownKeys, warnUnknownKeys } from './option-keys.js';
import type { LocalHistograms } from './otel/binding/index.js';
import { checkSwitch } from './otel/binding/index.js';
import {
  bindMetricsOnce,
  captureSpan,
  contextPropagates,
  defaultUnderWay,
  metersForNothing,
  metricsOff,
  releaseHeldSpans,
  SCOPE_NAME,
  startDefault,
  warnIgnoredOptions,
} from './otel/index.js';
import { registerPresent } from './register-present.js';
import type { Carbonscope, CarbonscopeOptions } from './runtime/index.js';
import { CARBONSCOPE_OPTIONS, checkOptions, STARTED_OPTIONS } from './runtime/index.js';
import { checkSettings } from './settings.js';
import { messageOf } from './thrown-text.js';
import { VERSION } from './version.js';

/**
 * What an application sets on the instrumentation: any of CarbonscopeOptions (settings, env,
 * logger, sources...) but the span hooks, which it sets itself, and the fields below. How it
 * binds to the SDK (it settles at each collection) is its own: bindMetrics' other options are
 * for carbonscope's own entry points.
 */
export interface CarbonscopeInstrumentationConfig
  extends Omit<CarbonscopeOptions, 'captureContext' | 'contextActive' | 'releaseContexts'> {
  /** As every OTel instrumentation: false leaves it off until enable(). */
  enabled?: boolean;
  /**
   * Also record `http.server.request.duration` for the requests it tracks. Off by default: the
   * OTel HTTP instrumentation records the same.
   */
  http?: boolean;
  /**
   * carbonscope's own histograms (`new LocalHistograms(sdkMetrics, SCOPE)`), recorded in place
   * instead of through the SDK's, which hash their attributes on every record. Exported only by
   * a reader given them in its `metricProducers` (`histograms.producer(exporter)` for a pushing
   * one); the SDK's views do not apply to them.
   */
  histograms?: LocalHistograms;
}

/** CarbonscopeInstrumentation's config: the span hooks are its own to set. */
const INSTRUMENTATION_CONFIG = {
  ...STARTED_OPTIONS,
  enabled: true,
  http: true,
  histograms: true,
} as const satisfies Record<keyof CarbonscopeInstrumentationConfig, true | KeyTable>;

const CALLER = 'CarbonscopeInstrumentation';

/**
 * carbonscope as an OpenTelemetry instrumentation, for services that configure the SDK
 * themselves: `new NodeSDK({ instrumentations: [new CarbonscopeInstrumentation()] })`. The SDK
 * hands it its meter provider; enable() starts the meter and request tracking, disable() stops
 * the tracking it asked for (register's goes on) and detaches the instruments (the meter keeps
 * the figures it has).
 */
export class CarbonscopeInstrumentation {
  readonly instrumentationName = SCOPE_NAME;
  readonly instrumentationVersion = VERSION;
  private config: CarbonscopeInstrumentationConfig;
  private meterProvider: MeterProvider | undefined;
  private cs: Carbonscope | undefined;
  private starting: Promise<void> | undefined;
  private detach: (() => void) | undefined;
  /** Whether this instrumentation's trackRequests() call is still to be released. */
  private tracking = false;
  /** Stops waiting for the operation whose loss the no-op warning tells. */
  private unwatch: (() => void) | undefined;
  private readonly logger: Logger;

  constructor(config: CarbonscopeInstrumentationConfig = {}) {
    checkConfig(config);
    this.config = { enabled: true, ...config };
    this.logger = config.logger ?? ownLogger(config);
    warnUnknownKeys(config, INSTRUMENTATION_CONFIG, CALLER, this.logger);
    if (this.config.enabled) this.enable();
  }

  enable(): void {
    // At once, before the application builds its Fastify 4 instance (the meter starts later).
    installRouteResolvers();
    if (this.starting) return;
    // Its own keys (and those it warned of) are no Carbonscope option: passed on, the start
    // would warn of them again; a group's key it warned of, the start knows by its caller.
    const given = knownKeys(this.config, CARBONSCOPE_OPTIONS);
    // Beside `--import carbonscope/register`, its settings went nowhere without a word. Not at an
    // enable() after a disable(): the instance it found then is the one it started or was given.
    if (!this.cs) warnIgnoredOptions(given, CALLER);
    // Whether the tracking create() begins is this start's: not where it shares a start under
    // way (register's asks for itself; an older copy's begins none), nor with trackRequests: false.
    const early = (given.trackRequests ?? true) && !defaultUnderWay();
    const starting: Promise<void> = startDefault(
      {
        ...given,
        // As register: an application that only built the SDK ends when it would without
        // carbonscope, not after the GPU probe; ready() holds for whoever awaits the start.
        select: { holdProcess: false, ...this.config.select },
        // As register: a request answered while the power sources are probed (a second or more
        // for a slow nvidia-smi) is counted, not told of as missed. No ask of its own: the one
        // below, once started, is (released once, by disable()).
        trackRequests: given.trackRequests ?? true,
        logger: this.logger,
        captureContext: captureSpan,
        contextActive: contextPropagates,
        releaseContexts: releaseHeldSpans,
      },
      CALLER,
    )
      .then((cs) => {
        this.cs = cs;
        // disable() before the start ended: it stays off (no tracking, no binding) until enable().
        // The tracking its own start began is no one's once it asks and gives back: it ends
        // where no one else asked meanwhile. Not where enable() came again: that start's turn asks.
        if (this.starting !== starting) {
          if (early && this.starting === undefined) askedAndReleased(cs);
          return;
        }
        cs.trackRequests();
        this.tracking = true;
        this.bind();
      })
      .catch((err: unknown) => {
        if (this.starting === starting) this.starting = undefined;
        this.logger.error(`carbonscope instrumentation: ${messageOf(err)}`);
      });
    this.starting = starting;
  }

  disable(): void {
    this.detach?.();
    this.detach = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    // Its own ask only: register shares the Carbonscope, and tracks the requests for its export.
    if (this.tracking && this.cs) releaseRequests(this.cs);
    this.tracking = false;
    this.starting = undefined;
  }

  /**
   * Resolves once enable() has started the meter and bound the instruments, keeping the process
   * alive until then (the start's own probes do not).
   */
  ready(): Promise<void> {
    return this.starting ? heldUntilSettled(this.starting) : Promise.resolve();
  }

  setMeterProvider(meterProvider: MeterProvider): void {
    this.meterProvider = meterProvider;
    this.bind();
  }

  /**
   * Once per Carbonscope (two instrumentations share one, and one line): bound to the API's
   * no-op, it meters for nothing, and nothing else says so. NodeSDK registers no provider
   * without a reader: sdk-node 0.200.0 has no `otlp` default, and those before 0.204 (0.5x too)
   * ignore `metricReaders` (they take one `metricReader`). Not while disabled (it records nothing), nor
   * where register exports the figures through its own SDK and says so itself.
   */
  private tellIfNowhere(cs: Carbonscope): void {
    const provider = this.meterProvider;
    if (!this.detach || !provider) return;
    if (registerPresent() || metricsOff(this.config.env ?? process.env)) return;
    const toldOf = told[TOLD] ?? setHidden(told, TOLD, new WeakSet<Carbonscope>());
    if (toldOf.has(cs) || !metersForNothing(provider)) return;
    toldOf.add(cs);
    this.logger.warn(NOWHERE);
  }

  /** Spans come from the global tracer: the operation's figures land on the span it began under. */
  setTracerProvider(_tracerProvider: TracerProvider): void {}

  setConfig(config: CarbonscopeInstrumentationConfig): void {
    checkConfig(config);
    warnUnknownKeys(config, INSTRUMENTATION_CONFIG, CALLER, this.logger);
    this.config = { ...this.config, ...config };
  }

  getConfig(): CarbonscopeInstrumentationConfig {
    return this.config;
  }

  private bind(): void {
    // Disabled, it stays detached: a provider handed meanwhile is bound at enable().
    if (!this.cs || !this.starting) return;
    this.detach?.();
    // Used without an SDK's registerInstrumentations, it joins the global provider.
    const provider = this.meterProvider ?? metrics.getMeterProvider();
    // The application's provider may push last before stop(), or without it: its collections
    // settle what ended since the last sample.
    const { http, histograms } = this.config;
    const options = { http, histograms, settleAtCollection: true };
    this.detach = bindMetricsOnce(
      provider,
      this.cs,
      options,
      'CarbonscopeInstrumentation',
      this.logger,
    );
    if (this.meterProvider) this.watchNowhere(this.cs);
  }

  /**
   * Looks at the provider when the next operation ends, whose figures it then records or loses.
   * A turn later was soon enough for NodeSDK (the API's no-op first, its own provider later in
   * the same start()), not for an application that calls registerInstrumentations before its
   * provider exists and hands that by hand once its configuration is loaded: it was told its
   * metrics went nowhere, and none was lost.
   */
  private watchNowhere(cs: Carbonscope): void {
    this.unwatch?.();
    let seen = false;
    const off = cs.onFinish(() => {
      if (seen) return;
      seen = true;
      off();
      this.unwatch = undefined;
      this.tellIfNowhere(cs);
    });
    this.unwatch = off;
  }
}

/**
 * The fields the instrumentation reads itself, checked as it is configured: a `histograms`
 * that is none failed at the bind, after the start, as one logged error and no metrics; a
 * string `enabled` ('false') turned it on. The CarbonscopeOptions fields are start()'s to check.
 */
/**
 * The default logger, masking the secrets of settings given in code too: the start logs through
 * this one, not through one made from the settings it loads. Settings that fail their check are
 * refused by the start, in this logger's words; their secrets are not read.
 */
function ownLogger(config: CarbonscopeInstrumentationConfig): Logger {
  const env = config.env ?? process.env;
  if (!config.settings) return defaultLogger(env);
  try {
    checkSettings(config.settings);
  } catch {
    return defaultLogger(env);
  }
  return defaultLogger(env, config.settings);
}

function checkConfig(config: unknown): void {
  const caller = CALLER;
  // At the constructor, where the start's own check would only be one logged error later.
  checkOptions(config, caller, 'the config');
  const { enabled, http, histograms } = config as Record<string, unknown>;
  checkSwitch(enabled, caller, 'enabled');
  checkSwitch(http, caller, 'http');
  // By its methods, not instanceof: another copy of carbonscope's LocalHistograms records too.
  // Null is none, as bindMetrics has always taken it.
  const local = histograms as Partial<Record<'histogram' | 'collect', unknown>> | null | undefined;
  if (local === undefined || local === null) return;
  if (typeof local.histogram === 'function' && typeof local.collect === 'function') return;
  throw new TypeError(
    `${caller}: histograms must be a LocalHistograms ` +
      `(new LocalHistograms(sdkMetrics, SCOPE)), got ${typeOf(histograms)}`,
  );
}

/**
 * Gives back one trackRequests() call. The Carbonscope is shared on globalThis, and one an older
 * copy of the package made has no releaseRequests(): stopped for all, as that copy's disable()
 * did, rather than a TypeError out of disable().
 */
function releaseRequests(cs: Carbonscope): void {
  const release: unknown = (cs as { releaseRequests?: unknown }).releaseRequests;
  if (typeof release === 'function') cs.releaseRequests();
  else cs.untrackRequests();
}

/** One ask of the tracking given back at once: it goes on only for those who asked for it. */
function askedAndReleased(cs: Carbonscope): void {
  cs.trackRequests();
  releaseRequests(cs);
}

/** The Carbonscopes told, on globalThis: an instrumentation of another copy of the package too. */
const TOLD = Symbol.for('carbonscope.instrumentation.told-nowhere.v1');
const told = globalThis as { [TOLD]?: WeakSet<Carbonscope> };

const NOWHERE =
  "CarbonscopeInstrumentation: the SDK handed it the OpenTelemetry API's no-op meter provider, so its metrics are not exported: the SDK registered no meter provider (NodeSDK registers one only with a metric reader; sdk-node before 0.204, the 1.x line's 0.5x too, ignores `metricReaders`, pass one as `metricReader`; 0.200.0 builds none from an unset OTEL_METRICS_EXPORTER; registerInstrumentations() without a `meterProvider`, before any global one is set, hands the same: pass yours). OTEL_METRICS_EXPORTER=none says no metrics are wanted, and silences this";
