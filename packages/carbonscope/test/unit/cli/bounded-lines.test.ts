import { Writable } from 'node:stream';
import { expect } from 'chai';
import { boundedLines } from '../../../src/cli/bounded-lines.js';

/** A stream whose reader takes nothing until release(): what an unread pipe is to Node. */
function heldStream(): { stream: Writable; written: string[]; release(): void } {
  const written: string[] = [];
  const pending: Array<() => void> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      pending.push(callback);
    },
  });
  const release = () => {
    while (pending.length > 0) pending.shift()?.();
  };
  return { stream, written, release };
}

const LINE = `${'x'.repeat(99)}\n`;

describe('boundedLines', () => {
  // monitor's line of each interval queued for ever behind a stderr nobody read: 95 bytes every
  // 50 ms at its shortest interval, 164 MB a day, and it never stopped growing.
  it('queues no more than its bound while the stream takes nothing', () => {
    const { stream } = heldStream();
    const line = boundedLines(stream, 1000);
    for (let i = 0; i < 10_000; i++) line(LINE);
    expect(stream.writableLength).to.equal(1000);
  });

  it('says how many lines it left out once the stream takes them again', () => {
    const { stream, written, release } = heldStream();
    const line = boundedLines(stream, 1000);
    for (let i = 0; i < 25; i++) line(LINE);
    release();
    line('next\n');
    release();
    expect(written.slice(10)).to.deep.equal([
      'carbonscope: 15 lines left out while stderr was not read\n',
      'next\n',
    ]);
    line('after\n');
    release();
    expect(written.at(-1)).to.equal('after\n');
  });
});
