import type { OperationContext, OperationKind } from '../energy/index.js';

type Capture = (operation: string, kind: OperationKind) => OperationContext | undefined;

/**
 * Where a captureContext keeps the function that hands on at once what its contexts hold back.
 * For the registry, not the module: another copy of the package (of another version too) may
 * have made the capture a Carbonscope of this one is given.
 */
const RELEASE = Symbol.for('carbonscope.releaseContexts');
/** Where a captureContext keeps the release of one owner's contexts alone (see ownedRelease). */
const OWN = Symbol.for('carbonscope.ownContextRelease');

/**
 * What a captureContext whose release is shared by the process (captureSpan's one SpanRelease)
 * offers to end one instance's contexts alone: told which owner's settlement is running (each
 * tracker's, once a settlement, not once an operation: the capture and each context's
 * settlement stay as they were), and asked at stop() to hand on that owner's alone.
 */
export interface OwnedRelease {
  /**
   * `owner`'s settlement begins; undefined: the one that began last ended (one instance's can
   * run inside another's, and the outer one's then goes on).
   */
  settling(owner: object | undefined): void;
  /** Hands on now what `owner`'s settlements left held back, and nothing of another's. */
  release(owner: object): void;
}

/** What create() wires for a captureContext: the tracker's settling hook and stop()'s release. */
export interface ContextHooks {
  /** For the tracker: its settlement begins (true) or ended (false). */
  settling?: (settling: boolean) => void;
  /** For stop(): see contextRelease. */
  release?: () => void;
}

/**
 * Pairs `capture` with its `release`, which every Carbonscope given `capture` calls at stop():
 * a hand-wired one whose releaseContexts was none, or its own, left captureSpan's paced spans to
 * their pace, after stop() resolved, where the process's exit or the SDK's shutdown lost them.
 */
export function releasedWith(capture: Capture, release: () => void): void {
  Object.defineProperty(capture, RELEASE, { value: release });
}

/** Pairs `capture` with the release of one owner's contexts alone (see OwnedRelease). */
export function ownedRelease(capture: Capture, owned: OwnedRelease): void {
  Object.defineProperty(capture, OWN, { value: owned });
}

function ownedOf(capture: Capture | undefined): OwnedRelease | undefined {
  const owned: unknown = capture && (capture as { [OWN]?: unknown })[OWN];
  return typeof owned === 'object' && owned !== null ? (owned as OwnedRelease) : undefined;
}

/**
 * An instance's hooks: where `capture` offers an owned release, its stop() hands on its own
 * contexts alone, and the paired process-wide release given as `given` (releaseHeldSpans) stands
 * for that one; a capture of a copy that offers none keeps contextRelease's.
 */
export function contextHooks(
  capture: Capture | undefined,
  given: (() => void) | undefined,
): ContextHooks {
  const owned = ownedOf(capture);
  if (!owned) return { release: contextRelease(capture, given) };
  const owner = {};
  const own = () => owned.release(owner);
  return {
    settling: (settling) => owned.settling(settling ? owner : undefined),
    release: given && given !== pairedOf(capture) ? inOrder(own, given) : own,
  };
}

function pairedOf(capture: Capture | undefined): (() => void) | undefined {
  const paired: unknown = capture && (capture as { [RELEASE]?: unknown })[RELEASE];
  return typeof paired === 'function' ? (paired as () => void) : undefined;
}

/** `first`, then `then` whatever `first` threw. */
function inOrder(first: () => void, then: () => void): () => void {
  return () => {
    try {
      first();
    } finally {
      then();
    }
  };
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
  const paired = pairedOf(capture);
  if (!paired || paired === given) return given;
  return given ? inOrder(paired, given) : paired;
}
