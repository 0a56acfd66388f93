import { setHidden } from './hidden-slot.js';
import { setImmediate } from './real-timers.js';

// `beforeExit` as the application sees it, with register beside it. Node emits it each time the
// loop runs empty: register's last push, made from it, keeps the loop going, and when the push is
// done Node emits it again. Without care, an application's listener would be told of one end
// twice, and work it scheduled from it would run after register had stopped metering.

/** How many resources of each kind keep the loop alive (process.getActiveResourcesInfo). */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Whether `after` holds more of some kind than `before`: something new keeps the loop alive. */
function grew(before: Map<string, number>, after: Map<string, number>): boolean {
  for (const [kind, n] of after) if (n > (before.get(kind) ?? 0)) return true;
  return false;
}

/**
 * How many times the listeners' chains get to run until the microtask queue is empty, a
 * `process.nextTick` between each (a stream's step, say): work that waits on I/O first has that
 * I/O under way. Counted in drains, not in single microtasks: an await of a long promise chain
 * (100 links) would outlast a count of those, its work go unmetered and its next end untold.
 */
const DRAINS = 64;

/**
 * Called from the first `beforeExit` listener (register's, prepended): resolves true where the
 * listeners after it scheduled work from this end (a timer, a request, a file written), false
 * where the process would end now without register. Looked at once their synchronous part has
 * run, then each time the microtask queue has run empty (a tick queued from a microtask runs
 * only then), never across a turn of the loop, where carbonscope's own sampling could come (its
 * timers, children and pipes are unref'd, so never listed, but its reads of /proc are). The loop
 * was empty at the event: what is listed then (a ref'd stdio pipe) keeps nothing alive, and only
 * what is added counts.
 */
export function appGoesOn(): Promise<boolean> {
  // Node makes their handles at their first use: a listener's first line written is no work.
  void process.stdout;
  void process.stderr;
  const atEnd = activeResources();
  return new Promise((resolve) => {
    let drains = DRAINS;
    const look = () => {
      if (grew(atEnd, activeResources())) resolve(true);
      else if (--drains === 0) resolve(false);
      else queueMicrotask(() => process.nextTick(look));
    };
    process.nextTick(look);
  });
}

type Emit = (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * The next `beforeExit` comes of register's own work alone (its last push): without register
 * the process would have ended at the last one, which the application's listeners were told of.
 * That one emit is let through to none of them. Held back in `process.emit`, through which Node
 * emits it to the listeners it has then, rather than by taking the application's off until
 * then: that would miss those it adds during the push (an unref'd timer of its own runs
 * while the push holds the loop), and put back one it removes meanwhile. Where another module
 * wraps `process.emit` meanwhile (signal-exit), the wrapper is left in place, this one passing
 * all on after its one emit.
 */
export function hideNextBeforeExit(): void {
  const emit = process.emit as unknown as Emit;
  let hidden = false;
  const hiding: Emit = function (event, ...args) {
    if (event !== 'beforeExit' || hidden) return emit.call(this, event, ...args);
    hidden = true;
    if ((process.emit as unknown) === hiding) process.emit = emit as unknown as typeof process.emit;
    return false;
  };
  process.emit = hiding as unknown as typeof process.emit;
}

/** What the loop's end is watched with: one for the process, whatever the copies loaded. */
interface LoopEndWatch {
  /** Asked at each `beforeExit` before its listeners are; see holdAtLoopEnd. */
  readonly holds: Set<() => boolean>;
  watched: boolean;
  /** True while the wrapper passes a `beforeExit` on: its listener then has nothing to do. */
  throughWrapper: boolean;
  /** True from a `beforeExit` until the loop goes on; see loopEnding. */
  ending: boolean;
}

/**
 * Kept on `process`: a test runner that loads carbonscope once per test file into one process
 * (Vitest's vmThreads) had each copy wrap `process.emit` again and add its own listener, so the
 * 11th file's drew a MaxListenersExceededWarning (14 `beforeExit` listeners after 14 files).
 */
const KEY = Symbol.for('carbonscope.loop-end-watch.v1');
function processWatch(): LoopEndWatch {
  const holder = process as { [KEY]?: LoopEndWatch };
  const fresh = {
    holds: new Set<() => boolean>(),
    watched: false,
    throughWrapper: false,
    ending: false,
  };
  return holder[KEY] ?? setHidden(holder, KEY, fresh);
}
const watch = processWatch();

/** Whether one of the holds kept the loop going: each is asked, so each can. */
function heldAtLoopEnd(): boolean {
  let held = false;
  for (const hold of watch.holds) if (hold()) held = true;
  return held;
}

function notEnding(): void {
  watch.ending = false;
}

/**
 * Unref'd: it runs only where the loop goes on, at its next turn; where it does not, the process
 * ends. Node looks whether it goes on once the listeners and the microtasks they queued have run.
 */
function markEnding(): void {
  if (watch.ending) return;
  watch.ending = true;
  setImmediate(notEnding).unref();
}

/**
 * Whether the event loop ran empty and Node is telling `beforeExit` listeners of it: work that
 * is to hold the process must be scheduled now, before Node looks whether the loop goes on (a
 * hold asked only at the next end would never be: there is none).
 */
export function loopEnding(): boolean {
  return watch.ending;
}

/**
 * A `beforeExit` the wrapper did not see: another module's `process.emit` went past it
 * (signal-exit calls the emit it found at its load, and puts it back at its unload). The holds
 * are asked all the same, so what they wait for comes; the listeners are told of that end too.
 */
function missedByWrapper(): void {
  if (watch.throughWrapper) return;
  markEnding();
  heldAtLoopEnd();
}

/**
 * Wraps `process.emit` (at the first call, for good) to see each `beforeExit` before its
 * listeners are, with a listener of its own for one that goes past the wrapper. Made before
 * anything awaits a figure, so that one first awaited from a `beforeExit` listener finds the
 * end under way (loopEnding). While no hold is there, all is passed on as it came. The wrapper
 * stays: taking it off would drop one another module put over it meanwhile (register's
 * hideNextBeforeExit, signal-exit).
 */
export function watchLoopEnd(): void {
  if (watch.watched) return;
  watch.watched = true;
  const emit = process.emit as unknown as Emit;
  const holding: Emit = function (event, ...args) {
    if (event !== 'beforeExit') return emit.call(this, event, ...args);
    if (watch.holds.size > 0 && heldAtLoopEnd()) return false;
    markEnding();
    watch.throughWrapper = true;
    try {
      return emit.call(this, event, ...args);
    } finally {
      watch.throughWrapper = false;
    }
  };
  process.emit = holding as unknown as typeof process.emit;
  process.prependListener('beforeExit', missedByWrapper);
}

/**
 * Has `hold` asked each time the event loop runs empty, before any `beforeExit` listener is
 * told (register's among them). Where it answers true it has scheduled the work that keeps the
 * loop going (the sample an awaited settled() waits for), and the event is emitted to none: to
 * the application and to register the loop did not run empty, as if a ref'd timer had held it.
 * Returns what takes it off.
 */
export function holdAtLoopEnd(hold: () => boolean): () => void {
  watchLoopEnd();
  watch.holds.add(hold);
  return () => {
    watch.holds.delete(hold);
  };
}
