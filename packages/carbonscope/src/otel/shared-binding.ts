import type { MeterProvider } from '@opentelemetry/api';
import { setHidden } from '../hidden-slot.js';
import type { Logger } from '../log.js';
import type { Carbonscope } from '../runtime/index.js';
import type { BindMetricsOptions } from './binding/index.js';
import { binderOf } from './default.js';
import { bindToProvider } from './provider-binding.js';

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
 * The bindings to the providers an application owns, kept on globalThis as the default
 * Carbonscope is: register from one copy of the package and the instrumentation from another
 * share both. Keyed by the provider, not its meter: two copies of two versions get two meters
 * of one provider (the scope's version differs), and each operation was recorded under both.
 * The key names Binding's shape: a copy that reads another shape must not find it.
 */
const KEY = Symbol.for('carbonscope.shared-bindings.v1');
const holder = globalThis as { [KEY]?: WeakMap<MeterProvider, Binding> };

/**
 * bindMetrics to the provider's carbonscope meter, but once per provider and Carbonscope: `--import carbonscope/register` joins the
 * registered provider, and NodeSDK hands the same one to CarbonscopeInstrumentation. Both are
 * documented ways in; bound twice, each operation was recorded twice. The second is told, once,
 * and shares the first's binding and its options; the binding stays until both detach.
 */
export function bindMetricsOnce(
  provider: MeterProvider,
  cs: Carbonscope,
  options: BindMetricsOptions,
  who: string,
  logger: Logger,
): () => void {
  const bindings = holder[KEY] ?? setHidden(holder, KEY, new WeakMap<MeterProvider, Binding>());
  const bound = bindings.get(provider);
  if (bound?.cs === cs && bound.users > 0) {
    bound.users++;
    if (!bound.told) {
      bound.told = true;
      logger.warn(sharedWarning(bound.by, who));
    }
    return released(bindings, provider, bound);
  }
  const binding: Binding = {
    cs,
    by: who,
    users: 1,
    detach: bindWithItsCode(provider, cs, options),
    told: false,
  };
  bindings.set(provider, binding);
  return released(bindings, provider, binding);
}

/**
 * bindMetrics to the provider's carbonscope meter by the code of the copy of the package that
 * made `cs`, where another copy made it: this copy's, bound to another version's instance, read
 * fields that version lacks, and each sample's recording failed.
 */
export function bindWithItsCode(
  provider: MeterProvider,
  cs: Carbonscope,
  options: BindMetricsOptions,
): () => void {
  return (binderOf(cs) ?? bindToProvider)(provider, cs, options);
}

function sharedWarning(first: string, second: string): string {
  return `${second} was bound to the meter provider ${first} already records to; each operation is recorded once, by ${first}'s binding with its options. Use one of the two`;
}

/** A user's detach, once: the binding goes with its last user. */
function released(
  bindings: WeakMap<MeterProvider, Binding>,
  provider: MeterProvider,
  binding: Binding,
): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--binding.users > 0) return;
    binding.detach();
    if (bindings.get(provider) === binding) bindings.delete(provider);
  };
}
