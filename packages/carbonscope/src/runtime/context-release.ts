import type { OperationContext, OperationKind } from '../energy/index.js';

type Capture = (operation: string, kind: OperationKind) => OperationContext | undefined;

/**
 * Where a captureContext keeps the function that hands on at once what its contexts hold back.
 * For the registry, not the module: another copy of the package (of another version too) may
 * have made the capture a Carbonscope of this one is given.
 */
const RELEASE = Symbol.for('carbonscope.releaseContexts');

/**
 * Pairs `capture` with its `release`, which every Carbonscope given `capture` calls at stop():
 * a hand-wired one whose releaseContexts was none, or its own, left captureSpan's paced spans to
 * their pace, after stop() resolved, where the process's exit or the SDK's shutdown lost them.
 */
export function releasedWith(capture: Capture, release: () => void): void {
  Object.defineProperty(capture, RELEASE, { value: release });
}

/**
 * What stop() calls: the release paired with `capture`, then `given` (the releaseContexts
 * option), once where the two are one. Paired first: what `given` hands on (an exporter's
 * flush) takes the spans it ends; called after, they ended behind the flush, and were lost.
 */
export function contextRelease(
  capture: Capture | undefined,
  given: (() => void) | undefined,
): (() => void) | undefined {
  const paired: unknown = capture && (capture as { [RELEASE]?: unknown })[RELEASE];
  if (typeof paired !== 'function' || paired === given) return given;
  const own = paired as () => void;
  if (!given) return own;
  return () => {
    try {
      own();
    } finally {
      given();
    }
  };
}
