import { expect } from 'chai';
import { alertText, html, isolated } from '../../../src/views/html.js';

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

  // Chromium: a paragraph separator in the text ended the <bdi>'s isolate with its paragraph, so
  // an override after it reversed the rest of the sentence. A quote is one line: a space.
  it('shows each paragraph separator as a space', () => {
    for (const separator of ['\u2029', '\u0085', '\u001c', '\u001d', '\u001e', '\n', '\r']) {
      expect(isolated(`a${separator}${RLO}b`).value, JSON.stringify(separator)).to.equal(
        `<bdi>a ${RLO}b</bdi>`,
      );
    }
  });
});

describe('alertText: an error message for a page, what it quotes isolated', () => {
  it('isolates each double-quoted part, escaped, and leaves the rest as it is', () => {
    expect(alertText('invalid zone "10 ساعات": expected "DE" or <FR>').value).to.equal(
      'invalid zone "<bdi>10 ساعات</bdi>": expected "<bdi>DE</bdi>" or &lt;FR&gt;',
    );
  });

  // Each quote that nothing closes was a search to the message's end: 40,000 characters of \"
  // (an upstream's message, were it not cut to 300) took 3 s of the event loop, now a few ms
  // (measured by hand, 2026-12-05; no timed bound here, which a loaded machine could miss).
  it('reads a message however many of its quotes nothing closes', () => {
    const message = '"\\'.repeat(20_000);
    expect(alertText(message).value).to.equal('&quot;\\'.repeat(20_000));
  });

  it('takes an escaped quote as part of the quote, and a lone quote as text', () => {
    expect(alertText('model "a\\"b" and "c').value).to.equal(
      'model "<bdi>a\\&quot;b</bdi>" and &quot;c',
    );
  });
});
