import { type Logger, stderrLogger } from '../log.js';
import { type Env, envSecretsOf } from '../settings.js';

/**
 * The logger carbonscope uses when the application gives none (`register`, the instrumentation,
 * `Carbonscope.create`): stderr, every line masked against the secrets `env` holds, so that an
 * upstream's echo of a key or an exporter's URL with its password never reaches the terminal.
 */
export function defaultLogger(env: Env = process.env): Logger {
  return stderrLogger({ secrets: envSecretsOf(env) });
}
