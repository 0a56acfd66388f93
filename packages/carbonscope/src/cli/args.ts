import { type ParseArgsConfig, parseArgs } from 'node:util';
import { nearestName } from '../nearest-name.js';
import { maskableValue } from '../secret-length.js';
import {
  ENERGY_SOURCES,
  expectedChoice,
  SAMPLE_INTERVAL_MS,
  ZONE_PATTERN,
  zoneKeyProblem,
} from '../settings.js';
import { spanText } from '../span-text.js';
import { messageOf } from '../thrown-text.js';
import { isSecretName, maskUrlText, urlSecrets } from '../url-credentials.js';

/** A command-line mistake: the message and the usage go to stderr, the exit code is 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type EnergySourceOption = (typeof ENERGY_SOURCES)[number];

export interface CommonOptions {
  help: boolean;
  zone?: string;
  output?: string;
  otlp?: string;
  json: boolean;
  projectName: string;
  source?: EnergySourceOption;
  intervalMs?: number;
  /**
   * Where --interval is a bare number that reads as milliseconds meant (100 or more, seconds to
   * the option, ms to ENERGY_SAMPLE_INTERVAL_MS): the line that says how it was read.
   */
  intervalNote?: string;
  verbose: boolean;
}

export interface RunOptions extends CommonOptions {
  command: string[];
}

export interface MonitorOptions extends CommonOptions {
  durationMs?: number;
}

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  zone: { type: 'string', short: 'z' },
  output: { type: 'string', short: 'o' },
  otlp: { type: 'string' },
  json: { type: 'boolean' },
  'project-name': { type: 'string' },
  source: { type: 'string' },
  interval: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

const MONITOR = { ...COMMON, duration: { type: 'string', short: 'd' } } as const;

export const DEFAULT_PROJECT_NAME = 'carbonscope';
const { min: MIN_INTERVAL_MS, max: MAX_INTERVAL_MS } = SAMPLE_INTERVAL_MS;
/** setTimeout's longest wait (2^31-1 ms, about 24.8 days): longer ones fire at once. */
const MAX_DURATION_MS = 2 ** 31 - 1;
const MAX_DURATION_TEXT = `${Math.floor(MAX_DURATION_MS / 3_600_000)}h`;

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds; milliseconds out. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `--${option}: expected a duration such as 500ms, 10s, 2m or 1h (got "${text}")`,
    );
  }
  const ms = Number(m[1]) * UNITS_MS[m[2] ?? 's'];
  if (!(ms > 0)) throw new UsageError(`--${option}: must be more than 0 (got "${text}")`);
  return ms;
}

/**
 * `args` with a negative number after an option that takes a value joined to it (`-n -5` as
 * `--output-tokens=-5`): node:util refuses it as a value that may be a forgotten one's option,
 * and says to write `=-5`, which the option then refuses; joined, the option says what it takes.
 * A grouped option (`-vz -1`) is left as it is.
 */
function withNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  const joined = [...args];
  for (const t of looseTokens(args, options).reverse()) {
    if (t.kind !== 'option' || t.value === undefined || t.inlineValue) continue;
    if (/^-[\d.]/.test(t.value) && args[t.index] === t.rawName) {
      joined.splice(t.index, 2, `--${t.name}=${t.value}`);
    }
  }
  return joined;
}

/**
 * `args` with a short option written `-o=VALUE` (`-vo=VALUE` in a group) as `--output=VALUE`:
 * node:util reads all that follows the letter as the value, its `=` too, so `-o=` wrote a file
 * named `=` and `-z=FR` was refused as the zone `=FR`. `--output=VALUE` reads after the `=`, as
 * Python's argparse reads `-o=VALUE`; a value whose `=` comes later (`-oa=b.csv`) is as given.
 * A flag so written (`-v=1`) is `--verbose=1` too, refused as a flag given a value (flagValue),
 * where node:util read `-=` and `-1` as options and `unknown option '-='` came out.
 */
