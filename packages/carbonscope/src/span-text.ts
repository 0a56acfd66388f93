/**
 * A span as a setting or an option gives it, exactly, in the units a person would have written
 * it in: `100 ms`, `1.5 s`, `5 min`, `1 min 30 s`, `3 h`, `2 h 10 min`. Not for a measured
 * time (elapsedText rounds that down to its unit): a limit said as "90 min" or "1.5 min" made
 * the reader convert, and one said rounded would not be the one set.
 */
export function spanText(given: number): string {
  // To the µs: `4.1m` is 245,999.99999999997 ms, whose rest of a minute would read 5.99999… s.
  const ms = Math.round(given * 1000) / 1000;
  if (ms === 0) return '0 s';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  const parts = [
    [Math.floor(ms / 3_600_000), 'h'],
    [Math.floor(ms / 60_000) % 60, 'min'],
    [Math.round(ms % 60_000) / 1000, 's'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}
