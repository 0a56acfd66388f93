import { type TracerProvider, trace } from '@opentelemetry/api';

/** The API's global provider: a proxy whose delegate is the one the application registered. */
type Registered = TracerProvider & { getDelegate?: () => TracerProvider };

/**
 * Runs `before` first whenever the tracer provider registered now shuts down. A span ended
 * after its span processors shut down is dropped, and NodeSDK's shutdown() calls its tracer
 * provider's shutdown() first, its meter provider's beside it: the spans carbonscope holds
 * until their figures settle must be ended before that call, not at the meter provider's last
 * collection. Nothing tells of the call but the call itself, so the provider's shutdown is
 * wrapped (on the provider object, once; what it returns is its own). `look()` is cheap: most
 * calls find the provider they found before.
 */
export class TracerShutdownWatch {
  /** The providers wrapped: each once, whichever the registered one is now. */
  private readonly wrapped = new WeakSet<object>();
  /** The registered provider last looked at. */
  private seen: object | undefined;

  /** `before` runs first; what it throws is dropped, and the application's shutdown goes on. */
  constructor(private readonly before: () => void) {}

  /** Wraps the registered provider's shutdown, unless it was before. */
  look(): void {
    const provider = registered();
    if (provider === this.seen) return;
    this.seen = provider;
    if (this.wrapped.has(provider)) return;
    this.wrapped.add(provider);
    runFirst(provider, this.before);
  }
}

function registered(): object {
  const global: Registered = trace.getTracerProvider();
  return typeof global.getDelegate === 'function' ? global.getDelegate() : global;
}

/** Makes `provider.shutdown()` run `before` first; the API's no-op has none to wrap. */
function runFirst(provider: object, before: () => void): void {
  const target = provider as { shutdown?: unknown };
  const shutdown = target.shutdown;
  if (typeof shutdown !== 'function') return;
  try {
    target.shutdown = function shutdownAfterCarbonscope(this: unknown, ...args: unknown[]) {
      try {
        before();
      } catch {
        // A span processor's onEnd that throws (the SDK's MultiSpanProcessor lets it through)
        // must not keep the provider from shutting down, nor throw out of the application's.
      }
      return shutdown.apply(this, args);
    };
  } catch {
    // A frozen provider: its spans are ended as before, at carbonscope's stop().
  }
}
