import { slips } from './nearest-name.js';
import { meantOtelName, OTEL_PREFIX, OTEL_VARIABLES_READ } from './otel-variables.js';
import { type Env, SETTING_NAMES } from './settings.js';

/** carbonscope's own prefix, which a user may add to a setting's name (CARBONSCOPE_PUE). */
const OWN_PREFIX = 'CARBONSCOPE_';

/**
 * Every variable the library reads: its settings, its log level, and those
 * a primary's register sets for its workers (otel/cluster-exposition.ts).
 */
export const LIBRARY_VARIABLES: readonly string[] = [
  ...SETTING_NAMES,
  'CARBONSCOPE_LOG_LEVEL',
  'CARBONSCOPE_CLUSTER_PRIMARY',
  'CARBONSCOPE_CLUSTER_FOLDER',
  'CARBONSCOPE_CLUSTER_ENDPOINT',
];

/** The most variables the warning names: hundreds near one (a generated environment) are no line. */
const NAMED_AT_MOST = 10;

/** A variable in the environment that looks meant for carbonscope but is none it reads. */
export interface MisspeltVariable {
  given: string;
  /** The variable it most likely meant. */
  meant: string;
}

/** The text before a name's first `_`, in upper case: `ENERGY` of ENERGY_SOURCE. */
function firstWord(name: string): string {
  return name.split('_')[0].toUpperCase();
}

/**
 * The known name `given` was most likely meant to be: the same but for case; else one of the
 * same first word a slip or two away, at most one in six characters (`ENERGY_SOUCE`,
 * `CARBON_ZONES`); else one with a word more (`GRID_TIMEOUT` for GRID_TIMEOUT_MS,
 * `ELECTRICITY_MAPS_KEY` for ELECTRICITY_MAPS_API_KEY). Stricter than the CLI's nearestName: the
 * environment is the host's too, and its NODE_NAME (two slips from POD_NAME) or CONTAINER_IMAGE
 * (three from CONTAINER_NAME) are no typos.
 */
function meantName(given: string, known: KnownNames): string | undefined {
  const upper = given.toUpperCase();
  if (known.all.has(upper)) return upper;
  const kin = known.byFirstWord.get(firstWord(upper)) ?? [];
  const allowed = Math.max(1, Math.floor(upper.length / 6));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const name of kin) {
    const distance = slips(upper, name, bestDistance);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  // A bare word is no name left short: container=podman is podman's, CARBON or GRID anyone's.
  if (best !== undefined || !upper.includes('_')) return best;
  return kin.find((name) => oneWordMore(name, upper));
}

/** The known names, and those of each first word: asked once for every variable of `env`. */
interface KnownNames {
  all: ReadonlySet<string>;
  byFirstWord: ReadonlyMap<string, readonly string[]>;
  /** The OTEL_* names read: OTEL_VARIABLES_READ and those of the caller's (the service's). */
  otel: ReadonlySet<string>;
}

function knownNames(known: readonly string[]): KnownNames {
  const byFirstWord = new Map<string, string[]>();
  for (const name of known) {
    const word = firstWord(name);
    byFirstWord.set(word, [...(byFirstWord.get(word) ?? []), name]);
  }
  const otel = new Set([
    ...OTEL_VARIABLES_READ,
    ...known.filter((name) => name.startsWith(OTEL_PREFIX)),
  ]);
  return { all: new Set(known), byFirstWord, otel };
}

/** Whether `name` is `given` with one `_`-word added, anywhere after the first. */
function oneWordMore(name: string, given: string): boolean {
  const words = name.split('_');
  return words.some((_, i) => i > 0 && words.toSpliced(i, 1).join('_') === given);
}

