import { z } from 'zod';
import { joinedUrl } from '../../base-url.js';
import { type BoundedFetchOptions, FetchFailure, fetchJson } from './bounded-fetch.js';
import type { SeriesSample } from './exposition.js';

/** A PromQL string literal: the value in double quotes, backslash and quote escaped. */
export function promString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

const answer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        value: z.tuple([z.number(), z.string()]),
      }),
    ),
  }),
});

/**
 * Runs one instant query against Prometheus' HTTP API (`GET <base>/api/v1/query?query=`) and
 * gives its vector as samples, each with the timestamp of its value: an exporter Prometheus no
 * longer scrapes shows as old samples (and, after 5 minutes, none).
 */
export async function queryPrometheus(
  baseUrl: string,
  query: string,
  o: BoundedFetchOptions,
): Promise<SeriesSample[]> {
  const url = joinedUrl(baseUrl, '/api/v1/query', new URLSearchParams({ query }).toString());
  const parsed = answer.safeParse(await fetchJson(url, o));
  if (!parsed.success) {
    throw new FetchFailure('malformed', 'not a Prometheus instant-vector answer');
  }
  return parsed.data.data.result.map(({ metric, value }) => {
    const { __name__: name = '', ...labels } = metric;
    return { name, labels, value: Number(value[1]), timestampMs: Math.round(value[0] * 1000) };
  });
}
