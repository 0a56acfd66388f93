import { expect } from 'chai';
import { queryPrometheus } from '../../../../src/energy/sources/prometheus-query.js';

/** The URL each query asks, answered with an empty vector. */
async function urlAsked(baseUrl: string): Promise<string> {
  const asked: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    asked.push(String(input));
    const body = { status: 'success', data: { resultType: 'vector', result: [] } };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  await queryPrometheus(baseUrl, 'up', { timeoutMs: 1000, maxBytes: 1 << 20, fetch });
  return asked[0];
}

describe('queryPrometheus: the URL asked', () => {
  it('appends the API path to the base path', async () => {
    expect(await urlAsked('http://prom:9090/prefix/')).to.equal(
      'http://prom:9090/prefix/api/v1/query?query=up',
    );
  });

  // A Prometheus behind a proxy that takes a key in the query (`?token=`): the API path was
  // appended to the query (`/?token=K/api/v1/query?query=`), so every read asked `/`.
  it("keeps the base URL's own query, after the API path", async () => {
    expect(await urlAsked('http://prom:9090/?token=K3y&org=1')).to.equal(
      'http://prom:9090/api/v1/query?token=K3y&org=1&query=up',
    );
  });
});
