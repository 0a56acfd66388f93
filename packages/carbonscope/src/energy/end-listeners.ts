import { checkedOptions, typeOf } from '../argument-checks.js';
import { Listeners } from '../listeners.js';
import type { EndOptions, OperationKind, OperationListener } from './types.js';

const KINDS: readonly OperationKind[] = ['request', 'operation'];

/**
 * onEnd's listeners, each for every kind of operation or for the kinds it named: the tracker
 * builds an ended operation's footprint only where one of them wants its kind. A footprint per
 * request, built for a listener that drops it (a list of jobs), was what a service's scavenges
 * kept of carbonscope's request path (test/bench/OVERHEAD.md, items 37 and 38).
 */
export class EndListeners {
  private readonly listeners = new Listeners<OperationListener>();
  /** Per kind, how many of the listeners want it. */
  private readonly wanting: Record<OperationKind, number> = { request: 0, operation: 0 };

  /** Called in the order they were added; one with kinds skips the others itself. */
  get all(): readonly OperationListener[] {
    return this.listeners.all;
  }

  wants(kind: OperationKind): boolean {
    return this.wanting[kind] > 0;
  }

  /** Adds `listener` for `options.kinds` (every kind without); returns what takes it off. */
  add(listener: OperationListener, options?: EndOptions): () => void {
    const kinds = kindsOf(options);
    const call: OperationListener = kinds
      ? (footprint) => (kinds.includes(footprint.kind) ? listener(footprint) : undefined)
      : listener;
    const off = this.listeners.add(call);
    this.count(kinds, 1);
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      off();
      this.count(kinds, -1);
    };
  }

  private count(kinds: readonly OperationKind[] | undefined, by: number): void {
    for (const kind of kinds ?? KINDS) this.wanting[kind] += by;
  }
}

/** onEnd's kinds, checked: one that is no kind would have been a listener told of nothing. */
function kindsOf(options: EndOptions | undefined): readonly OperationKind[] | undefined {
  if (options === undefined) return undefined;
  checkedOptions(options, 'onEnd()');
  const { kinds } = options;
  if (kinds === undefined) return undefined;
  if (!Array.isArray(kinds) || kinds.length === 0) {
    const got = Array.isArray(kinds) ? 'an empty array' : typeOf(kinds);
    throw new TypeError(
      `onEnd(): kinds must be an array of 'request' and 'operation' (got ${got})`,
    );
  }
  for (const kind of kinds) {
    if (!KINDS.includes(kind)) {
      const got = typeof kind === 'string' ? 'another string' : typeOf(kind);
      throw new TypeError(`onEnd(): each kind must be 'operation' or 'request' (got ${got})`);
    }
  }
  return [...new Set<OperationKind>(kinds)];
}