function withShortEquals(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  const letters = new Map<number, string[]>();
  for (const t of looseTokens(args, options)) {
    if (t.kind !== 'option' || t.rawName.startsWith('--')) continue;
    letters.set(t.index, [...(letters.get(t.index) ?? []), t.name]);
  }
  const joined = [...args];
  for (const [index, names] of [...letters].reverse()) {
    const arg = args[index];
    const equals = arg.indexOf('=');
    // The option read from the letter before the first `=`, if node:util read one there: a
    // string option's value holds the `=` (`-o=x`), a flag's `=` reads as an option (`-v=1`:
    // `-v`, `-=`, `-1`); one read earlier in a group took the rest as its value (`-oa=b.csv`).
    const name = names[equals - 2];
    if (name === undefined || options[name]?.short !== arg[equals - 1]) continue;
    // What comes before the option's letter: `-v` of `-vo=x`, a bare `-` of `-o=x`.
    const before = arg.slice(0, equals - 1);
    const group = before === '-' ? [] : [before];
    joined.splice(index, 1, ...group, `--${name}=${arg.slice(equals + 1)}`);
  }
  return joined;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  given: string[],
  options: T,
  help: () => string,
) {
  const args = withNegativeValues(withShortEquals(given, options), options);
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const unknown = unknownOption(args, options);
    if (unknown) throw new UsageError(unknown);
    const flagged = flagValue(args, options, help());
    if (flagged) throw new UsageError(flagged);
    const missing = missingValue(args, options, help());
    if (missing) throw new UsageError(missing);
    const dashed = dashValue(args, options, help());
    if (dashed) throw new UsageError(dashed);
    // None of node:util's messages is known to come here (its unknown option, flag given a value,
    // missing value and value that starts with a dash are said above); one that does is one
    // line, as every error.
    const message = messageOf(err);
    throw new UsageError(message.replace(/\s*\n\s*/g, ' '));
  }
}

/**
 * What to say of the first option `args` gives that `options` lacks, if one does. node:util's
 * own message tells it to go after `--` (its quote left open), where monitor and impacts refuse
 * it as an argument and run takes it for the command.
 */
function unknownOption(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): string | undefined {
  const token = firstOption(args, options, (t) => !Object.hasOwn(options, t.name));
  if (!token) return undefined;
  const meant = meantOption(token.rawName, options);
  return `unknown option '${token.rawName}'${meant ? ` (did you mean ${meant}?)` : ''}`;
}

/** The option `rawName` (`--Model`, `-N`, `--jsno`) was likely meant to be, if one. */
function meantOption(
  rawName: string,
  options: NonNullable<ParseArgsConfig['options']>,
): string | undefined {
  const names = Object.entries(options).flatMap(([name, option]) =>
    option.short === undefined ? [`--${name}`] : [`--${name}`, `-${option.short}`],
  );
  // A long option is said as one, a short as one: `--n` is no slip of `-n`.
  const long = rawName.startsWith('--');
  return nearestName(
    rawName,
    names.filter((name) => name.startsWith('--') === long),
  );
}

/**
 * What to say of the first option `args` gives without its value, if one: node:util's line calls
 * every value `<value>` (`Option '-z, --zone <value>' argument missing`); this one names it as
 * `help` does (`<zone>`, `<file>`), read from the help so that the two cannot drift apart.
 */
function missingValue(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  help: string,
): string | undefined {
  const token = firstOption(
    args,
    options,
    (t) => options[t.name]?.type === 'string' && t.value === undefined,
  );
  if (!token) return undefined;
  return `option '${optionNamed(token.name, options, help)}' needs a value`;
}

/**
 * What to say of the first flag `args` gives a value (`--verbose=1`, `-v=1` as withShortEquals
 * wrote it), if one: node:util's line ("Option '-v, --verbose' does not take an argument") is in
 * none of the CLI's words.
 */
function flagValue(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  help: string,
): string | undefined {
  const token = firstOption(
    args,
    options,
    (t) => options[t.name]?.type === 'boolean' && t.value !== undefined,
  );
  if (!token) return undefined;
  return `option '${optionNamed(token.name, options, help)}' takes no value (got "${token.value}")`;
}

/** `-z, --zone <zone>`, a flag `-v, --verbose`: option `name` as `help` names it. */
function optionNamed(
  name: string,
  options: NonNullable<ParseArgsConfig['options']>,
  help: string,
): string {
  const short = options[name]?.short;
  const named = `${short === undefined ? '' : `-${short}, `}--${name}`;
  if (options[name]?.type === 'boolean') return named;
  const value = new RegExp(`--${name} (<[^>]+>)`).exec(help)?.[1] ?? '<value>';
  return `${named} ${value}`;
}

