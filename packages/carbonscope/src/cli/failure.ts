import { redactionList, redactSecrets } from '../log.js';
import { MissingSdkError } from '../otel/sdk/index.js';
import { printable } from '../printable.js';
import { type Env, envSecretsOf, SettingsError } from '../settings.js';
import { firstLineOf } from '../thrown-text.js';
import { argvSecrets, asksVerboseOption, COMMAND_HELPS, MAIN_HELP, UsageError } from './args.js';
import { CsvOutputError } from './csv.js';

/**
 * Exit status of a usage error (a bad option, a missing command, an invalid setting), as most
 * Unix tools use.
 */
export const USAGE_EXIT = 2;

/**
 * What main prints for an error no command expected (a bug, or a case nobody foresaw): one line,
 * as for every other error; the stack only when asked for, since it means nothing to most users.
 */
export function unexpectedErrorText(err: unknown, verbose: boolean): string {
  const stack = verbose ? stackOf(err) : undefined;
  return `carbonscope: error: ${stack || firstLine(err)}\n`;
}

/** The stack of an Error, where it can be read (a getter, or a Proxy's trap, may throw). */
function stackOf(err: unknown): string | undefined {
  try {
    return err instanceof Error && typeof err.stack === 'string' ? err.stack : undefined;
  } catch {
    return undefined;
  }
}

/**
 * String()'s first line, which names an Error's kind beside its message; messageOf's where
 * String() throws (no prototype, a message of that kind, a throwing getter or trap).
 */
function firstLine(err: unknown): string {
  try {
    return String(err).split('\n', 1)[0];
  } catch {
    return firstLineOf(err);
  }
}

/** Whether `carbonscope <command> <rest>` asks for --verbose; never reads the command run's. */
export function asksVerbose(command: string | undefined, rest: string[]): boolean {
  try {
    return asksVerboseOption(command, rest);
  } catch {
    return false; // this is main's last word on an error: it must not throw one of its own
  }
}

/**
 * What main prints on stderr for an error a command threw, and the exit status. It is written
 * outside any logger, so it is masked here as a log line is: an unexpected error's message or
 * stack may quote a URL or a header it was given.
 */
export function failureOf(
  err: unknown,
  command: string | undefined,
  rest: string[],
  env: Env,
): { text: string; code: number } {
  const { text, code } = knownFailureOf(err, command, rest);
  // Without the settings' secrets, which may be what failed to load: the environment's are
  // read as written (the Electricity Maps key, the OTLP exporter variables'). The command's
  // place may hold an option meant for it (`--otlp=URL run`), which its usage error quotes.
  const argv = command === undefined ? rest : [command, ...rest];
  const secrets = redactionList([...envSecretsOf(env), ...argvSecrets(argv)]);
  return { text: redactSecrets(text, secrets), code };
}

/** unmaskedFailureOf, where asking what `err` is throws (a Proxy's traps): unexpected. */
function knownFailureOf(
  err: unknown,
  command: string | undefined,
  rest: string[],
): { text: string; code: number } {
  try {
    return unmaskedFailureOf(err, command, rest);
  } catch {
    return { text: unexpectedErrorText(err, asksVerbose(command, rest)), code: 1 };
  }
}

function unmaskedFailureOf(
  err: unknown,
  command: string | undefined,
  rest: string[],
): { text: string; code: number } {
  if (err instanceof UsageError) {
    const help = COMMAND_HELPS.get(command ?? '') ?? MAIN_HELP;
    return { text: `carbonscope: ${printable(err.message)}\n\n${help}`, code: USAGE_EXIT };
  }
  // The service's wording. A usage error's status, not a failure's (1): the environment is part
  // of how the command was called, as --zone is of CARBON_ZONE, and nothing was measured yet.
  if (err instanceof SettingsError) {
    return { text: `carbonscope: invalid setting ${printable(err.message)}\n`, code: USAGE_EXIT };
  }
  // Found before anything was measured: a usage error's status, its own line without the usage.
  if (err instanceof CsvOutputError) {
    return { text: `carbonscope: --output: ${printable(err.message)}\n`, code: USAGE_EXIT };
  }
  if (err instanceof MissingSdkError) {
    return { text: `carbonscope: ${err.message}\n`, code: USAGE_EXIT };
  }
  if (apiMissing(err)) {
    const { message } = new MissingSdkError([API], command ?? 'carbonscope');
    return { text: `carbonscope: ${message}\n`, code: USAGE_EXIT };
  }
  return { text: unexpectedErrorText(err, asksVerbose(command, rest)), code: 1 };
}

const API = '@opentelemetry/api';

/**
 * Node's own error where carbonscope's one required peer is not installed (npm's --omit=peer,
 * legacy-peer-deps): the modules that import it statically fail to load before any command's
 * check can run. The name quoted whole: @opentelemetry/api-logs is another package.
 */
function apiMissing(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${API}'`)
  );
}
