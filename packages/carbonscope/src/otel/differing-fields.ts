/** The most field names one warning lists; past them it says how many more. */
const MAX_NAMED = 8;

/**
 * The dotted names (under `prefix`) of the fields where `given` differs from `running`, walked
 * field by field through plain objects, so a warning names `settings.grid.zone`, not a whole
 * settings object whose other fields agree. Arrays and other values are compared whole. A field
 * left undefined on one side and absent on the other is no difference.
 */
export function differingFields(given: unknown, running: unknown, prefix: string): string[] {
  const out: string[] = [];
  collect(given, running, prefix, out);
  if (out.length <= MAX_NAMED) return out;
  return [...out.slice(0, MAX_NAMED), `${out.length - MAX_NAMED} more fields of ${prefix}`];
}

function collect(given: unknown, running: unknown, path: string, out: string[]): void {
  if (!isPlainObject(given) || !isPlainObject(running)) {
    if (!sameValue(given, running)) out.push(path);
    return;
  }
  // The given object's keys first, in its order: the order its author wrote them in.
  for (const key of new Set([...Object.keys(given), ...Object.keys(running)])) {
    collect(given[key], running[key], `${path}.${key}`, out);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((item, i) => Object.is(item, b[i]));
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
