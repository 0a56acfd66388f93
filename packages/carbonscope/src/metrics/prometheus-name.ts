/**
 * OTel metric names to Prometheus names, as the OpenTelemetry compatibility spec
 * ("Prometheus and OpenMetrics Compatibility") says and the OTel Collector's prometheus
 * exporter does it (translation strategy UnderscoreEscapingWithSuffixes): the unit becomes a
 * word after the name, `_total` ends a monotonic counter. The JS Prometheus exporter adds only
 * `_total` (opentelemetry-js#3466), so carbonscope's own exposition renames with this before it
 * serializes; the stack test holds every name here to what the real Collector exports.
 */

/** UCUM unit → the word Prometheus names carry (OpenMetrics base units where there is one). */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The denominator of a rate unit (`g/s`) → the word after `per_`. */
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** A braced annotation (`{request}`) is a count of things: it adds no word. */
const annotated = (unit: string) => /[{}]/.test(unit);

/** Characters outside [a-zA-Z0-9_:] become `_`, runs of `_` one, and a leading `_` goes. */
function cleanUp(word: string): string {
  return word
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^_/, '');
}

/** The unit's words: `g/s` → [`grams`, `per_second`], `{token}` → [`, ``]. */
function unitWords(unit: string): [string, string] {
  const slash = unit.indexOf('/');
  const main = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const per = slash < 0 ? '' : unit.slice(slash + 1).trim();
  const mainWord = main && !annotated(main) ? (UNIT_WORDS[main] ?? main) : '';
  const perWord = per && !annotated(per) ? `per_${PER_UNIT_WORDS[per] ?? per}` : '';
  return [cleanUp(mainWord), cleanUp(perWord)];
}

/**
 * The Prometheus name of a metric, before the `_total` the exporters add to a monotonic
 * counter: `hw.host.energy` (J) → `hw_host_energy_joules`. A unit word the name already holds
 * as a token is not added twice.
 */
export function prometheusBaseName(
  name: string,
  unit: string,
  type: 'counter' | 'gauge' | 'histogram',
): string {
  let tokens = name.split(/[^a-zA-Z0-9:]+/).filter(Boolean);
  let [main, per] = unitWords(unit);
  if (tokens.includes(main)) main = '';
  per = per === 'per_' ? '' : per.replace(/_$/, '');
  if (tokens.includes(per)) per = '';
  if (per) main = main.replace(/_$/, '');
  if (main) tokens.push(main);
  if (per) tokens.push(per);
  if (type === 'counter') tokens = tokens.filter((t) => t !== 'total');
  if (unit === '1' && type === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = tokens.join('_');
  return /^\d/.test(joined) ? `_${joined}` : joined;
}

/** A name with what Prometheus names cannot hold made `_`, runs of `_` made one. */
export function sanitizedPrometheusName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

/**
 * An attribute key as a label name, as the OTel serializer writes it (runs of `_` made one, which
 * the Collector keeps), but for `key_` before a name that begins with a digit, as the Collector
 * writes it: no Prometheus parser takes such a name (the OTel serializer leaves it, and one such
 * resource attribute in OTEL_RESOURCE_ATTRIBUTES, `1st=x`, failed every scrape: up 0). A name
 * with one leading `_` is left so (valid), where the Collector's default makes it `key_`.
 */
export function prometheusLabelName(key: string): string {
  const name = sanitizedPrometheusName(key);
  const first = name.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 ? `key_${name}` : name;
}
