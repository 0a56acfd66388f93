/**
 * The name of `known` that `given` was most likely meant to be, if one: the same but for case
 * (`--Model`, `histoGrams`); else one a slip away, a letter missed, added, swapped or wrong, at
 * most one in four (`histogram`, `settigns`); else one it begins or ends (`intervalMs` for
 * `sampleIntervalMs`). Leading dashes are no part of the comparison, so `-x` is no slip of `-n`.
 * The CLI's unknown options and the API's unknown option keys both name what it finds.
 */
export function nearestName(given: string, known: readonly string[]): string | undefined {
  const wanted = bare(given).toLowerCase();
  if (wanted === '') return undefined;
  const names = known.map((name) => bare(name).toLowerCase());
  const sameCase = names.indexOf(wanted);
  if (sameCase >= 0) return known[sameCase];
  const allowed = Math.floor(wanted.length / 4);
  let best: number | undefined;
  let bestDistance = allowed + 1;
  names.forEach((name, i) => {
    const distance = slips(wanted, name, bestDistance);
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  if (best !== undefined) return known[best];
  if (wanted.length < 4) return undefined;
  return known.find((_, i) => names[i].endsWith(wanted) || names[i].startsWith(wanted));
}

function bare(name: string): string {
  return name.replace(/^-+/, '');
}

/**
 * The letters missed, added, wrong or swapped with their neighbour between a and b (optimal
 * string alignment), or `limit` once it is sure to be that many or more.
 */
export function slips(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return Math.min(previous[b.length], limit);
}
