/** The most field names one warning lists; past them it says how many more. */
const MAX_NAMED = 8;
/**
 * How deep below the prefix the walk goes: Settings nest three deep (energy.kepler.metricsUrl),
 * and an object past that is compared whole, so a cycle on both sides or a nesting deeper than
 * the stack ends.
 */
const MAX_DEPTH = 4;
/**
 * A key a name takes in: a field's name. Another key (a newline in it, a file pasted as one) is
 * no field of carbonscope's, and its object is named instead, so the warning stays one short line.
 */
const FIELD_NAME = /^[A-Za-z_$][\w$]{0,39}$/;
/**
 * The most keys an object is walked through (Settings' largest, energy, has some forty): one of
 * a million keys, no settings of carbonscope's, is compared whole, not walked for seconds.
 */
const MAX_KEYS = 1000;

interface Found {
  names: Set<string>;
  more: number;
}

/**
 * The dotted names (under `prefix`) of the fields where `given` differs from `running`, walked
 * field by field through plain objects, so a warning names `settings.grid.zone`, not a whole
 * settings object whose other fields agree. Arrays and other values are compared whole. A field
 * left undefined on one side and absent on the other is no difference. Never throws: where the
 * application's object does (a getter, a proxy), `prefix` itself is named.
 */
export function differingFields(given: unknown, running: unknown, prefix: string): string[] {
  const found: Found = { names: new Set(), more: 0 };
  try {
    collect(given, running, prefix, 0, found);
  } catch {
    return [prefix];
  }
  const names = [...found.names];
  return found.more === 0 ? names : [...names, `${found.more} more fields of ${prefix}`];
}

function collect(given: unknown, running: unknown, path: string, depth: number, found: Found) {
  // The same object on both sides (one shared, cyclic or not) holds no difference.
  if (sameScalar(given, running)) return;
  if (depth >= MAX_DEPTH || !isPlainObject(given) || !isPlainObject(running)) {
    if (!sameValue(given, running)) note(path, found);
    return;
  }
  const givenKeys = Object.keys(given);
  const runningKeys = Object.keys(running);
  if (givenKeys.length + runningKeys.length > MAX_KEYS) {
    note(path, found);
    return;
  }
  // The given object's keys first, in its order: the order its author wrote them in.
  for (const key of new Set([...givenKeys, ...runningKeys])) {
    const name = FIELD_NAME.test(key) ? `${path}.${key}` : path;
    collect(given[key], running[key], name, depth + 1, found);
  }
}

function note(path: string, found: Found): void {
  if (found.names.has(path)) return;
  if (found.names.size < MAX_NAMED) found.names.add(path);
  else found.more += 1;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (sameScalar(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((item, i) => sameScalar(item, b[i]));
}

/**
 * SameValueZero, as Array.includes compares: NaN is NaN (a setting left NaN on both sides), and
 * -0 is 0, where Object.is named a field given as -0 beside a running 0 as differing; no setting
 * reads the two apart.
 */
function sameScalar(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
