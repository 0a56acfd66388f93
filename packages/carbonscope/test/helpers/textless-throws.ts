import { runInThisContext } from 'node:vm';

/**
 * Thrown values whose text cannot be read as a message's usually is: String() throws on each but
 * the number and the Symbol (which a template literal or `+ ''` still cannot convert). As source,
 * so that a child process can throw them too; textlessValue makes one here. `said`: what
 * thrown-text.ts's messageOf says of it.
 */
export const TEXTLESS_THROWS: readonly { name: string; source: string; said: string }[] = [
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

/** A value of TEXTLESS_THROWS made in this process, for a test that throws it (or hands it on). */
export function textlessValue(source: string): unknown {
  return runInThisContext(source);
}
