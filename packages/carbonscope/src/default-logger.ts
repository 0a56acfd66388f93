import { type Logger, stderrLogger } from './log.js';
import { type Env, envSecretsOf, loadedSecretsOf, type Settings } from './settings.js';

/**
 * The logger carbonscope uses when the application gives none (`register`, the instrumentation,
 * `Carbonscope.create`): stderr, every line masked against the secrets it knows, so that an
 * upstream's echo of a key or an exporter's URL with its password never reaches the terminal.
 * Those of `settings` where they are loaded (they may come from code, not `env`), else those
 * `env` holds as written; the OTLP exporters' are always read from `env`, as the exporters do.
 */
export function defaultLogger(env: Env = process.env, settings?: Settings): Logger {
  const secrets = settings ? loadedSecretsOf(settings, env) : envSecretsOf(env);
  return stderrLogger({ secrets });
}
