import { format } from 'node:util';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { redactionList, redactSecrets } from '../../log.js';
import { printableLines } from '../../printable.js';
import type { Env } from '../../settings.js';
import { apiGlobals } from './global-registration.js';
import { stderrDiagLogger } from './stderr-diag.js';

/**
 * A diag logger that writes where `to` does (stderr, every level, by default: stderrDiagLogger),
 * each line formatted as the console would format it and then masked: the
 * SDK's lines quote what an exporter was told or answered (a URL, a collector's status text),
 * and those may hold an endpoint's password or a header's token. Its control characters are
 * then written as escapes, its line breaks kept: a collector's reason phrase is quoted as it came.
 */
export function maskingDiagLogger(
  secrets: readonly string[],
  to: DiagLogger = stderrDiagLogger(),
): DiagLogger {
  const list = redactionList(secrets);
  const masked =
    (method: keyof DiagLogger) =>
    (message: string, ...args: unknown[]): void => {
      to[method](printableLines(redactSecrets(format(message, ...args), list)));
    };
  return {
    error: masked('error'),
    warn: masked('warn'),
    info: masked('info'),
    debug: masked('debug'),
    verbose: masked('verbose'),
  };
}

// OTEL_LOG_LEVEL's values, in any case, as the SDK's diagLogLevelFromString reads them.
const LEVELS: ReadonlyMap<string, DiagLogLevel> = new Map([
  ['ALL', DiagLogLevel.ALL],
  ['VERBOSE', DiagLogLevel.VERBOSE],
  ['DEBUG', DiagLogLevel.DEBUG],
  ['INFO', DiagLogLevel.INFO],
  ['WARN', DiagLogLevel.WARN],
  ['ERROR', DiagLogLevel.ERROR],
  ['NONE', DiagLogLevel.NONE],
]);

/** Whether `value` is one of OTEL_LOG_LEVEL's names (any case, around spaces). */
export function isDiagLevelName(value: string): boolean {
  return LEVELS.has(value.trim().toUpperCase());
}

/** OTEL_LOG_LEVEL's level: none when unset, INFO for a name it does not know, as the SDK does. */
export function diagLevelOf(value: string | undefined): DiagLogLevel | undefined {
  const name = value?.trim().toUpperCase();
  if (!name) return undefined;
  return LEVELS.get(name) ?? DiagLogLevel.INFO;
}

/**
 * True when something (the application's SDK, say) has installed a diag logger: setLogger would
 * replace the application's, and calling diag would log.
 */
export function hasDiagLogger(): boolean {
  return apiGlobals()?.diag !== undefined;
}

export interface MaskingDiagOptions {
  /** The diag logger installed is carbonscope's own NodeSDK's, unmasked: replace it. */
  replace?: boolean;
  /** Where the masked lines go (a service's own logger); stderr by default. */
  to?: DiagLogger;
}

/**
 * Installs maskingDiagLogger at OTEL_LOG_LEVEL's level where that is set, as NodeSDK installs
 * the console's, for an SDK carbonscope starts itself. A diag logger installed already is the
 * application's and is kept, unless `replace` says it is the one carbonscope's own NodeSDK has
 * just installed unmasked. True when it was installed.
 */
export function installMaskingDiag(
  env: Env,
  secrets: readonly string[],
  options: MaskingDiagOptions = {},
): boolean {
  const logLevel = diagLevelOf(env.OTEL_LOG_LEVEL);
  if (logLevel === undefined || (!options.replace && hasDiagLogger())) return false;
  const logger = maskingDiagLogger(secrets, options.to);
  return diag.setLogger(logger, { logLevel, suppressOverrideMessage: true });
}