/**
 * The variables of `env` that look meant for carbonscope but are none of `known`: a slip of one
 * (meantName), under CARBONSCOPE_ too. Ignored in silence, ENERGY_SOUCE=rapl read as a setting
 * that took while the estimate ran. An OTEL_* name is told only as a slip of one carbonscope
 * reads that OpenTelemetry reads under no name nearer (meantOtelName): the SDKs read many more
 * (OTEL_EXPORTER_OTLP_ENDPONT was ignored in silence, the metrics pushed to localhost:4318).
 * Another CARBONSCOPE_ name with no setting near is no slip (the repository's own tools take
 * CARBONSCOPE_CACHE_DIR, and its test runs CARBONSCOPE_SUITES_TMPDIR).
 */
export function misspeltVariables(env: Env, known: readonly string[]): MisspeltVariable[] {
  const names = knownNames(known);
  const isLink = serviceLinks(env);
  const found: MisspeltVariable[] = [];
  for (const given of Object.keys(env)) {
    const upper = given.toUpperCase();
    if (names.all.has(given) || isLink(given)) continue;
    const meant = upper.startsWith(OTEL_PREFIX)
      ? meantOtelName(given, upper, names.otel)
      : meantOwnName(given, upper, names);
    // Windows reads a name in any case: where env answers to the one meant, the other case is it.
    if (meant === undefined || (meant === upper && env[meant] !== undefined)) continue;
    found.push({ given, meant });
  }
  return found;
}

/** meantName of `given`, else of what follows its CARBONSCOPE_ (CARBONSCOPE_PUE). */
function meantOwnName(given: string, upper: string, names: KnownNames): string | undefined {
  const unprefixed = upper.startsWith(OWN_PREFIX) ? given.slice(OWN_PREFIX.length) : undefined;
  return (
    meantName(given, names) ?? (unprefixed === undefined ? undefined : meantName(unprefixed, names))
  );
}

/**
 * Whether a name is one of the variables Kubernetes gives a pod for each Service of its namespace
 * (`<S>_SERVICE_HOST`, `<S>_SERVICE_PORT*`, `<S>_PORT`, `<S>_PORT_<n>_TCP*`), or Docker's links
 * give for each linked container (`<S>_PORT*`, `<S>_NAME`, `<S>_ENV_*`): a Service named
 * carbonscope makes CARBONSCOPE_PORT, which is no slip of PORT. Told by a `<S>_SERVICE_HOST` or a
 * `<S>_PORT_<n>_<protocol>`.
 */
function serviceLinks(env: Env): (name: string) => boolean {
  const services = Object.keys(env).flatMap((name) => LINK_ROOT.exec(name)?.slice(1, 2) ?? []);
  if (services.length === 0) return () => false;
  return (name) =>
    services.some(
      (service) => name.startsWith(`${service}_`) && LINK_REST.test(name.slice(service.length + 1)),
    );
}

/** The variable that makes `<S>` a Service's or a linked container's, `<S>` its first group. */
const LINK_ROOT = /^(.+?)(?:_SERVICE_HOST|_PORT_\d+_(?:TCP|UDP|SCTP))$/;
/** What follows `<S>_` in a Service's or a linked container's variables. */
const LINK_REST = /^(SERVICE_|PORT$|PORT_|NAME$|ENV_)/;

/**
 * One line naming each variable misspeltVariables finds and what it likely meant, or undefined.
 * Names only, never values: the misspelt one may hold a key.
 */
export function misspeltVariablesWarning(
  env: Env,
  known: readonly string[] = LIBRARY_VARIABLES,
): string | undefined {
  const found = misspeltVariables(env, known);
  if (found.length === 0) return undefined;
  const each = found
    .slice(0, NAMED_AT_MOST)
    .map(({ given, meant }) => `${given} (did you mean ${meant}?)`);
  const more = found.length - each.length;
  if (found.length === 1) return `${each[0]} is not a variable carbonscope reads: it is ignored`;
  return `${each.join(', ')}${more > 0 ? ` and ${more} more` : ''} are not variables carbonscope reads: they are ignored`;
}
