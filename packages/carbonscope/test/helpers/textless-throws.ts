/**
 * Thrown values whose text cannot be read as a message's usually is: String() throws on each but
 * the number. As source, so that a child process can throw them too.
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
];
