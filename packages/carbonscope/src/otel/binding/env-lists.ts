import { type Env, quotedSetting, SettingsError } from '../../settings.js';
import { isDiagLevelName } from './diag.js';

// The OTel SDK reads these itself and drops a malformed one without a word (OTEL_LOG_LEVEL's
// debug line at most): the service would run without its resource attributes or the collector's
// token. The spec's form is a comma-separated `key=value` list with percent-encoded values.

/** An HTTP header name (RFC 9110 token): Node refuses any other at every push. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node refuses in a header value (its checkInvalidHeaderChar). */
const HEADER_VALUE_FORBIDDEN = /[^\t\x20-\x7e\x80-\xff]/;
/** The resource detector refuses a longer key or value, and then every attribute with it. */
const MAX_ATTRIBUTE_LENGTH = 255;

/** One `key=value` item: its 1-based position, its key and value as written (trimmed). */
interface Item {
  position: number;
  key: string;
  value: string;
}

/**
 * The items of `raw`, empty ones skipped as the SDK does. The key ends at the first `=`. An
 * error names the variable, the item's position and its key, never the value: a header's value
 * is a credential. An item without `=` may be a bare token, so only its position is named.
 */
function itemsOf(variable: string, raw: string): Item[] {
  const items: Item[] = [];
  raw.split(',').forEach((entry, index) => {
    const position = index + 1;
    if (entry.trim() === '') return;
    const equals = entry.indexOf('=');
    if (equals === -1) {
      throw new SettingsError(variable, `item ${position} has no "=" (expected key=value)`);
    }
    const key = entry.slice(0, equals).trim();
    if (key === '') throw new SettingsError(variable, `item ${position} has an empty key`);
    items.push({ position, key, value: entry.slice(equals + 1).trim() });
  });
  return items;
}

/** The key as an error shows it: bare when plain, quoted (escapes and all) otherwise. */
function shownKey(key: string): string {
  return /^[\w.:/-]+$/.test(key) ? key : JSON.stringify(key);
}

function decoded(variable: string, item: Item, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new SettingsError(
      variable,
      `item ${item.position} (${shownKey(item.key)}): the ${what} is not valid percent-encoding`,
    );
  }
}

/**
 * OTEL_EXPORTER_OTLP_*HEADERS: the SDK drops an item it cannot read and cuts a value at `;`.
 * A comma in a credential splits it into items whose keys are pieces of it: a key is named only
 * once it reads as a header name, which a piece of a credential rarely does.
 */
function checkHeaders(variable: string, raw: string): void {
  for (const item of itemsOf(variable, raw)) {
    let name: string;
    try {
      name = decodeURIComponent(item.key);
    } catch {
      throw new SettingsError(
        variable,
        `item ${item.position}: the key is not valid percent-encoding`,
      );
    }
    if (!HEADER_NAME.test(name)) {
      throw new SettingsError(variable, `item ${item.position} is not an HTTP header name`);
    }
    const at = `item ${item.position} (${shownKey(item.key)})`;
    if (item.value === '') throw new SettingsError(variable, `${at} has an empty value`);
    if (item.value.includes(';')) {
      throw new SettingsError(
        variable,
        `${at}: write ";" in the value as %3B (the SDK cuts it there)`,
      );
    }
    if (HEADER_VALUE_FORBIDDEN.test(decoded(variable, item, item.value, 'value'))) {
      throw new SettingsError(variable, `${at}: the value holds a control character once decoded`);
    }
  }
}

/** OTEL_RESOURCE_ATTRIBUTES: one bad item and the SDK drops every attribute. */
function checkResourceAttributes(variable: string, raw: string): void {
  for (const item of itemsOf(variable, raw)) {
    const at = `item ${item.position} (${shownKey(item.key)})`;
    if (item.value.includes('=')) {
      throw new SettingsError(variable, `${at}: write "=" in the value as %3D`);
    }
    const key = decoded(variable, item, item.key, 'key');
    const value = decoded(variable, item, item.value, 'value');
    if (key.length > MAX_ATTRIBUTE_LENGTH || value.length > MAX_ATTRIBUTE_LENGTH) {
      throw new SettingsError(
        variable,
        `${at}: key and value may hold at most ${MAX_ATTRIBUTE_LENGTH} characters each`,
      );
    }
  }
}

const HEADER_VARIABLES = [
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
];

/** The compressions the metric exporter reads: its signal's first. */
const COMPRESSION_VARIABLES = [
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION',
];