/**
 * What to say of the first option `args` gives whose value, the next word, starts with a dash,
 * if one: node:util refuses it as a value that may be a forgotten one's option ("argument is
 * ambiguous", with a hint of `-XYZ`), in three sentences, none the CLI's.
 */
function dashValue(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  help: string,
): string | undefined {
  const token = firstOption(
    args,
    options,
    (t) =>
      options[t.name]?.type === 'string' &&
      !t.inlineValue &&
      t.value !== undefined &&
      t.value.length > 1 &&
      t.value.startsWith('-'),
  );
  if (token?.value === undefined) return undefined;
  const after =
    token.value === '--'
      ? "'--' after it ends the options"
      : `'${token.value}' after it reads as an option (one that starts with a dash goes as --${token.name}=${token.value})`;
  return `option '${optionNamed(token.name, options, help)}' needs a value: ${after}`;
}

/** Throws a UsageError unless `text` is an http(s) URL that the exporter's URL parser takes. */
function checkOtlpUrl(text: string): void {
  // The regex alone lets through what `new URL` refuses (port 99999, an unclosed `[`), which
  // would otherwise fail later with a TypeError and its stack.
  if (/^https?:\/\/[^\s]+$/.test(text) && URL.canParse(text)) return;
  throw new UsageError(
    `--otlp: expected an http(s) URL such as http://localhost:4318 (got "${maskUrlText(text)}")`,
  );
}

/**
 * From here on a bare --interval is more likely milliseconds meant than seconds: 100 s is no
 * usual sampling interval (CodeCarbon's is 15 s), 100 ms is, and the variable's unit is ms.
 */
const BARE_SECONDS_NOTED = 100;

/** What `--interval <text>` (`ms` of it) was read as, where a bare number may be ms meant. */
function bareSecondsNote(text: string, ms: number): string | undefined {
  const bare = text.trim();
  if (!/^\d+(?:\.\d+)?$/.test(bare) || ms < BARE_SECONDS_NOTED * 1000) return undefined;
  return `--interval ${bare} is read as ${spanText(ms)}: a bare number is seconds (${bare}ms for milliseconds)`;
}

function common(values: Record<string, string | boolean | undefined>): CommonOptions {
  const str = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const zone = str('zone');
  if (zone !== undefined && !ZONE_PATTERN.test(zone)) {
    throw new UsageError(`--zone: ${zoneKeyProblem(zone)} (got "${zone}")`);
  }
  const source = str('source');
  if (source !== undefined && !(ENERGY_SOURCES as readonly string[]).includes(source)) {
    throw new UsageError(`--source: ${expectedChoice(source, ENERGY_SOURCES)} (got "${source}")`);
  }
  const interval = str('interval');
  const givenMs = interval === undefined ? undefined : parseDuration(interval, 'interval');
  // The range is the value's as given, as --duration's and ENERGY_SAMPLE_INTERVAL_MS's are:
  // rounded first, 49.5ms was taken as 50.
  if (givenMs !== undefined && (givenMs < MIN_INTERVAL_MS || givenMs > MAX_INTERVAL_MS)) {
    throw new UsageError(
      `--interval: must be between ${MIN_INTERVAL_MS}ms and 1h (got "${interval}")`,
    );
  }
  // Whole milliseconds, as the settings take it (checkSettings) and the timer counts: 4.1m is
  // 245999.99999999997 in floating point.
  const intervalMs = givenMs === undefined ? undefined : Math.round(givenMs);
  const intervalNote =
    interval === undefined || intervalMs === undefined
      ? undefined
      : bareSecondsNote(interval, intervalMs);
  const otlp = str('otlp');
  if (otlp !== undefined) checkOtlpUrl(otlp);
  const output = str('output');
  if (output === '') throw new UsageError('--output: expected a file name');
  // Stdout in most tools: taken as a name, it was a file `-` in the current folder.
  if (output === '-') {
    throw new UsageError(
      '--output: "-" is no file name here: -o /dev/stdout for stdout, -o ./- for a file named -',
    );
  }
  const projectName = str('project-name') ?? DEFAULT_PROJECT_NAME;
  // An empty project_name groups no run in CodeCarbon's tools (`"$PROJECT"` unset, most likely).
  if (projectName.trim() === '') {
    throw new UsageError('--project-name: expected a name, e.g. --project-name my-app');
  }
  return {
    help: values.help === true,
    zone,
    output,
    otlp,
    json: values.json === true,
    projectName,
    source: source as EnergySourceOption | undefined,
    intervalMs,
    ...(intervalNote === undefined ? {} : { intervalNote }),
    verbose: values.verbose === true,
  };
}

