import { type EnergyTracker, MAX_UNSETTLED } from '../energy/index.js';
import { setHidden } from '../hidden-slot.js';
import { heldUntilSettled } from '../hold.js';
import {
  CARBONSCOPE_OPTIONS,
  Carbonscope,
  type CarbonscopeOptions,
  whenStopped,
} from '../runtime/index.js';
import { differingFields } from './differing-fields.js';
import { bindToProvider, type ProviderBinder } from './provider-binding.js';
import { ranBeforeStartText } from './ran-before-start.js';

/**
 * The process's one carbonscope, shared by `register`, the instrumentation and the programmatic
 * API, so they never start a second meter. Kept on globalThis: two copies of the package in one
 * process (an app and a dependency), of two versions too, still share it. The key names no
 * shape, so that they do: what a copy reads of a slot another copy made may be absent there.
 */
const KEY = Symbol.for('carbonscope.default');
/** The default instance's stop while it runs: no longer the default, not yet pushed. */
const STOPPING = Symbol.for('carbonscope.default.stopping');
interface Slot {
  starting: Promise<Carbonscope>;
  /** Set once started, for the synchronous callers (track). */
  started?: Carbonscope;
  /**
   * Its tracker while it starts, lent by create() as soon as it is made and until started (the
   * sources' probe, then the grid's fetch): track() counts from a script's first line, which may
   * run before the start ends (Node 24's --import, -r).
   */
  lent?: EnergyTracker;
  /** Run after the last sample when it stops: register's own SDK pushes what it holds. */
  atStop: Array<() => Promise<void>>;
  /**
   * Who started it, and with what: an option given again with the same value is no news.
   * Absent where an older copy of the package made the slot.
   */
  starter?: string;
  options?: object;
  /** The binder of the copy that made the instance (absent where an older copy made it). */
  bind?: ProviderBinder;
  /** Whether a later caller's options were warned of as ignored: once per instance. */
  warnedIgnored: boolean;
  /** The track() calls that ran unmetered while it started: told of once, when it has. */
  ranBefore?: { first: string; count: number };
}
const holder = globalThis as { [KEY]?: Slot; [STOPPING]?: Promise<void> };

/**
 * Whether a default instance is started or starting (register's, a start()'s, another copy's):
 * a startDefault() now would share it, its options ignored.
 */
export function defaultUnderWay(): boolean {
  return holder[KEY] !== undefined;
}

/** The started default instance: created and started on the first call, shared after that. */
export function startDefault(
  options: CarbonscopeOptions = {},
  /** Who was given the options, for the warnings of keys it does not know. */
  caller = 'start()',
): Promise<Carbonscope> {
  const existing = holder[KEY];
  if (existing) {
    const holds = options.select?.holdProcess !== false && existing.started === undefined;
    // The first caller's probes may hold nothing (register's): a script awaiting the same start
    // is held here.
    return holds ? heldUntilSettled(existing.starting) : existing.starting;
  }
  const slot: Slot = {
    starting: Promise.resolve() as unknown as Promise<Carbonscope>,
    atStop: [],
    starter: caller,
    options,
    bind: bindToProvider,
    warnedIgnored: false,
  };
  slot.starting = (async () => {
    const cs = await Carbonscope.create(options, caller, {
      lend: (tracker) => {
        slot.lent = tracker;
      },
    });
    whenStopped(cs, () => forget(slot));
    // Lent until started: the start fetches the grid's intensity first (seconds where slow).
    await cs.start();
    slot.started = cs;
    slot.lent = undefined;
    return cs;
  })();
  setHidden(holder, KEY, slot);
  // A failed start is not kept: the next call tries again.
  slot.starting.catch(() => {
    if (holder[KEY] === slot) holder[KEY] = undefined;
  });
  return slot.starting;
}

/**
 * The binder of the copy of the package that made `cs`, where `cs` is the default instance and
 * that copy keeps one; else undefined (the caller binds with its own).
 */
export function binderOf(cs: Carbonscope): ProviderBinder | undefined {
  const slot = holder[KEY];
  return slot?.started === cs && typeof slot.bind === 'function' ? slot.bind : undefined;
}

/** The default instance once started; undefined before (or while it starts). */
export function startedDefault(): Carbonscope | undefined {
  return holder[KEY]?.started;
}

/**
 * The tracker of the default instance while it starts (its meter counts from its create()), for
 * track(); undefined once started, where none starts, where another copy of the package that
 * lends none made it, and where MAX_UNSETTLED operations wait already: until the instance is
 * made, nothing takes in those reported beyond it.
 */
export function startingTracker(): EnergyTracker | undefined {
  const slot = holder[KEY];
  const lent = slot && !slot.started ? slot.lent : undefined;
  return lent && typeof lent.track === 'function' && lent.pending < MAX_UNSETTLED
    ? lent
    : undefined;
}

