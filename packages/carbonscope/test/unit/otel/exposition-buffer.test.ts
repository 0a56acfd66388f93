import { expect } from 'chai';
import { ExpositionBuffer } from '../../../src/otel/exposition-buffer.js';

describe('ExpositionBuffer (the bytes of one exposition)', () => {
  it('grows past its hint and keeps every byte written before', () => {
    const out = new ExpositionBuffer(0);
    let expected = '';
    const line = new TextEncoder().encode('series{route="/café/☕"} ');
    for (let i = 0; i < 2000; i++) {
      out.bytes(line);
      out.number(i * 1.5);
      out.newline();
      out.text(`# µ ${i}\n`);
      expected += `series{route="/café/☕"} ${i * 1.5}\n# µ ${i}\n`;
    }
    expect(out.size)
      .to.equal(Buffer.byteLength(expected))
      .and.be.above(4096 * 16);
    expect(out.done().toString('utf8')).to.equal(expected);
  });

  it('writes numbers as String(value) does, infinities as Prometheus does', () => {
    const values = [0, -0, 7, -3, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e21, 0.1 + 0.2, -2.5e-9];
    const out = new ExpositionBuffer(16);
    for (const value of values) {
      out.number(value);
      out.newline();
    }
    for (const value of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
      out.number(value);
      out.newline();
    }
    const expected = `${values.map((v) => `${v}\n`).join('')}+Inf\n-Inf\nNaN\n`;
    expect(out.done().toString('latin1')).to.equal(expected);
  });
});