/**
 * How node:util reads `args` under `table`, without failing on a mistake (the strict parse that
 * follows reports it): the same grouping of short options (`-hv`, `-vz DE`) and the same values.
 */
function looseTokens(args: string[], table: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({ args, options: table, strict: false, allowPositionals: true, tokens: true })
    .tokens;
}

type OptionToken = Extract<ReturnType<typeof looseTokens>[number], { kind: 'option' }>;

/** The first option `args` gives, as node:util reads them, that `test` picks, if one. */
function firstOption(
  args: string[],
  table: NonNullable<ParseArgsConfig['options']>,
  test: (token: OptionToken) => boolean,
): OptionToken | undefined {
  for (const token of looseTokens(args, table)) {
    if (token.kind === 'option' && test(token)) return token;
  }
  return undefined;
}

/**
 * Splits `run`'s arguments into carbonscope's options and the command: at `--` when given,
 * otherwise at the first argument that is neither an option nor an option's value, so
 * `carbonscope run node app.js` works like `carbonscope run -- node app.js`.
 */
export function splitRunArgs(args: string[]): { options: string[]; command: string[] } {
  for (const token of looseTokens(args, COMMON)) {
    if (token.kind === 'option') continue;
    // The command starts at the first positional, or right after a `--` written before one.
    const start = token.kind === 'positional' ? token.index : token.index + 1;
    return { options: args.slice(0, token.index), command: args.slice(start) };
  }
  return { options: args, command: [] };
}

/**
 * Whether `carbonscope <command> <rest>` turns on --verbose, grouped (`-hv`) or not, read as the
 * command's parser reads it but without failing: for an error that came before or after parsing.
 */
export function asksVerboseOption(command: string | undefined, rest: string[]): boolean {
  const table = command === 'run' ? COMMON : command === 'monitor' ? MONITOR : undefined;
  if (!table) return false;
  const args = command === 'run' ? splitRunArgs(rest).options : rest;
  return looseTokens(args, table).some(
    (t) => t.kind === 'option' && t.name === 'verbose' && t.value === undefined,
  );
}

export function parseRunArgs(args: string[]): RunOptions {
  const split = splitRunArgs(args);
  const { values } = parse(split.options, COMMON, () => RUN_HELP);
  const options = common(values);
  if (!options.help && split.command.length === 0) {
    throw new UsageError(
      'run: no command given (carbonscope run [options] -- <command> [args...])',
    );
  }
  // spawn('') would throw a TypeError; `carbonscope run -- "$UNSET"` is a usage mistake.
  if (!options.help && split.command[0] === '') {
    throw new UsageError('run: the command name is empty (carbonscope run [options] -- <command>)');
  }
  return { ...options, command: split.command };
}

export interface ImpactsOptions {
  help: boolean;
  provider?: string;
  model: string;
  outputTokens: number;
  /** Measured request latency, s; undefined when not given (counts as infinite). */
  latencySeconds?: number;
  zone?: string;
  json: boolean;
}

/**
 * The most output tokens one request is priced for. Models stop at a few hundred thousand output
 * tokens per request (128k is among the largest limits); 10 million leaves room for any to come,
 * while 2^53 would price a single request at billions of kWh as if it were an estimate.
 */
const MAX_OUTPUT_TOKENS = 10_000_000;

