import type { Meter } from '@opentelemetry/api';
import type { Logger } from '../log.js';
import type { Carbonscope } from '../runtime/carbonscope.js';
import { type BindMetricsOptions, bindMetrics } from './bind-metrics.js';

/** One binding of a Carbonscope's instruments to a meter, and who uses it. */
interface Binding {
  readonly cs: Carbonscope;
  /** The entry point that bound it first, as the warning names it. */
  readonly by: string;
  users: number;
  readonly detach: () => void;
  told: boolean;
}

/**
 * The bindings to the meters of providers an application owns, kept on globalThis as the default
 * Carbonscope is: register from one copy of the package and the instrumentation from another
 * share both. Keyed by the meter: the SDK hands out one per provider, name and version.
 */
const KEY = Symbol.for('carbonscope.shared-bindings');
const holder = globalThis as { [KEY]?: WeakMap<Meter, Binding> };

/**
 * bindMetrics, but once per meter and Carbonscope: `--import carbonscope/register` joins the
 * registered provider, and NodeSDK hands the same one to CarbonscopeInstrumentation. Both are
 * documented ways in; bound twice, each operation was recorded twice. The second is told, once,
 * and shares the first's binding and its options; the binding stays until both detach.
 */
export function bindMetricsOnce(
  meter: Meter,
  cs: Carbonscope,
  options: BindMetricsOptions,
  who: string,
  logger: Logger,
): () => void {
  holder[KEY] ??= new WeakMap();
  const bindings = holder[KEY];
  const bound = bindings.get(meter);
  if (bound?.cs === cs && bound.users > 0) {
    bound.users++;
    if (!bound.told) {
      bound.told = true;
      logger.warn(sharedWarning(bound.by, who));
    }
    return released(bindings, meter, bound);
  }
  const binding: Binding = {
    cs,
    by: who,
    users: 1,
    detach: bindMetrics(meter, cs, options),
    told: false,
  };
  bindings.set(meter, binding);
  return released(bindings, meter, binding);
}

function sharedWarning(first: string, second: string): string {
  return `carbonscope: ${second} was bound to the meter provider ${first} already records to; each operation is recorded once, by ${first}'s binding with its options. Use one of the two`;
}

/** A user's detach, once: the binding goes with its last user. */
function released(bindings: WeakMap<Meter, Binding>, meter: Meter, binding: Binding): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--binding.users > 0) return;
    binding.detach();
    if (bindings.get(meter) === binding) bindings.delete(meter);
  };
}
