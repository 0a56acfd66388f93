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
    ends.push(`${bound === undefined || bound === Infinity ? '+Inf' : String(bound)}"} `);
  }
  return ends;
}
