import { expect } from 'chai';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import { withHttpMetrics } from '../../helpers/http-metrics.js';
import { createTestMetrics, parseSamples, type TestMetrics } from '../../helpers/metrics.js';

const COUNT = `${prometheusName(METRICS.httpDuration)}_count`;
const SUM = `${prometheusName(METRICS.httpDuration)}_sum`;

/** carbonscope with `http.server.request.duration` on `metrics`, and the operations it ended. */

/** The http.server.request.duration series of `name`, as `status method scheme [route]`. */
async function series(metrics: TestMetrics, name = COUNT): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await metrics.scrape())) {
    if (s.name !== name) continue;
    const { http_response_status_code, http_request_method, url_scheme, http_route } = s.labels;
    const key = [http_response_status_code, http_request_method, url_scheme, http_route];
    out[key.filter((v) => v !== undefined).join(' ')] = s.value;
  }
  return out;
}

describe('http: answers given before any request (parser rejections, CONNECT)', () => {
  for (const local of [false, true]) {
    it(`are counted in http.server.request.duration with no route and a bounded method${local ? ' (local histograms)' : ''}`, async () => {
      const metrics = createTestMetrics({ local });
      const { cs, ended } = await withHttpMetrics(metrics);
      cs.answeredEarly(400);
      cs.answeredEarly(400);
      cs.answeredEarly(431, { method: undefined });
      cs.answeredEarly(405, { method: 'CONNECT' });
      // A method Node accepts but the conventions do not know is _OTHER, as for requests.
      cs.answeredEarly(408, { method: 'PROPFIND', seconds: 10 });
      cs.answeredEarly(503, { method: 'GET', scheme: 'https' });
      expect(await series(metrics)).to.deep.equal({
        '400 _OTHER http': 2,
        '431 _OTHER http': 1,
        '405 CONNECT http': 1,
        '408 _OTHER http': 1,
        '503 GET https': 1,
      });
      expect((await series(metrics, SUM))['408 _OTHER http']).to.equal(10);
      const text = await metrics.scrape();
      const counted = parseSamples(text).filter((s) => s.name === COUNT);
      expect(counted.map((s) => s.labels.error_type)).to.deep.equal(
        counted.map((s) => (s.labels.http_response_status_code === '503' ? '503' : undefined)),
      );
      expect(ended, 'no operation is begun for an early answer').to.deep.equal([]);
      await cs.stop();
      await metrics.shutdown();
    });
  }

  it('label methods by OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS when it is set', async () => {
    const metrics = createTestMetrics();
    const { cs } = await withHttpMetrics(metrics, {
      OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET',
    });
    cs.answeredEarly(405, { method: 'CONNECT' });
    expect(await series(metrics)).to.deep.equal({ '405 _OTHER http': 1 });
    await cs.stop();
    await metrics.shutdown();
  });

  it('refuse a status that is not an HTTP status (a series per value otherwise)', async () => {
    const metrics = createTestMetrics();
    const { cs } = await withHttpMetrics(metrics);
    for (const status of [0, 99, 600, 400.5, Number.NaN]) {
      expect(() => cs.answeredEarly(status), String(status)).to.throw(RangeError, /status/);
    }
    expect(await series(metrics)).to.deep.equal({});
    await cs.stop();
    await metrics.shutdown();
  });

  it('are lent to onEarlyAnswer listeners until they unsubscribe', async () => {
    const metrics = createTestMetrics();
    const { cs } = await withHttpMetrics(metrics);
    const seen: string[] = [];
    const off = cs.onEarlyAnswer((a) => seen.push(`${a.status} ${a.http.method} ${a.seconds}`));
    cs.answeredEarly(431);
    off();
    cs.answeredEarly(400);
    expect(seen).to.deep.equal(['431 _OTHER 0']);
    await cs.stop();
    await metrics.shutdown();
  });
});
