/**
 * Carbonscope's own slots on `process` and `globalThis` (shared by every copy of the package),
 * defined not enumerable: an application's `{ ...process }` or `Object.assign({}, globalThis)`
 * copies none of them. Writable and configurable, so a later assignment (another copy's, an
 * older version's) keeps the slot hidden, and a test can delete it.
 */
export function setHidden<T>(target: object, key: symbol, value: T): T {
  Object.defineProperty(target, key, {
    value,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return value;
}
