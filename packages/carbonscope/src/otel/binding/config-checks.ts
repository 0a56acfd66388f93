import { typeOf } from '../../argument-checks.js';

// Checks of what an application hands the OTel recipe (the instrumentation, LocalHistograms,
// withCurrentGauges), made once where it is configured: plain JavaScript's mistakes there
// otherwise fail in a collection, on each scrape or push, or pass as the wrong temporality.

/** The parts of @opentelemetry/sdk-metrics's module a caller's `sdk` argument must have. */
type EnumName = 'AggregationTemporality' | 'DataPointType' | 'InstrumentType';

/** Throws unless `sdk` has each of `enums` as the sdk-metrics module (`import * as`) has them. */
export function checkSdkModule(sdk: unknown, caller: string, enums: readonly EnumName[]): void {
  const module = sdk as Partial<Record<EnumName, unknown>> | null | undefined;
  if (
    typeof module === 'object' &&
    module !== null &&
    enums.every((name) => typeof module[name] === 'object' && module[name] !== null)
  ) {
    return;
  }
  throw new TypeError(
    `${caller}: the first argument must be the @opentelemetry/sdk-metrics module ` +
      `(import * as sdkMetrics from '@opentelemetry/sdk-metrics'), got ${described(sdk)}`,
  );
}

/** Throws unless `value` is absent or a boolean. */
export function checkSwitch(value: unknown, caller: string, what: string): void {
  if (value === undefined || typeof value === 'boolean') return;
  throw new TypeError(`${caller}: ${what} must be true or false (got ${typeOf(value)})`);
}

/** An object described by the enums it lacks, anything else by its type. */
function described(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeOf(value);
  return 'an object without its AggregationTemporality and InstrumentType';
}
