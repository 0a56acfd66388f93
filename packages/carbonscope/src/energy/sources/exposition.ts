/** One series of a Prometheus exposition, or of a Prometheus query answer. */
export interface SeriesSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch ms, when the line (or the query answer) carries one. */
  readonly timestampMs?: number;
}

export class ExpositionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpositionError';
  }
}

const isNameStart = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58; // A-Z a-z _ :
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);
const isBlank = (c: number) => c === 32 || c === 9;

/** The metric name a sample line starts with; '' for comments, blank lines and anything else. */
export function lineMetricName(line: string): string {
  if (line.length === 0 || !isNameStart(line.charCodeAt(0))) return '';
  let i = 1;
  while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
  return line.slice(0, i);
}

/**
 * A decimal float of the text format: what Number() takes less hex, blanks and ''. The digits
 * after a point only with the point: `\d+\.?\d*` split a run of digits every way before it
 * failed, quadratic in a value an exporter writes (2.5 s on a 64 KiB line).
 */
export const DECIMAL_FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  // Number() takes '' and '0x10' and ' 1 '; the text format takes decimal floats only.
  if (!DECIMAL_FLOAT.test(text)) return undefined;
  return Number(text);
}

/**
 * Parses one line of the Prometheus text format (version 0.0.4, which Kepler and Scaphandre
 * serve, and which Prometheus' /federate answers in): `name{label="value",...} value [timestamp]`.
 * Comments, blank lines and metrics `wanted` rejects give undefined before any label is read,
 * so an exposition of thousands of series costs little more than the lines asked for. A
 * malformed line of a wanted metric throws ExpositionError: a figure read from it could not
 * be trusted.
 */
export function parseExpositionLine(
  line: string,
  wanted: (name: string) => boolean = () => true,
): SeriesSample | undefined {
  const name = lineMetricName(line);
  if (name === '' || !wanted(name)) return undefined;
  const labels: Record<string, string> = {};
  let i = name.length;
  const fail = (why: string): never => {
    throw new ExpositionError(`${name}: ${why}`);
  };
  if (line.charCodeAt(i) === 123) {
    // {
    i++;
    for (;;) {
      while (i < line.length && isBlank(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) === 125) break; // } (also after a trailing comma)
      const start = i;
      if (!isNameStart(line.charCodeAt(i))) fail('bad label name');
      while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
      const label = line.slice(start, i);
      while (i < line.length && isBlank(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) !== 61 || line.charCodeAt(i + 1) !== 34) fail(`bad label ${label}`);
      i += 2; // ="
      let value = '';
      let from = i;
      for (;;) {
        if (i >= line.length) fail(`unterminated value of ${label}`);
        const c = line.charCodeAt(i);
        if (c === 34) break; // "
        if (c === 92) {
          // \\ \" \n are the only escapes the format has
          value += line.slice(from, i);
          const next = line[i + 1];
          value += next === 'n' ? '\n' : (next ?? '');
          i += 2;
          from = i;
          continue;
        }
        i++;
      }
      value += line.slice(from, i);
      i++; // closing quote
      labels[label] = value;
      while (i < line.length && isBlank(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) === 44)
        i++; // ,
      else if (line.charCodeAt(i) !== 125) fail('expected , or } in the labels');
    }
    i++; // }
  }
  if (!isBlank(line.charCodeAt(i))) fail('expected a space before the value');
  const rest = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest.length > 2 || rest[0] === '') fail('expected a value and at most a timestamp');
  const value =
    parseValue(rest[0] ?? '') ?? fail(`not a number: ${JSON.stringify(rest[0]?.slice(0, 40))}`);
  if (rest[1] === undefined) return { name, labels, value };
  const timestampMs = Number(rest[1]);
  if (!Number.isSafeInteger(timestampMs)) fail('bad timestamp');
  return { name, labels, value, timestampMs };
}

/** Every sample of the wanted metrics in a whole exposition text. */
export function parseExposition(text: string, wanted?: (name: string) => boolean): SeriesSample[] {
  const out: SeriesSample[] = [];
  for (const raw of text.split('\n')) {
    const sample = parseExpositionLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, wanted);
    if (sample) out.push(sample);
  }
  return out;
}
