import { expect } from 'chai';
import { html, isolated } from '../../../src/views/html.js';

const PDI = '\u2069';
const RLI = '\u2067';
const LRI = '\u2066';
const RLO = '\u202e';
const RLM = '\u200f';

describe('isolated: user text inside a sentence of a page', () => {
  it('wraps the text in <bdi>, escaped', () => {
    expect(html`“${isolated('<b>10 ساعات</b>')}” is low`.value).to.equal(
      '“<bdi>&lt;b&gt;10 ساعات&lt;/b&gt;</bdi>” is low',
    );
  });

  // Marks (and overrides, embeddings) end where the <bdi> ends: left as they were typed.
  it('keeps marks, overrides and balanced isolates as sent', () => {
    for (const text of [`a${RLM}b`, `a${RLO}b`, `${LRI}a${PDI} b`, `${RLI}${LRI}a${PDI}${PDI}`]) {
      expect(isolated(text).value, JSON.stringify(text)).to.equal(`<bdi>${text}</bdi>`);
    }
  });

  // Chromium: a PDI without its initiator closed the <bdi>'s own isolate, so an override after
  // it reversed the rest of the sentence; an isolate left open took the sentence in.
  it('drops a PDI that closes nothing and closes the isolates left open', () => {
    expect(isolated(`a${PDI}${RLO}b`).value).to.equal(`<bdi>a${RLO}b</bdi>`);
    expect(isolated(`${PDI}${PDI}${LRI}a${PDI}${PDI}`).value).to.equal(`<bdi>${LRI}a${PDI}</bdi>`);
    expect(isolated(`${RLI}a${LRI}b`).value).to.equal(`<bdi>${RLI}a${LRI}b${PDI}${PDI}</bdi>`);
  });
});
