import { typeOf } from '../argument-checks.js';

// The objects an application may hand start() in place of carbonscope's own (logger, sources,
// grid), checked for the methods carbonscope calls on them. Taken as they came, one lacking a
// method failed after the start, on the meter's timer or at stop(), as an uncaught exception.

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const SOURCE_METHODS = ['probe', 'sample', 'close'] as const;

/**
 * Throws a TypeError unless `options` is an object whose logger, sources and grid are usable:
 * a JavaScript caller's null otherwise failed deep in the start, as a TypeError naming no option.
 */
export function checkOptions(
  options: unknown,
  caller: string,
  what = 'the options',
): asserts options is object {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${caller}: ${what} must be an object (got ${typeOf(options)})`);
  }
  checkInjected(options, caller);
}

/**
 * Throws a TypeError naming the first of `options`' logger, sources or grid that is wrong. Null
 * is none given, as the start's `??` has always taken it.
 */
function checkInjected(options: object, caller: string): void {
  const { logger, sources, grid } = options as Record<string, unknown>;
  if (given(logger) && !hasMethods(logger, LOG_LEVELS)) {
    refuse(caller, 'logger must have debug, info, warn and error functions', logger);
  }
  if (given(sources)) checkSources(sources, caller);
  if (given(grid) && !hasMethods(grid, ['current', 'peek'])) {
    refuse(caller, 'grid must have current() and peek() (createGridIntensity() builds one)', grid);
  }
}

function checkSources(sources: unknown, caller: string): void {
  if (typeof sources !== 'object' || sources === null) {
    refuse(caller, 'sources must be { host, gpus } (selectSources() builds them)', sources);
  }
  const { host, gpus } = sources as { host?: unknown; gpus?: unknown };
  const what = 'must be a power source, with probe(), sample() and close()';
  if (!hasMethods(host, SOURCE_METHODS)) refuse(caller, `sources.host ${what}`, host);
  if (!Array.isArray(gpus)) refuse(caller, 'sources.gpus must be an array', gpus);
  gpus.forEach((gpu, i) => {
    if (!hasMethods(gpu, SOURCE_METHODS)) refuse(caller, `sources.gpus[${i}] ${what}`, gpu);
  });
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  return names.every((name) => typeof o[name] === 'function');
}

function refuse(caller: string, what: string, got: unknown): never {
  throw new TypeError(`${caller}: ${what} (got ${typeOf(got)})`);
}
