import { runInThisContext } from 'node:vm';

/** A thrown value as source, and what thrown-text.ts's messageOf says of it. */
export interface ThrownSource {
  name: string;
  source: string;
  said: string;
}

/**
 * Thrown values whose text cannot be read as a message's usually is: String() throws on each but
 * the number. As source, so that a child process can throw them too; textlessValue makes one here.
 */
export const TEXTLESS_THROWS: readonly ThrownSource[] = [
  {
    name: 'an object of no prototype',
    source: 'Object.create(null)',
    said: 'a value with no text',
  },
  {
    name: 'an Error whose message has no prototype',
    source: 'Object.assign(new Error(), { message: Object.create(null) })',
    said: 'a value with no text',
  },
  {
    name: 'an Error whose message is a number',
    source: 'Object.assign(new Error(), { message: 42 })',
    said: '42',
  },
  {
    name: 'an Error whose message getter throws',
    source: `Object.defineProperty(new Error(), 'message', { get() { throw new Error('no'); } })`,
    said: 'a value with no text',
  },
];

/**
 * TEXTLESS_THROWS and two more, for a test that throws them in this process: a Symbol, which a
 * template literal or `+ ''` cannot convert, and a Proxy whose every trap throws (instanceof
 * too). Not for a module a child loads: Node 20 prints its own source arrow on stderr where
 * require(esm) evaluates one that throws a Symbol, and decorating the Proxy's stack as it passes
 * through Node's module loader throws the trap's error in its place.
 */
export const ODD_THROWS: readonly ThrownSource[] = [
  ...TEXTLESS_THROWS,
  {
    name: 'a Symbol',
    source: `Symbol('thrown')`,
    said: 'Symbol(thrown)',
  },
  {
    // Its handler a Proxy too, whose every trap is a function that throws.
    name: 'a Proxy that throws on every trap',
    source: `new Proxy({}, new Proxy({}, { get() { return () => { throw new Error('trap'); }; } }))`,
    said: 'a value with no text',
  },
];

/** A value of ODD_THROWS made in this process, for a test that throws it (or hands it on). */
export function textlessValue(source: string): unknown {
  return runInThisContext(source);
}

/** A thrown value made by `value()`, and what messageOf says of it. */
export interface ThrownValue {
  name: string;
  value: () => unknown;
  said: string;
}

/** ODD_THROWS as values made in this process, then `more` (null, a string) that a path takes. */
export function oddValues(...more: ThrownValue[]): ThrownValue[] {
  const made = ODD_THROWS.map(({ name, source, said }) => ({
    name,
    value: () => textlessValue(source),
    said,
  }));
  return [...made, ...more];
}
