import { request as httpRequest, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import Router from '@koa/router';
import { type Carbonscope, createGridIntensity } from 'carbonscope';
import { expect } from 'chai';
import { createTestMetrics, findSample, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { createApp } from '../../src/app.js';
import { parseBodies } from '../../src/body-parser.js';
import { loadConfig } from '../../src/config.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { HttpError } from '../../src/http/text/errors.js';
import type { ChatService } from '../../src/llm/client.js';
import { ModelNotLoadedError } from '../../src/predict/classifier.js';
import { Readiness } from '../../src/readiness.js';
import { pathRouter } from '../../src/routes/index.js';
import {
  HTTP_DURATION,
  type Listening,
  listen,
  meterRequests,
  startTestApp,
  type TestApp,
} from '../helpers/app.js';
import { nextSample, startEstimatedMeter } from '../helpers/energy.js';
import { captureLogger } from '../helpers/log.js';

describe('app (in-process)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({}, { BODY_LIMIT_KB: '1' });
  });
  after(() => app.close());

  it('readiness waits for start-up work and reports failures', async () => {
    const readiness = new Readiness();
    let finish: () => void = () => {};
    readiness.waitFor('model', new Promise<void>((r) => (finish = r)));
    expect(readiness.status()).to.deep.equal({ ready: false, pending: ['model'], failed: {} });
    finish();
    await new Promise((r) => setImmediate(r));
    expect(readiness.ready).to.equal(true);
    readiness.waitFor('meter', Promise.reject(new Error('no source')));
    await new Promise((r) => setImmediate(r));
    expect(readiness.status().failed).to.deep.equal({ meter: 'no source' });
  });

  it('answers 503 on /readyz while start-up work is pending', async () => {
    app.readiness.waitFor('slow', new Promise(() => {}));
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).to.equal(503);
    expect(await res.json()).to.deep.include({ ready: false, pending: ['slow'] });
  });

  it('answers 405 for a known path with the wrong method', async () => {
    const res = await fetch(`${app.url}/healthz`, { method: 'DELETE' });
    expect(res.status).to.equal(405);
  });
});

describe('error handling', () => {
  it('limits body size with 413 and never leaks a stack trace', async () => {
    const metrics = createTestMetrics();
    const { logger, lines } = captureLogger();
    const router = new Router();
    // The app's parser, as the app's own routes that take a body use it.
    router.post('/echo', parseBodies(1024), (ctx) => {
      ctx.body = { got: (ctx.request as unknown as { body: unknown }).body };
    });
    router.get('/boom', () => {
      throw new Error('secret internals at /srv/app.js:42');
    });
    const app = createApp({
      config: loadConfig({ BODY_LIMIT_KB: '1' }),
      logger,
      readiness: new Readiness(),
      metricsText: metrics.scrape,
    });
    // Test-only routes mounted after the app's own, behind its error handler.
    app.use(router.routes());
    const served = await listen(app);
    try {
      const big = await fetch(`${served.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x'.repeat(4096) }),
      });
      expect(big.status).to.equal(413);
      expect(await big.json()).to.deep.equal({
        error: 'payload_too_large',
        message: 'request body is larger than the limit of 1024 bytes',
      });

      const broken = await fetch(`${served.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"text": ',
      });
      expect(broken.status).to.equal(400);
      expect(await broken.json()).to.deep.equal({
        error: 'bad_request',
        message: 'request body is not valid JSON',
      });

      const boom = await fetch(`${served.url}/boom`);
      expect(boom.status).to.equal(500);
      const text = await boom.text();
      expect(text).not.to.include('secret internals');
      expect(text).not.to.include('at ');
      expect(JSON.parse(text)).to.have.keys('error', 'message');
      expect(lines.some((l) => l.includes('secret internals'))).to.equal(true);
    } finally {
      await served.close();
      await metrics.shutdown();
    }
  });
});

