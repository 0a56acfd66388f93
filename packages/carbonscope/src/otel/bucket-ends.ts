/**
 * How a classic histogram's bucket lines end before their count (`0.5"} `), for its bounds and
 * its number of buckets: each bound's, then +Inf, unless a bound is +Inf already (as the OTel
 * serializer writes them: a bound of +Inf stands for the last bucket).
 */
export function bucketEndTexts(boundaries: readonly number[], buckets: number): string[] {
  const ends: string[] = [];
  let infinityBound = false;
  for (let i = 0; i < buckets; i++) {
    const bound = boundaries[i];
    if (bound === undefined && infinityBound) break;
    if (bound === Infinity) infinityBound = true;
    ends.push(bucketEndText(bound ?? Infinity));
  }
  return ends;
}

/** One bucket line's end before its count, for its bound (`0.5"} `, `+Inf"} `). */
export function bucketEndText(bound: number): string {
  return `${bound === Infinity ? '+Inf' : String(bound)}"} `;
}
