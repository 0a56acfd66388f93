import { expect } from 'chai';
import { statusMessage } from '../../../../src/otel/sdk/rpc-status.js';

/** A google.rpc.Status as protoc writes it: code (field 1, int32) and message (field 2). */
function status(codeVarint: number[], message: string): Uint8Array {
  const text = Buffer.from(message);
  return Buffer.concat([Buffer.from([0x08, ...codeVarint, 0x12, text.length]), text]);
}

/** A small seeded generator: the same bytes on every run, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("otel: a google.rpc.Status's message, read from protobuf", () => {
  it('reads the message beside the code and the details', () => {
    const details = Buffer.from([0x1a, 0x03, 0x0a, 0x01, 0x41]);
    expect(statusMessage(Buffer.concat([status([3], 'bad'), details]))).to.equal('bad');
  });

  // An int32 below 0 is ten bytes on the wire (sign-extended to 64 bits): a five-byte limit
  // read the code as cut short and lost the message after it.
  it('reads it after a negative code, which protobuf writes in ten bytes', () => {
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expect(statusMessage(status(minusOne, 'refused'))).to.equal('refused');
  });

  for (const [what, bytes] of [
    ['a varint cut short', [0x08, 0x80]],
    ['a key alone', [0x12]],
    ['a length past the end', [0x12, 0x05, 0x61]],
    ['a length of 2^32 - 1', [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61]],
    ['a varint longer than ten bytes', [0x08, ...Array(11).fill(0x80), 0x01, 0x12, 0x01, 0x61]],
    ['a wire type it cannot skip (fixed32)', [0x0d, 1, 2, 3, 4, 0x12, 0x01, 0x61]],
    ['a field number past 32 bits', [0x92, 0x80, 0x80, 0x80, 0x10, 0x01, 0x61]],
  ] as const) {
    it(`gives nothing for ${what}`, () => {
      expect(statusMessage(Uint8Array.from(bytes))).to.equal(undefined);
    });
  }

  // Whatever a proxy before the collector answers: never a throw, never a loop.
  it('ends on any bytes, without throwing', () => {
    const random = seeded(65);
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 48) }, () => Math.floor(random() * 256));
      const message = statusMessage(bytes);
      expect(message === undefined || typeof message === 'string').to.equal(true);
    }
  });
});
