/**
 * Text -> hashed feature vector, shared by training and inference (the classifier imports this
 * module; nothing is copied), so a model always sees features made exactly as in training.
 *
 * The recipe (version `TOKENIZER.id`):
 * 1. Unicode NFKC, lower case, thousands separators dropped ("1,000" -> "1000").
 * 2. Tokens: runs of letters, or numbers with an optional decimal part ("2.5").
 * 3. Features, each a string hashed to one of `vocabSize` buckets:
 *    - `w:<token>` every token;
 *    - `b:<token> <next token>` every pair of neighbours;
 *    - `c:<n-gram>` every character 3- and 4-gram of `<token>` (with `<`, `>` marking the ends),
 *      so unseen spellings and plurals still share buckets with known words;
 *    - `n:<k>` for a number, k = floor(2·log10(value)) clamped to [-4, 12] (half-decade magnitude),
 *      so an unseen number still says how big it is.
 * 4. Hash: 32-bit FNV-1a over the UTF-8 bytes of the feature string, bucket = hash mod vocabSize.
 *    FNV-1a is tiny, fast, and defined byte for byte, so any implementation can reproduce it.
 * 5. Value: the count of each bucket, then the vector is scaled to unit L2 norm (short and long
 *    texts land on the same scale).
 */
export const TOKENIZER = {
  id: 'fnv1a32-w1-w2-c34-n-l2-v1',
  vocabSize: 4096,
  charNgrams: [3, 4],
} as const;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvByte(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
}

/** Feeds one code point as its UTF-8 bytes. */
function fnvCodePoint(hash: number, cp: number): number {
  let h = hash;
  if (cp < 0x80) return fnvByte(h, cp);
  if (cp < 0x800) {
    h = fnvByte(h, 0xc0 | (cp >> 6));
  } else if (cp < 0x10000) {
    h = fnvByte(h, 0xe0 | (cp >> 12));
    h = fnvByte(h, 0x80 | ((cp >> 6) & 0x3f));
  } else {
    h = fnvByte(h, 0xf0 | (cp >> 18));
    h = fnvByte(h, 0x80 | ((cp >> 12) & 0x3f));
    h = fnvByte(h, 0x80 | ((cp >> 6) & 0x3f));
  }
  return fnvByte(h, 0x80 | (cp & 0x3f));
}

function fnvString(hash: number, text: string): number {
  let h = hash;
  for (const ch of text) h = fnvCodePoint(h, ch.codePointAt(0) as number);
  return h;
}

// Hash states after each feature prefix: hashing "w:" + token is hashing token from this state.
const WORD_SEED = fnvString(FNV_OFFSET, 'w:');
const PAIR_SEED = fnvString(FNV_OFFSET, 'b:');
const CHAR_SEED = fnvString(FNV_OFFSET, 'c:');
const NUMBER_SEED = fnvString(FNV_OFFSET, 'n:');
const SPACE = 0x20;

/** 32-bit FNV-1a of the UTF-8 encoding of `text` (unsigned). */
export function fnv1a32(text: string): number {
  return fnvString(FNV_OFFSET, text);
}

const TOKEN = /\d+(?:\.\d+)?|\p{L}+/gu;

/** Step 1 and 2 of the recipe: the tokens of a text. */
export function tokenize(text: string): string[] {
  const normal = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  return normal.match(TOKEN) ?? [];
}

/** What starts a token of TOKEN: one digit or letter is a token already. */
const ANY_TOKEN = /\d|\p{L}/u;

/**
 * Whether the text has a token, and so a feature: exactly when encodeInto counts any. Cheaper
 * than encoding, for refusing a text before an inference begins.
 */
export function hasFeatures(text: string): boolean {
  return ANY_TOKEN.test(text.normalize('NFKC').toLowerCase());
}

/** Half-decade magnitude bucket of a numeric token; undefined for words. */
function magnitude(token: string): number | undefined {
  const first = token.charCodeAt(0);
  if (first < 48 || first > 57) return undefined;
  const value = Number(token);
  if (!(value > 0)) return -4;
  return Math.max(-4, Math.min(12, Math.floor(2 * Math.log10(value))));
}

/** Calls `emit(bucket)` once per feature occurrence of the text. */
export function forEachFeature(
  text: string,
  emit: (bucket: number) => void,
  vocabSize: number = TOKENIZER.vocabSize,
): void {
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    emit(fnvString(WORD_SEED, token) % vocabSize);
    if (i + 1 < tokens.length) {
      const pair = fnvString(fnvByte(fnvString(PAIR_SEED, token), SPACE), tokens[i + 1]);
      emit(pair % vocabSize);
    }
    const mag = magnitude(token);
    if (mag !== undefined) emit(fnvString(NUMBER_SEED, String(mag)) % vocabSize);
    emitCharNgrams(token, emit, vocabSize);
  }
}

function emitCharNgrams(token: string, emit: (bucket: number) => void, vocabSize: number): void {
  const chars = Array.from(`<${token}>`);
  for (const n of TOKENIZER.charNgrams) {
    for (let start = 0; start + n <= chars.length; start++) {
      let h = CHAR_SEED;
      for (let k = start; k < start + n; k++)
        h = fnvCodePoint(h, chars[k].codePointAt(0) as number);
      emit(h % vocabSize);
    }
  }
}

/**
 * Writes the feature vector of `text` into `out` (length = vocab size), overwriting it. Returns
 * the number of feature occurrences (0 for a text with no tokens, which leaves `out` all zero).
 */
export function encodeInto(text: string, out: Float32Array): number {
  out.fill(0);
  let count = 0;
  forEachFeature(
    text,
    (bucket) => {
      out[bucket] += 1;
      count++;
    },
    out.length,
  );
  if (count === 0) return 0;
  let sumSquares = 0;
  for (let i = 0; i < out.length; i++) sumSquares += out[i] * out[i];
  const scale = 1 / Math.sqrt(sumSquares);
  for (let i = 0; i < out.length; i++) if (out[i] !== 0) out[i] *= scale;
  return count;
}

/** The non-zero entries of a feature vector, for training on sparse inputs. */
export interface SparseFeatures {
  index: Int32Array;
  value: Float32Array;
}

/** The same vector as `encodeInto`, kept as its non-zero entries. */
export function encodeSparse(
  text: string,
  scratch: Float32Array = new Float32Array(TOKENIZER.vocabSize),
): SparseFeatures {
  encodeInto(text, scratch);
  let nonZero = 0;
  for (let i = 0; i < scratch.length; i++) if (scratch[i] !== 0) nonZero++;
  const index = new Int32Array(nonZero);
  const value = new Float32Array(nonZero);
  let k = 0;
  for (let i = 0; i < scratch.length; i++) {
    if (scratch[i] !== 0) {
      index[k] = i;
      value[k] = scratch[i];
      k++;
    }
  }
  return { index, value };
}
