import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { ignoring, maskedFetchUrl, maskedUrl } from '../../../src/telemetry/sdk.js';

const attributesOf = (url: string) => maskedUrl({ url } as IncomingMessage);

describe('span hook: url.path and url.query masked', () => {
  it('masks the userinfo of a URL nested in the path, which has no `;` or `?`', () => {
    expect(attributesOf('/redirect/http://u:PW-s3cret@idp.example/x')).to.deep.equal({
      'url.path': '/redirect/http://[redacted]@idp.example/x',
    });
    expect(attributesOf('/r/http%3A%2F%2Fu%3APW-s3cret%40idp%2F?page=2')).to.deep.equal({
      'url.path': '/r/http%3A%2F%2F[redacted]%40idp%2F',
      'url.query': 'page=2',
    });
  });

  it('adds nothing where nothing is masked', () => {
    for (const url of ['/energy', '/energy?page=2', '/u/@alice', '/img//logo@2x.png?v=1']) {
      expect(attributesOf(url), url).to.equal(attributesOf('/energy'));
    }
  });
});

// The undici instrumentation wrote an outgoing fetch's URL as sent: a Kepler or Prometheus URL's
// `?token=` went to the collector in every read's span, and to OTel's debug log.
describe("span hook: an outgoing fetch span's url.full and url.query masked", () => {
  it('masks a secret parameter of the URL read', () => {
    const request = { origin: 'http://127.0.0.1:28282', path: '/metrics?token=kep-T0K&x=1' };
    expect(maskedFetchUrl(request)).to.deep.equal({
      'url.full': 'http://127.0.0.1:28282/metrics?token=[redacted]&x=1',
      'url.query': '?token=[redacted]&x=1',
    });
  });

  it('masks a matrix parameter of its path', () => {
    const request = { origin: 'https://prom.example', path: '/api/v1/query;api_key=pr0m-K?q=up' };
    expect(maskedFetchUrl(request)).to.deep.equal({
      'url.full': 'https://prom.example/api/v1/query;api_key=[redacted]?q=up',
      'url.path': '/api/v1/query;api_key=[redacted]',
    });
  });

  it('adds nothing where nothing is masked', () => {
    const request = { origin: 'https://api.example', path: '/v3/carbon-intensity/latest?zone=DE' };
    expect(maskedFetchUrl(request)).to.equal(maskedFetchUrl({ origin: 'http://x', path: '/' }));
  });
});

// TRACE_IGNORED_PATHS compared the target as sent: a scrape in absolute form (`GET
// http://a:3000/metrics`), which the router serves as /metrics, had its spans.
describe('span hook: the paths left out of the traces', () => {
  it('leaves out a path named by a target in absolute form, as by a path', () => {
    const ignored = ignoring(['/metrics', '/healthz']);
    const left = (url: string) => ignored?.({ url } as IncomingMessage);
    const leftOut = [
      '/metrics',
      '/healthz?probe=1',
      'http://a:3000/metrics',
      'HTTPS://A/healthz?x',
    ];
    const traced = ['/metrics/', '/energy', 'http://a/energy?p=/metrics', 'http://a', 'ftp://a/x'];
    expect(leftOut.filter(left)).to.deep.equal(leftOut);
    expect(traced.filter(left)).to.deep.equal([]);
    expect(ignoring([])).to.equal(undefined);
  });
});
