import Router from '@koa/router';
import { expect } from 'chai';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { Readiness } from '../../src/readiness.js';
import { captureLogger, listen, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestMetrics } from '../helpers/metrics.js';

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
    router.post('/echo', (ctx) => {
      ctx.body = { got: (ctx.request as unknown as { body: unknown }).body };
    });
    router.get('/boom', () => {
      throw new Error('secret internals at /srv/app.js:42');
    });
    const app = createApp({
      config: loadConfig({ BODY_LIMIT_KB: '1' }),
      logger,
      meter: metrics.meter,
      readiness: new Readiness(),
      metricsHandler: (_req, res) => res.end(),
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