/**
 * The exporter takes gzip or none, trimmed, in lower case alone; anything else it reads as unset
 * with a diag line only OTEL_LOG_LEVEL shows, and the bytes go as written.
 */
function checkCompression(variable: string, raw: string): void {
  const value = raw.trim();
  if (value !== 'gzip' && value !== 'none') {
    throw new SettingsError(variable, `expected gzip or none (got ${quotedSetting(value)})`);
  }
}

/** Throws a SettingsError naming the first malformed variable of the OTel SDK's lists. */
export function checkOtelLists(env: Env): void {
  const attributes = env.OTEL_RESOURCE_ATTRIBUTES;
  if (attributes?.trim()) checkResourceAttributes('OTEL_RESOURCE_ATTRIBUTES', attributes);
  for (const variable of HEADER_VARIABLES) {
    const headers = env[variable];
    if (headers?.trim()) checkHeaders(variable, headers);
  }
}

/** OTEL_LOG_LEVEL: the SDK takes a name it does not know as INFO, and says nothing of it. */
function checkLogLevel(raw: string): void {
  if (!isDiagLevelName(raw)) {
    throw new SettingsError(
      'OTEL_LOG_LEVEL',
      `expected ALL, VERBOSE, DEBUG, INFO, WARN, ERROR or NONE (got ${quotedSetting(raw.trim())})`,
    );
  }
}

/**
 * OTEL_SDK_DISABLED: the SDK reads `true` and `false` in any case, and anything else (`1`,
 * `yes`) as false with a diag line only OTEL_LOG_LEVEL shows: the SDK meant off ran.
 */
function checkSdkDisabled(raw: string): void {
  const value = raw.trim().toLowerCase();
  if (value !== 'true' && value !== 'false') {
    throw new SettingsError(
      'OTEL_SDK_DISABLED',
      `expected true or false (got ${quotedSetting(raw.trim())})`,
    );
  }
}

/**
 * Throws a SettingsError naming OTEL_LOG_LEVEL or OTEL_SDK_DISABLED where the SDK would read it
 * as its default without a word (INFO, false): for a service that refuses to start on it.
 */
export function checkOtelSwitches(env: Env): void {
  for (const [variable, check] of [
    ['OTEL_LOG_LEVEL', checkLogLevel],
    ['OTEL_SDK_DISABLED', checkSdkDisabled],
  ] as const) {
    const raw = env[variable];
    if (raw?.trim()) check(raw);
  }
}

/**
 * What is malformed among the variables the OTel SDK reads itself (OTEL_LOG_LEVEL,
 * OTEL_SDK_DISABLED and the resource attributes where carbonscope starts an SDK, `sdk`; the
 * resource attributes alone where it makes a resource of them, `resource`; the headers and the
 * metrics' compression where it makes an OTLP exporter, `headers`): one line
 * per variable, naming it and never a header's value. Said rather than refused: the SDK goes on
 * with what it could read, and carbonscope's register must not stop the application.
 */
export function malformedOtelVariables(
  env: Env,
  read: { sdk: boolean; headers: boolean; resource?: boolean },
): string[] {
  const lines: string[] = [];
  /** `consequence`: what the SDK does with it, where the line does not say so already. */
  const check = (variable: string, fn: (raw: string) => void, consequence?: string) => {
    const raw = env[variable];
    if (!raw?.trim()) return;
    try {
      fn(raw);
    } catch (err) {
      if (!(err instanceof SettingsError)) throw err;
      lines.push(consequence === undefined ? err.message : `${err.message}; ${consequence}`);
    }
  };
  if (read.sdk) {
    check('OTEL_LOG_LEVEL', checkLogLevel, 'INFO is used');
    check('OTEL_SDK_DISABLED', checkSdkDisabled, 'false is used: the SDK runs');
  }
  if (read.sdk || read.resource) {
    check(
      'OTEL_RESOURCE_ATTRIBUTES',
      (raw) => checkResourceAttributes('OTEL_RESOURCE_ATTRIBUTES', raw),
      'the SDK drops every attribute it sets',
    );
  }
  if (read.headers) {
    for (const variable of HEADER_VARIABLES) check(variable, (raw) => checkHeaders(variable, raw));
    for (const variable of COMPRESSION_VARIABLES) {
      check(variable, (raw) => checkCompression(variable, raw), 'the exporter ignores it');
    }
  }
  return lines;
}
