import { z } from 'zod';

/** How a variable's value is read by the OTel SDK, beside the range carbonscope accepts. */
export interface SdkIntegerOptions {
  /**
   * The SDK reads 0 and less as its default (sdk-node's getNonNegativeNumberFromEnv for
   * OTEL_BSP_* and OTEL_METRIC_EXPORT_*, the OTLP exporters' timeouts); otherwise as given.
   */
  positive?: boolean;
  /** The SDK reads Infinity as its default too (the OTLP exporters' timeouts). */
  finite?: boolean;
  /** Infinity is accepted too: the SDK reads it as no limit (the span limits). */
  infinity?: boolean;
  /**
   * Who reads it, for the refusal: `the SDK` unless said. The Prometheus exporter reads its port
   * itself (`Number()` of the text, NaN and 0 its default), not with getNumberFromEnv.
   */
  reader?: string;
}

/**
 * What the SDK makes of `n`, the Number() of a value it reads with @opentelemetry/core's
 * getNumberFromEnv: NaN is its default (with a diag line only OTEL_LOG_LEVEL shows).
 */
function sdkReading(n: number, { positive, finite }: SdkIntegerOptions): string {
  if (Number.isNaN(n) || (positive && n <= 0) || (finite && !Number.isFinite(n))) {
    return 'ignores it for its default';
  }
  return `reads it as ${n}`;
}

/**
 * A whole number within [min, max] of an OTel variable, in any form the SDK reads its numbers
 * (getNumberFromEnv is Number() of the text: `+1000`, `1e3`, `0x3e8`, `1000.0` and ` 1000 ` are
 * 1000), so that a value the SDK takes as meant is taken here too. What the SDK would misread is
 * refused, saying how it reads it: a fraction (`1.5` of a count or of milliseconds, likely meant
 * as seconds, it takes as 1.5), a value out of range, one it ignores for its default (`0`, `-1`,
 * `1_000`, `abc`), and Infinity unless `infinity`.
 */
export const sdkIntegerSetting = (min: number, max: number, options: SdkIntegerOptions = {}) => {
  const { infinity = false, reader = 'the SDK' } = options;
  const expected = `expected a whole number, from ${min} to ${max}${infinity ? ', or Infinity for no limit' : ''}`;
  return z.string().transform((text, ctx) => {
    const n = Number(text);
    if (
      (infinity && n === Number.POSITIVE_INFINITY) ||
      (Number.isInteger(n) && n >= min && n <= max)
    ) {
      return n;
    }
    ctx.addIssue({ code: 'custom', message: `${expected}; ${reader} ${sdkReading(n, options)}` });
    return z.NEVER;
  });
};

/**
 * A number of a variable as the SDK reads it, for a message: the value, then the text as written
 * where it differs (`600000 ms (0x927c0)`, `6000 ms (6e3)`; ` 6000 ` is `6000 ms`). Every form
 * Number() reads is taken, and a message quoting `0x927c0` alone left the reader to convert it.
 */
export function sdkValueAsRead(text: string, unit: string): string {
  const written = text.trim();
  const read = `${Number(written)} ${unit}`;
  return String(Number(written)) === written ? read : `${read} (${written})`;
}
