import { expect } from 'chai';
import {
  encodeInto,
  encodeSparse,
  fnv1a32,
  forEachFeature,
  hasFeatures,
  TOKENIZER,
  tokenize,
} from '../../../src/predict/tokenizer.js';

describe('predict tokenizer', () => {
  it('hashes with 32-bit FNV-1a over UTF-8 (published test vectors)', () => {
    expect(fnv1a32('')).to.equal(0x811c9dc5);
    expect(fnv1a32('a')).to.equal(0xe40c292c);
    expect(fnv1a32('foobar')).to.equal(0xbf9cf968);
    // Multi-byte code points hash as their UTF-8 bytes, the same as hashing the bytes directly.
    const bytes = Buffer.from('café 🚲', 'utf8');
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32('café 🚲')).to.equal(h);
  });

  it('lower-cases, keeps numbers with decimals and drops thousands separators', () => {
    expect(tokenize('Driving 10 HOURS')).to.deep.equal(['driving', '10', 'hours']);
    expect(tokenize('eating 2.5 kg of beef!')).to.deep.equal(['eating', '2.5', 'kg', 'of', 'beef']);
    expect(tokenize('flying 1,000 km')).to.deep.equal(['flying', '1000', 'km']);
    expect(tokenize('Ｆｌｙｉｎｇ')).to.deep.equal(['flying']); // NFKC folds full-width letters
    expect(tokenize('!!! ...')).to.deep.equal([]);
  });

  it('emits word, pair, magnitude and character n-gram features for each token', () => {
    const buckets: number[] = [];
    forEachFeature('driving 10', (b) => buckets.push(b));
    // "driving": w + pair + 3-grams (7) + 4-grams (6) of "<driving>"; "10": w + n + 3-grams (2)
    // + 4-grams (1) of "<10>".
    expect(buckets).to.have.length(1 + 1 + 7 + 6 + (1 + 1 + 2 + 1));
    expect(buckets[0]).to.equal(fnv1a32('w:driving') % TOKENIZER.vocabSize);
    expect(buckets[1]).to.equal(fnv1a32('b:driving 10') % TOKENIZER.vocabSize);
    expect(buckets).to.include(fnv1a32('c:<dr') % TOKENIZER.vocabSize);
    expect(buckets).to.include(fnv1a32('n:2') % TOKENIZER.vocabSize);
    for (const b of buckets) expect(b).to.be.within(0, TOKENIZER.vocabSize - 1);
  });

  it('writes a unit-length vector and overwrites the buffer it is given', () => {
    const out = new Float32Array(TOKENIZER.vocabSize).fill(7);
    expect(encodeInto('cycling to work', out)).to.be.greaterThan(0);
    let norm = 0;
    for (const v of out) norm += v * v;
    expect(norm).to.be.closeTo(1, 1e-6);
    expect(Array.from(out).filter((v) => v === 7)).to.have.length(0);
    expect(encodeInto('   ', out)).to.equal(0);
    expect(out.every((v) => v === 0)).to.equal(true);
  });

  it('gives the same numbers dense and sparse, and the same for equal texts', () => {
    const dense = new Float32Array(TOKENIZER.vocabSize);
    encodeInto('Taking the train 300 km', dense);
    const sparse = encodeSparse('taking the TRAIN 300 km');
    const rebuilt = new Float32Array(TOKENIZER.vocabSize);
    sparse.index.forEach((i, k) => {
      rebuilt[i] = sparse.value[k];
    });
    expect(Array.from(rebuilt)).to.deep.equal(Array.from(dense));
  });

  it('says a text has features exactly when encoding counts some', () => {
    const out = new Float32Array(TOKENIZER.vocabSize);
    for (const text of [
      'driving 10 hours',
      '7',
      'é',
      '\u2160', // Ⅰ, a roman numeral: NFKC makes it the letter I
      '\u24b6', // Ⓐ: NFKC makes it A
      '²',
      '!!! ???',
      '😀😀',
      ' \t',
      '\u0301',
      '١٢', // Arabic-Indic digits
      '',
    ]) {
      expect(hasFeatures(text), JSON.stringify(text)).to.equal(encodeInto(text, out) > 0);
    }
  });
});
