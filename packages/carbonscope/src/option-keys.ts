import type { Logger } from './log.js';
import { nearestName } from './nearest-name.js';

/**
 * The keys an options object takes: `true` for a value taken as it is, a table for a group
 * whose own keys are checked too (`settings: { energy: { ... } }`). A table with OTHER_KEYS
 * takes keys it does not name without a word: its object may be a bigger one (an application's
 * whole configuration, of which carbonscope's settings are a part).
 */
export interface KeyTable {
  readonly [key: string]: true | KeyTable;
}

export const OTHER_KEYS = '*';

/** Unknown keys warned of in the process; a caller building keys in a loop cannot flood. */
const MAX_WARNED = 100;
const warned = new Set<string>();

/**
 * Warns once per caller and key (through `logger`) of each key of `options` that `table`
 * lacks, naming the key meant where one is near: a typo otherwise leaves the option at its
 * default while its author believes it set. A warning, not a TypeError: options are often
 * spread from a bigger configuration object whose other keys are no mistake, and a start that
 * took them before would fail an application that worked.
 */
export function warnUnknownKeys(
  options: object,
  table: KeyTable,
  caller: string,
  logger: Logger,
): void {
  for (const { path, meant } of unknownKeys(options, table, '')) {
    const id = `${caller}\0${path}`;
    if (warned.has(id) || warned.size >= MAX_WARNED) continue;
    warned.add(id);
    const hint = meant ? ` (did you mean ${meant}?)` : '';
    logger.warn(`${caller}: unknown option ${path}${hint}; it is ignored`);
  }
}

/**
 * warnUnknownKeys for an options object given at each call (measure()'s), whose table is flat:
 * a walk over its keys that allocates nothing while they are known (the common case), and a key
 * already warned of costs no second search for the key meant.
 */
export function warnUnknownCallKeys(
  options: object,
  table: KeyTable,
  caller: string,
  logger: Logger,
): void {
  for (const key in options) {
    if (Object.hasOwn(table, key) || !Object.hasOwn(options, key)) continue;
    if (warned.size >= MAX_WARNED || warned.has(`${caller}\0${key}`)) continue;
    warnUnknownKeys(options, table, caller, logger);
    return;
  }
}

/** `options` with only the keys `table` has (what a caller passes on, having warned of the rest). */
export function knownKeys<T extends object>(options: T, table: KeyTable): T {
  const kept = Object.entries(options).filter(([key]) => Object.hasOwn(table, key));
  return Object.fromEntries(kept) as T;
}

interface Unknown {
  path: string;
  meant: string | undefined;
}

function unknownKeys(options: object, table: KeyTable, prefix: string): Unknown[] {
  const found: Unknown[] = [];
  for (const [key, value] of Object.entries(options)) {
    const group = Object.hasOwn(table, key) ? table[key] : undefined;
    if (group === undefined) {
      if (!Object.hasOwn(table, OTHER_KEYS)) {
        found.push({ path: prefix + key, meant: meantKey(key, table, prefix) });
        continue;
      }
      const below = keyBelow(key, table, prefix);
      if (below !== undefined) found.push({ path: prefix + key, meant: below });
    } else if (group !== true && isPlainObject(value)) {
      found.push(...unknownKeys(value, group, `${prefix}${key}.`));
    }
  }
  return found;
}

/**
 * The key `key` was meant to be: one of this level's, else one a group below has (`zone` given
 * beside `settings` is `settings.grid.zone`).
 */
function meantKey(key: string, table: KeyTable, prefix: string): string | undefined {
  const paths = [...names(table).map((k) => [k]), ...groupKeys(table)];
  const leaves = paths.map((path) => path[path.length - 1]);
  const meant = nearestName(key, leaves);
  const at = meant === undefined ? -1 : leaves.indexOf(meant);
  return at < 0 ? undefined : prefix + paths[at].join('.');
}

/**
 * Where the groups under a table that takes other keys (`settings`, an application's whole
 * configuration) take `key` as it is written: a setting given a level too high
 * (`settings.operationMaxNames` for settings.energy.operationMaxNames) was ignored in silence,
 * taken for one of the application's. Only the same name: the application's own keys may be
 * near one (its `host`, a start of embodied's hostVcpus).
 */
function keyBelow(key: string, table: KeyTable, prefix: string): string | undefined {
  const paths = groupKeys(table).filter((path) => path[path.length - 1] === key);
  if (paths.length === 0) return undefined;
  return paths.map((path) => prefix + path.join('.')).join(' or ');
}

/** The paths of every key in the groups under `table`. */
function groupKeys(table: KeyTable): string[][] {
  return Object.entries(table).flatMap(([key, group]) =>
    group === true
      ? []
      : [...names(group).map((k) => [key, k]), ...groupKeys(group).map((p) => [key, ...p])],
  );
}

function names(table: KeyTable): string[] {
  return Object.keys(table).filter((key) => key !== OTHER_KEYS);
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
