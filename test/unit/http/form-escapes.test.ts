import { expect } from 'chai';
import { escapesDecode } from '../../../src/http/form-escapes.js';
import { uriDecodes } from '../../helpers/uri-decodes.js';

const hex = (byte: number) => `%${byte.toString(16).padStart(2, '0')}`;
const BYTES = Array.from({ length: 256 }, (_, b) => b);
/** Each edge of the ranges the second and later bytes of a sequence may take, and ASCII. */
const EDGES = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0];

/** `escapesDecode` beside what it stands in for, on each of `texts`: the ones they differ on. */
function differing(texts: Iterable<string>): string[] {
  const differ: string[] = [];
  for (const text of texts) if (escapesDecode(text) !== uriDecodes(text)) differ.push(text);
  return differ;
}

function* pairs(): Generator<string> {
  for (const a of BYTES) for (const b of BYTES) yield `m=${hex(a)}${hex(b)}`;
}

function* longer(): Generator<string> {
  for (const lead of BYTES.filter((b) => b >= 0xc0)) {
    for (const second of EDGES) {
      for (const third of EDGES) {
        yield `${hex(lead)}${hex(second)}${hex(third)}`;
        for (const fourth of EDGES) yield `${hex(lead)}${hex(second)}${hex(third)}${hex(fourth)}`;
      }
    }
  }
}

describe('escapesDecode', () => {
  it('decides as decodeURIComponent on every one and two escaped bytes', () => {
    expect(differing(BYTES.map((b) => `m=${hex(b)}`))).to.deep.equal([]);
    expect(differing(pairs())).to.deep.equal([]);
  });

  it('decides as decodeURIComponent on three and four escaped bytes, each lead byte, each edge', () => {
    expect(differing(longer())).to.deep.equal([]);
  });

  it('decides as decodeURIComponent on escapes cut short, split by text, in any case', () => {
    const texts = ['%', 'a%', '%4', '%G1', '%4G', '%%41', '100%', '%C3', '%C3a%A9', '%c3%a9'];
    const more = ['caf%C3%A9&model=x', 'a+b%20c%E2%82%AC', '%F0%9F%9A%97%F0%9F', 'é%C3%A9', ''];
    expect(differing([...texts, ...more])).to.deep.equal([]);
    expect(escapesDecode('%c3%A9')).to.equal(true);
    expect(escapesDecode('caf%E9')).to.equal(false);
  });
});