const IMPACTS = {
  help: { type: 'boolean', short: 'h' },
  provider: { type: 'string', short: 'p' },
  model: { type: 'string', short: 'm' },
  'output-tokens': { type: 'string', short: 'n' },
  latency: { type: 'string', short: 'l' },
  zone: { type: 'string', short: 'z' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/**
 * What a model id with an empty part lacks: `openai/` (a variable empty after the slash) is a
 * model named by nothing, `/gpt-4o` names no provider, `openai//gpt-4o` (a variable empty between
 * two) names neither a model nor a provider's path: each a slip of the command line, no unknown
 * model. A part of spaces alone is empty too. Undefined where every part names something.
 */
function emptyModelPart(model: string): string | undefined {
  const id = model.trim();
  if (id === '') return 'no model name';
  const parts = id.split('/');
  const empty = (part: string) => part.trim() === '';
  if (empty(parts[parts.length - 1])) return 'no model name after the provider';
  if (empty(parts[0])) return 'no provider before the model name';
  if (parts.some(empty)) return 'an empty name between two slashes';
  return undefined;
}

export function parseImpactsArgs(args: string[]): ImpactsOptions {
  const { values, positionals } = parse(args, IMPACTS, () => IMPACTS_HELP);
  if (positionals.length > 0) {
    throw new UsageError(`impacts: unexpected argument "${positionals[0]}"`);
  }
  const help = values.help === true;
  const json = values.json === true;
  const { provider, model, zone, latency } = values;
  const tokens = values['output-tokens'];
  if (help) return { help, model: '', outputTokens: 0, json };
  if (!model) throw new UsageError('impacts: --model is required (e.g. --model openai/gpt-4o)');
  const missing = emptyModelPart(model);
  if (missing) {
    throw new UsageError(`--model: ${missing} (got "${model}"; e.g. --model openai/gpt-4o)`);
  }
  if (tokens === undefined) throw new UsageError('impacts: --output-tokens is required');
  const outputTokens = Number(tokens);
  if (!/^\d+$/.test(tokens)) {
    throw new UsageError(`--output-tokens: expected a whole number of tokens (got "${tokens}")`);
  }
  // Digits past 2^53 (or Infinity's) are a whole number too, only over the bound.
  if (outputTokens > MAX_OUTPUT_TOKENS) {
    throw new UsageError(`--output-tokens: at most ${MAX_OUTPUT_TOKENS} tokens (got "${tokens}")`);
  }
  const latencySeconds = latency === undefined ? undefined : Number(latency);
  if (
    latency !== undefined &&
    (!/^(?:\d+(?:\.\d+)?|\.\d+)$/.test(latency) || !Number.isFinite(latencySeconds))
  ) {
    throw new UsageError(`--latency: expected seconds such as 2.5 (got "${latency}")`);
  }
  // A measured request takes some time; at 0 s the method would give the server's share and
  // the embodied impacts as 0 while the GPU's stays, an answer that reads as measured.
  if (latencySeconds === 0) {
    throw new UsageError(
      `--latency: must be more than 0 s, or left out where not measured (got "${latency}")`,
    );
  }
  // Spaces alone are as empty as nothing (a variable left unset, quoted), as in --model.
  if (provider?.trim() === '') {
    throw new UsageError('--provider: expected a provider such as openai');
  }
  if (zone?.trim() === '') throw new UsageError('--zone: expected an alpha-3 zone such as FRA');
  return { help, provider, model, outputTokens, latencySeconds, zone, json };
}

export function parseMonitorArgs(args: string[]): MonitorOptions {
  const { values, positionals } = parse(args, MONITOR, () => MONITOR_HELP);
  if (positionals.length > 0) {
    throw new UsageError(`monitor: unexpected argument "${positionals[0]}"`);
  }
  const duration = typeof values.duration === 'string' ? values.duration : undefined;
  const durationMs = duration === undefined ? undefined : parseDuration(duration, 'duration');
  if (durationMs !== undefined && durationMs > MAX_DURATION_MS) {
    throw new UsageError(`--duration: must be at most ${MAX_DURATION_TEXT} (got "${duration}")`);
  }
  // A timer waits whole milliseconds: 0.0001ms would run 1 ms and be told as 1e-7 s.
  if (durationMs !== undefined && durationMs < 1) {
    throw new UsageError(`--duration: must be at least 1ms (got "${duration}")`);
  }
  return { ...common(values), durationMs };
}

/**
 * The options run and monitor share, with the interval's default and `extra` (monitor's
 * --duration) in the same list: a line after the settings paragraph reads as no option at all.
 */
function commonHelp(defaultInterval: string, extra = ''): string {
  return `Options:
  -z, --zone <zone>          grid zone, e.g. DE, FR, US-CAL-CISO (default: CARBON_ZONE or DE)
  -o, --output <file>        append a CodeCarbon-compatible row to this CSV (header written once)
      --otlp <url>           push the run's metrics to an OTLP/HTTP collector,
                             e.g. http://localhost:4318
      --json                 print the summary as JSON on stdout (the human summary stays on stderr)
      --project-name <name>  project_name column of the CSV (default: ${DEFAULT_PROJECT_NAME})
      --source <source>      power source: ${ENERGY_SOURCES.slice(0, 5).join(', ')},
                             ${ENERGY_SOURCES.slice(5).join(', ')} (default: ENERGY_SOURCE or auto)
      --interval <duration>  sampling interval, e.g. 500ms, 1s; a bare number is seconds
                             (default: ENERGY_SAMPLE_INTERVAL_MS or ${defaultInterval})
${extra}  -v, --verbose              log how sources and grid intensity were chosen, and error stacks
  -h, --help                 show this help

Settings from the environment: CARBON_ZONE, CARBON_INTENSITY (fixed gCO2e/kWh),
ELECTRICITY_MAPS_API_KEY (live intensity; annual averages without it), PUE, ENERGY_*, EMBODIED_*.
An option given twice takes its last value (-z FR ... -z DE is DE).`;
}

export const MAIN_HELP = `Usage: carbonscope <command> [options]

Measure the energy use and carbon emissions of a command or of the whole machine.

Commands:
  run [options] -- <command> [args...]   run a command and meter it with its child processes
  monitor [options]                       sample the whole machine until Ctrl-C or --duration
  impacts --model M --output-tokens N     estimate one LLM request's impacts (EcoLogits method)

Run "carbonscope <command> --help" for the options of a command, "carbonscope --version" for
the version. An option given twice takes its last value, as in git or curl: an alias's -z FR
gives way to a -z DE typed after it.
`;

export const RUN_HELP = `Usage: carbonscope run [options] -- <command> [args...]

Runs <command>, forwards stdin, stdout, stderr and signals to it, meters the CPU time of it and
all its child processes, and prints a summary on stderr when it ends. Exits with the command's
exit code; when the command was killed by signal N, ends killed by N too (a shell reads 128+N),
or exits 128+N where N would dump a core, for SIGUSR1 and as PID 1; 127 when the command is not
found; 126 when it cannot be executed; 2 for a usage error or an invalid setting.

${commonHelp('1s')}
`;

export const MONITOR_HELP = `Usage: carbonscope monitor [options]

Samples the power of the whole machine, prints a line per interval on stderr, and prints a
summary when stopped (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2 or --duration; SIGUSR1 starts
Node's inspector, and monitor goes on). Exits 0, also where the reader of stdout goes away
(| head); 1 when the CSV or --json cannot be written or the last --otlp push fails; 2 for a
usage error or an invalid setting.

${commonHelp(
  '10s',
  '  -d, --duration <duration>  stop by itself after this long, e.g. 30s, 5m; a bare number is\n' +
    '                             seconds (default: until Ctrl-C)\n',
)}
`;

export const IMPACTS_HELP = `Usage: carbonscope impacts [--provider P] --model M --output-tokens N [--latency SECONDS]
                          [--zone ALPHA3] [--json]

Estimates the environmental impacts of one LLM API request with the EcoLogits 0.11 method and
its data (every model EcoLogits 0.11.3 knows, plus LLM_MODELS_FILE): energy, GWP, ADPe, PE and
water, usage and embodied. Exits 0 with impacts, also where the reader of stdout goes away
(| head); 1 when the model, provider or zone is unknown (the errors say which) or stdout cannot
be written; 2 for a usage error or an invalid setting (LLM_MODELS_FILE).

Options:
  -p, --provider <provider>    anthropic, cohere, google_genai, huggingface_hub, mistralai, openai
                               (optional when --model is provider/model or a name one provider has)
  -m, --model <model>          the model, e.g. gpt-4o or openai/gpt-4o
  -n, --output-tokens <n>      tokens generated, at most ${MAX_OUTPUT_TOKENS}
  -l, --latency <seconds>      measured request latency, over 0 (default: none, i.e. infinite:
                               the model's published speed or the latency model sets the time)
  -z, --zone <alpha3>          electricity mix, ISO 3166-1 alpha-3 or WOR (default: the provider's)
      --json                   print EcoLogits' output shape as JSON on stdout
  -h, --help                   show this help
`;

/**
 * The credentials of any URL on a command line, `--otlp URL` and `--otlp=URL` alike, and the
 * values whose option or header names say they are secret (namedSecrets). Those of the command
 * run count too: a password is no less one for being the command's.
 */
export function argvSecrets(args: readonly string[]): string[] {
  return [
    ...args.flatMap((arg) => [
      ...urlSecrets(arg),
      ...(arg.includes('=') ? urlSecrets(arg.slice(arg.indexOf('=') + 1)) : []),
    ]),
    ...namedSecrets(args),
  ];
}

const OPTION = /^--?([a-z][\w.-]*)(?:=(.*))?$/is;
const HEADER = /^([\w-]+):\s*(.*?)\s*$/s;

/**
 * `--token=VALUE`, `--password VALUE`, `-H 'Authorization: Bearer VALUE'`: a value that only
 * its name marks as secret, so from MIN_MASKED_VALUE_LENGTH on, as an OTLP header's. The word
 * after a secret-named option is taken unless it is an option: whether that option takes a
 * value is the command's to know, and a file name masked in a summary costs less than a
 * password printed. A header's value is taken whole and by its last word (a scheme's token).
 */
function namedSecrets(args: readonly string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const option = OPTION.exec(args[i]);
    if (option) {
      if (!isSecretName(option[1])) continue;
      const next = args[i + 1];
      const value = option[2] ?? (next?.startsWith('-') ? undefined : next);
      if (maskableValue(value)) found.push(value);
      continue;
    }
    const header = HEADER.exec(args[i]);
    if (!header || !isSecretName(header[1])) continue;
    const value = header[2];
    const token = value.slice(value.lastIndexOf(' ') + 1);
    for (const part of value === token ? [value] : [value, token]) {
      if (maskableValue(part)) found.push(part);
    }
  }
  return found;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const COMMAND_OPTIONS: ReadonlyMap<string, OptionsConfig> = new Map<string, OptionsConfig>([
  ['run', COMMON],
  ['monitor', MONITOR],
  ['impacts', IMPACTS],
]);

/**
 * `-v` of `carbonscope -v run`, `--json` of `carbonscope --json monitor`, `-z` of `carbonscope
 * -z FR run` (its value between): an option of the command that follows, put before it, named
 * without its value (`--otlp=URL`: a URL's password).
 */
function optionOfCommand(
  arg: string,
  rest: readonly string[],
): { option: string; command: string } | undefined {
  const long = arg.startsWith('--');
  const option = long ? arg.split('=', 1)[0] : arg.slice(0, 2);
  const configOf = (command: string | undefined) =>
    Object.entries(COMMAND_OPTIONS.get(command ?? '') ?? {}).find(([name, o]) =>
      long ? option === `--${name}` : 'short' in o && option === `-${o.short}`,
    )?.[1];
  if (configOf(rest[0])) return { option, command: rest[0] };
  // `-z FR run`: was told `-z` was no option at all, where `-z=FR run` was sent after run.
  const inline = long ? arg.includes('=') : arg.length > 2;
  if (!inline && configOf(rest[1])?.type === 'string') return { option, command: rest[1] };
  return undefined;
}

/** The options `carbonscope` takes before any command. */
const MAIN_OPTIONS = ['--version', '-V', '--help', '-h'];

/**
 * The usage error's text for a command carbonscope does not have. An option there (`--verison`,
 * `-v`) is told as one, with the one it likely meant: it was called an unknown command.
 */
export function unknownCommand(command: string, rest: readonly string[] = []): string {
  if (command.startsWith('-')) {
    const after = optionOfCommand(command, rest);
    if (after)
      return `unknown option '${after.option}' (an option of ${after.command} goes after it: carbonscope ${after.command} ${after.option} ...)`;
    const long = command.startsWith('--');
    const meant = nearestName(
      command,
      MAIN_OPTIONS.filter((name) => name.startsWith('--') === long),
    );
    const hint = meant ? `did you mean ${meant}?` : 'before a command: --version or --help';
    return `unknown option '${command}' (${hint})`;
  }
  return `unknown command "${command}" (expected run, monitor or impacts)`;
}

/** The usage error's text for `carbonscope` alone: a mistake, told as the others are. */
export const NO_COMMAND = 'no command given (expected run, monitor or impacts)';

/** Each command's --help. */
export const COMMAND_HELPS: ReadonlyMap<string, string> = new Map([
  ['run', RUN_HELP],
  ['monitor', MONITOR_HELP],
  ['impacts', IMPACTS_HELP],
]);

/** The --help of `command`; a UsageError for one carbonscope does not have. */
export function commandHelp(command: string): string {
  const help = COMMAND_HELPS.get(command);
  if (help === undefined) throw new UsageError(unknownCommand(command));
  return help;
}