/**
 * Notes a track() of `operation` that runs unmetered because the default instance is still
 * starting (an unawaited start(), `sdk.start()` with the instrumentation, register's probe) and
 * its tracker takes no more (startingTracker: MAX_UNSETTLED wait, or another copy made it):
 * told once, through its logger, when it has started, with how many there were. None while no
 * start is under way: library code in a host that never starts carbonscope runs unmetered, as
 * it always has. Only on track()'s unstarted path: once started, nothing is added.
 */
export function ranBeforeStart(operation: string): void {
  const slot = holder[KEY];
  if (!slot || slot.started) return;
  if (slot.ranBefore) {
    slot.ranBefore.count++;
    return;
  }
  const ran = { first: operation, count: 1 };
  slot.ranBefore = ran;
  const starter = slot.starter ?? 'another copy of carbonscope';
  slot.starting
    .then((cs) => cs.logger.warn(ranBeforeStartText(ran.first, ran.count, starter)))
    .catch(() => undefined);
}

/**
 * Has `fn` run when `cs`, the default instance, is stopped, after its last sample; at once when
 * `cs` is no longer the default one (it was stopped before this was asked).
 */
export async function atDefaultStop(cs: Carbonscope, fn: () => Promise<void>): Promise<void> {
  const slot = holder[KEY];
  if (slot?.started === cs) slot.atStop.push(fn);
  else await fn();
}

/**
 * Stops the default instance (a last sample), runs what waits for that, and forgets it. Called
 * again while that runs (a SIGINT's handler beside a SIGTERM's, each awaiting stop()), it resolves
 * with it, not at once: nothing is the default any more, but the last push is still under way.
 */
export function stopDefault(): Promise<void> {
  const slot = holder[KEY];
  if (!slot) return holder[STOPPING] ?? Promise.resolve();
  holder[KEY] = undefined;
  const stopping = slot.starting.then(
    (cs) => cs.stop(),
    () => undefined,
  );
  return underWay(stopping);
}

/** Has stopDefault() hand on `stopping` until it settles, once nothing is the default. */
function underWay(stopping: Promise<void>): Promise<void> {
  setHidden(holder, STOPPING, stopping);
  const done = () => {
    if (holder[STOPPING] === stopping) holder[STOPPING] = undefined;
  };
  stopping.then(done, done);
  return stopping;
}

/** Its instance stopped (by stop() or its own stop()): no longer the default, its waiters run. */
async function forget(slot: Slot): Promise<void> {
  const own = holder[KEY] === slot;
  if (own) holder[KEY] = undefined;
  const waiters = (async () => {
    for (const fn of slot.atStop.splice(0)) await fn();
  })();
  // Stopped by its own stop(), not stopDefault(): a stop() from now on waits for the push too.
  await (own ? underWay(waiters) : waiters);
}

/**
 * Warns once, through the running default instance's logger, that `options` given by `caller`
 * are ignored, and where to set them: an application that starts carbonscope with its options
 * under `--import carbonscope/register` was otherwise left believing them set. Nothing before
 * the first start, nor for options without a value, no option of carbonscope's, or the value
 * the running instance was given (each module starting it with the application's one
 * configuration, or the first start's own object again): those are in force. Settings are
 * compared with the running instance's field by field, and the fields that differ are named.
 */
export function warnIgnoredOptions(options: object, caller: string): void {
  const slot = holder[KEY];
  if (!slot || slot.warnedIgnored || slot.options === options) return;
  // An older copy's slot keeps no options: every option given is then news.
  const running = slot.options as Readonly<Record<string, unknown>> | undefined;
  // Carbonscope's options only: spread from an application's configuration, its other keys
  // (any number, named anything) were never options, and the line stays bounded.
  const given = Object.entries(options).filter(
    ([key, value]) =>
      value !== undefined &&
      Object.hasOwn(CARBONSCOPE_OPTIONS, key) &&
      value !== inForce(running, key),
  );
  if (given.length === 0) return;
  const starter = slot.starter ?? 'another copy of carbonscope';
  slot.starting
    .then((cs) => {
      // Read once started: the settings in force are the instance's, given or from its env.
      const keys = given.flatMap(([key, value]) =>
        key === 'settings' ? differingFields(value, cs.settings, key) : [key],
      );
      if (keys.length === 0 || slot.warnedIgnored) return;
      slot.warnedIgnored = true;
      cs.logger.warn(ignoredText(caller, keys, starter));
    })
    .catch(() => undefined);
}

/**
 * The running instance's option `key`: given, or for `env` the process.env it read then.
 * Unknown (undefined) where an older copy made the slot.
 */
function inForce(running: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  if (!running) return undefined;
  return key === 'env' ? (running.env ?? process.env) : running[key];
}

function ignoredText(caller: string, keys: string[], starter: string): string {
  const where = starter.startsWith('--import')
    ? 'register reads its settings from the environment (CARBON_ZONE, ENERGY_*, PUE…): set them there'
    : `give them to the first start, or stop() it and start it again with them`;
  return `${caller}: carbonscope is already running (started by ${starter}), so the options ${keys.join(', ')} are ignored; ${where}`;
}