describe('/metrics', () => {
  it('is timed and logged with its real duration, and serves the exposition type', async () => {
    const metrics = createTestMetrics();
    const { logger, lines } = captureLogger();
    const app = createApp({
      config: loadConfig({}),
      logger,
      readiness: new Readiness(),
      // A slow collection: the request must be timed until the text is written, not ~0.
      metricsText: async () => {
        await new Promise((r) => setTimeout(r, 120));
        return metrics.scrape();
      },
    });
    const served = await listen(app);
    const carbonscope = await meterRequests(served, metrics);
    try {
      const first = await fetch(`${served.url}/metrics`);
      expect(first.status).to.equal(200);
      expect(first.headers.get('content-type')).to.equal(
        'text/plain; version=0.0.4; charset=utf-8',
      );
      await first.text();
      const text = await (await fetch(`${served.url}/metrics`)).text();
      // The second scrape sees the first one, recorded once it had answered.
      const scrape = {
        http_route: '/metrics',
        http_request_method: 'GET',
        http_response_status_code: '200',
        url_scheme: 'http',
      };
      expect(findSample(text, `${HTTP_DURATION}_count`, scrape)).to.equal(1);
      expect(findSample(text, `${HTTP_DURATION}_sum`, scrape)).to.be.at.least(0.11);
      expect(findSample(text, `${HTTP_DURATION}_bucket`, { ...scrape, le: '0.1' })).to.equal(0);
      const logged = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request' && l.path === '/metrics');
      expect(logged).to.have.length.of.at.least(1);
      expect(logged[0]).to.include({ status: 200 });
      expect(logged[0].durationMs).to.be.at.least(110);
    } finally {
      await served.close();
      await carbonscope.stop();
      await metrics.shutdown();
    }
  });

  it('serves gzip to a scrape that asks for it (Prometheus does), plain bytes otherwise', async () => {
    const exposition = '# TYPE a_total counter\na_total{x="é 🌍"} 1\n'.repeat(200);
    const app = createApp({
      config: loadConfig({}),
      logger: captureLogger().logger,
      readiness: new Readiness(),
      metricsText: async () => Buffer.from(exposition),
    });
    const served = await listen(app);
    // node:http, which (unlike fetch) neither asks for nor undoes an encoding.
    const rawGet = async (headers: Record<string, string>, method = 'GET') => {
      const res = await new Promise<IncomingMessage>((resolve, reject) =>
        httpRequest(`${served.url}/metrics`, { method, headers }, resolve)
          .on('error', reject)
          .end(),
      );
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return { headers: res.headers, body: Buffer.concat(chunks) };
    };
    try {
      const zipped = await rawGet({ 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).to.equal('gzip');
      expect(zipped.headers.vary).to.equal('Accept-Encoding');
      expect(Number(zipped.headers['content-length'])).to.equal(zipped.body.length);
      expect(gunzipSync(zipped.body).toString('utf8')).to.equal(exposition);
      const head = await rawGet({ 'accept-encoding': 'gzip' }, 'HEAD');
      expect(head.headers['content-encoding']).to.equal('gzip');
      expect(head.headers['content-length']).to.equal(zipped.headers['content-length']);
      const plainAsks: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip;q=0, identity' }];
      for (const headers of plainAsks) {
        const plain = await rawGet(headers);
        expect(plain.headers['content-encoding'], JSON.stringify(headers)).to.equal(undefined);
        expect(plain.headers.vary).to.equal('Accept-Encoding');
        expect(plain.body.toString('utf8')).to.equal(exposition);
      }
    } finally {
      await served.close();
    }
  });

  it('answers a failed collection with a 500 JSON error that hides the cause, and logs it', async () => {
    const metrics = createTestMetrics();
    const { logger, lines } = captureLogger();
    const app = createApp({
      config: loadConfig({}),
      logger,
      readiness: new Readiness(),
      metricsText: () => Promise.reject(new Error('collector exploded at /srv/reader.js:7')),
    });
    const served = await listen(app);
    const carbonscope = await meterRequests(served, metrics);
    try {
      const res = await fetch(`${served.url}/metrics`);
      expect(res.status).to.equal(500);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const text = await res.text();
      expect(text).not.to.include('collector exploded');
      expect(JSON.parse(text)).to.have.keys('error', 'message');
      expect(
        await metrics.value(`${HTTP_DURATION}_count`, {
          http_route: '/metrics',
          http_response_status_code: '500',
          error_type: '500',
        }),
      ).to.equal(1);
      expect(lines.some((l) => l.includes('collector exploded'))).to.equal(true);
    } finally {
      await served.close();
      await carbonscope.stop();
      await metrics.shutdown();
    }
  });
});

// The README says a path is routed as sent: /m%65trics is a 404, as a proxy rule that keeps
// /metrics private would let it through. The router ignored case all the same, so /METRICS, or
// /CARBON_INTENSITY, was served, past the same rule (nginx's `location /metrics` is
// case-sensitive too).
describe('routing: paths as sent, case included', () => {
  let served: Listening;
  let meter: Carbonscope;
  let metrics: TestMetrics;
  before(async () => {
    metrics = createTestMetrics();
    const { logger } = captureLogger();
    const config = loadConfig({ CARBON_INTENSITY: '300' });
    meter = await startEstimatedMeter(metrics, {}, logger);
    const chat: ChatService = {
      provider: 'openai',
      defaultModel: 'openai/gpt-4o-mini',
      models: () => ['openai/gpt-4o-mini'],
      complete: async () => {
        throw new HttpError(503, 'no LLM in this test');
      },
    };
    const app = createApp({
      config,
      logger,
      readiness: new Readiness(),
      metricsText: metrics.scrape,
      grid: createGridIntensity({ config, logger }),
      chat: { service: chat, tracker: meter },
      energy: meter,
      predict: {
        model: 'stub@0',
        classify: async () => {
          throw new ModelNotLoadedError();
        },
      },
      dashboard: createDashboard({ meter, sampleIntervalMs: 50 }),
    });
    served = await listen(app);
    meter.trackRequests({ servers: [served.server] });
  });
  after(async () => {
    await served.close();
    await meter.stop();
    await metrics.shutdown();
  });

  const PATHS = [
    '/healthz',
    '/readyz',
    '/metrics',
    '/carbon_intensity',
    '/carbon_intensity/history',
    '/chat',
    '/energy',
    '/predict',
    '/dashboard',
    '/dashboard/data',
    '/dashboard/assets/uplot.js',
  ];
  const capitalized = (path: string) =>
    path.replace(/\/([a-z])/g, (_all, first: string) => `/${first.toUpperCase()}`);

  it('serves every route as written, and none in another case: 404, counted as unmatched', async () => {
    for (const path of PATHS) {
      const res = await fetch(`${served.url}${path}`);
      await res.arrayBuffer();
      expect(res.status, path).not.to.equal(404);
    }
    const before = findSample(await metrics.scrape(), `${HTTP_DURATION}_count`, {
      http_route: 'unmatched',
    });
    let asked = 0;
    for (const path of PATHS) {
      for (const other of [path.toUpperCase(), capitalized(path)]) {
        const res = await fetch(`${served.url}${other}`);
        expect(res.status, other).to.equal(404);
        expect(await res.json()).to.deep.equal({
          error: 'not_found',
          message: `no route for GET ${other}`,
        });
        asked++;
      }
    }
    await nextSample(meter);
    const after = findSample(await metrics.scrape(), `${HTTP_DURATION}_count`, {
      http_route: 'unmatched',
    });
    expect((after ?? 0) - (before ?? 0)).to.equal(asked);
  });

  // The README gives http://localhost:8001 as the app's address; its root answered a JSON 404.
  // Relative, so that behind a proxy's prefix (/carbon/) it leads to /carbon/dashboard.
  it('sends GET and HEAD / to the dashboard page: 302 to ./dashboard', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${served.url}/`, { method, redirect: 'manual' });
      await res.arrayBuffer();
      expect(res.status, method).to.equal(302);
      expect(res.headers.get('location'), method).to.equal('./dashboard');
    }
    const followed = await fetch(`${served.url}/`);
    expect(followed.url).to.equal(`${served.url}/dashboard`);
    expect(followed.headers.get('content-type')).to.match(/^text\/html/);
    await followed.arrayBuffer();
  });

  // A proxy that strips its prefix (Traefik's StripPrefix, nginx's `location /carbonscope`)
  // sends /carbonscope as `/`: the browser resolved ./dashboard against /carbonscope, to
  // /dashboard, outside the prefix. Told the prefix, the service names the page under it.
  it('sends / to PROXY_PREFIX/dashboard when the prefix is set, whatever the proxy sends', async () => {
    const dashboard = createDashboard({ meter, sampleIntervalMs: 50 });
    const prefixed = await startTestApp({ dashboard }, { PROXY_PREFIX: '/carbonscope' });
    try {
      const asked: Record<string, string>[] = [{}, { 'x-forwarded-prefix': '/elsewhere' }];
      for (const headers of asked) {
        const res = await fetch(`${prefixed.url}/`, { headers, redirect: 'manual' });
        await res.arrayBuffer();
        expect(res.status).to.equal(302);
        expect(res.headers.get('location')).to.equal('/carbonscope/dashboard');
      }
      // The prefix only names the page for the browser: the page stays at /dashboard, and the
      // prefixed path is the proxy's alone (the README says so: opened directly, a 404).
      const page = await fetch(`${prefixed.url}/dashboard`);
      await page.arrayBuffer();
      expect(page.status).to.equal(200);
      const direct = await fetch(`${prefixed.url}/carbonscope/dashboard`);
      await direct.arrayBuffer();
      expect(direct.status).to.equal(404);
    } finally {
      dashboard.close();
      await prefixed.close();
    }
  });

  // @koa/router tests the pattern of every route its router has on every request. The pages a
  // person opens (/chat, /energy, /, /dashboard) made each probe's and client's request test
  // theirs too (7 of 14 tests, ~0.2 µs a /healthz request in a loop), until they were asked only
  // after the other routes found nothing. Their wrong methods are 405s as before, with the same Allow.
  // /favicon.ico, which a browser asks for after a JSON page, is one of them (2026-12-06).
  it("tests no page's pattern for a probe's or a client's request; the pages' 405s stand", async () => {
    const layer = pathRouter().get('/any', () => {}).stack[0];
    const proto = Object.getPrototypeOf(layer) as { match(this: Tested, path: string): boolean };
    type Tested = { path: unknown };
    const match = proto.match;
    const tested: string[] = [];
    proto.match = function (this: Tested, path: string) {
      tested.push(String(this.path));
      return match.call(this, path);
    };
    try {
      for (const path of ['/healthz', '/readyz', '/carbon_intensity', '/predict']) {
        const res = await fetch(`${served.url}${path}`);
        await res.arrayBuffer();
        expect(res.status, path).not.to.equal(404);
      }
    } finally {
      proto.match = match;
    }
    expect(tested).to.include.members(['/healthz', '/carbon_intensity']);
    const pages = /^\/(chat|energy|dashboard|favicon\.ico|$)/;
    expect(tested.filter((path) => pages.test(path))).to.deep.equal([]);
    for (const [path, allow] of [
      ['/energy', 'HEAD, GET'],
      ['/dashboard/data', 'HEAD, GET'],
      ['/chat', 'HEAD, GET, POST'],
    ]) {
      const res = await fetch(`${served.url}${path}`, { method: 'DELETE' });
      await res.arrayBuffer();
      expect(res.status, path).to.equal(405);
      expect(res.headers.get('allow'), path).to.equal(allow);
    }
  });

  // The router's default took a trailing slash as no slash: /metrics/ was served as /metrics,
  // past a proxy's exact rule for it (nginx's `location = /metrics`), as /METRICS was.
  it('serves no route with a slash after it: 404, counted as unmatched', async () => {
    const before = findSample(await metrics.scrape(), `${HTTP_DURATION}_count`, {
      http_route: 'unmatched',
    });
    for (const path of PATHS) {
      const res = await fetch(`${served.url}${path}/`);
      expect(res.status, `${path}/`).to.equal(404);
      await res.arrayBuffer();
    }
    await nextSample(meter);
    const after = findSample(await metrics.scrape(), `${HTTP_DURATION}_count`, {
      http_route: 'unmatched',
    });
    expect((after ?? 0) - (before ?? 0)).to.equal(PATHS.length);
  });
});
