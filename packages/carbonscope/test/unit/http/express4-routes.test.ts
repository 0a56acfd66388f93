import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { expect } from 'chai';
import express from 'express';
import express4 from 'express4';
import express419 from 'express419';
import { namesServed, servedAsOtel } from '../../helpers/routes-served.js';

type Express = typeof express;

/**
 * Every way an Express 4 app mounts what answers: routers nested under parameters, a sub-app,
 * router.route(), an array, RegExps, a trailing slash, a strict and a case-sensitive router,
 * path middleware and express.static, a route's next(err) and next().
 */
function mountedApp(e: Express, dir: string) {
  const app = e();
  const send = (text: string) => (_req: unknown, res: express.Response) => {
    res.send(text);
  };
  const users = e.Router();
  users.get('/', send('users'));
  users.get('/:id', send('user'));
  const items = e.Router();
  items.get('/:id', send('item'));
  items.get('/boom/:id', (_req, _res, next) => next(new Error('boom')));
  items.get('/pass/:id', (_req, _res, next) => next());
  const versions = e.Router();
  versions.use('/items', items);
  app.use('/users', users);
  app.use('/api/:version', versions);
  const admin = e();
  admin.get('/stats/:day', send('stats'));
  admin.use('/ping', send('pong'));
  app.use('/admin', admin);
  const routed = e.Router();
  routed.route('/x/:y').get(send('x'));
  app.use('/r', routed);
  const listed = e.Router();
  listed.get('/list', send('list'));
  app.use(['/a1', '/a2'], listed);
  const versioned = e.Router();
  versioned.get('/:x', send('v'));
  app.use(/^\/v\d+/, versioned);
  // The lookahead Express 4 ends a path's RegExp with: a path or the app's own RegExp?
  app.use(/^\/la(?=\/|$)/, versioned);
  const trailing = e.Router();
  trailing.get('/t/:z', send('t'));
  app.use('/trail/', trailing);
  const strict = e.Router({ strict: true });
  strict.get('/s/', send('s'));
  app.use('/strict', strict);
  const sensitive = e.Router({ caseSensitive: true });
  const leaves = e.Router();
  leaves.get('/leaf', send('leaf'));
  sensitive.use('/Inner/:k', leaves);
  app.use('/cs', sensitive);
  const formats = e.Router();
  formats.get('/f', send('f'));
  app.use('/file.:ext', formats);
  app.use('/opt/:o?', formats);
  app.use('/dash-:a-:b', formats);
  app.use('/cap/:n(\\d+)', formats);
  app.use('/health', send('ok'));
  app.use('/static', e.static(dir));
  app.use('/m/:k', send('mk'));
  app.use((_err: unknown, _req: unknown, res: express.Response, _next: unknown) => {
    res.status(500).send('error');
  });
  return app;
}

/**
 * Each path, its status, the `http.route` OTel's Express instrumentation (0.71.1) gave it, and
 * carbonscope's name where that differs ('-': no http.route, unmatched).
 */
const CASES: [path: string, status: number, otel: string, carbonscope?: string][] = [
  ['/users/1', 200, '/users/:id'],
  ['/users', 200, '/users'],
  ['/users/', 200, '/users'],
  // Two routers' `/:id`, two series: under Express 4 both were `/:id`.
  ['/api/v1/items/7', 200, '/api/:version/items/:id'],
  ['/API/V2/items/8', 200, '/api/:version/items/:id'],
  ['/api/v1/items/boom/1', 500, '/api/:version/items/boom/:id'],
  ['/api/v1/items/pass/1', 404, '/api/:version/items/pass/:id'],
  ['/admin/stats/3', 200, '/admin/stats/:day'],
  ['/admin/ping', 200, '/admin/ping'],
  ['/r/x/1', 200, '/r/x/:y'],
  // The path of the array that matched, as carbonscope names an Express 5 array mount.
  ['/a1/list', 200, '/a1,/a2/list', '/a1/list'],
  ['/A2/list', 200, '/a1,/a2/list', '/a2/list'],
  ['/v3/abc', 200, '/^\\/v\\d+/:x'],
  // A RegExp of the app's that a path could have made: which it was is not left to read.
  ['/la/3', 200, '/^\\/la(?=\\/|$)/:x', '/:x'],
  ['/trail/t/1', 200, '/trail/t/:z'],
  ['/strict/s/', 200, '/strict/s/'],
  ['/CS/Inner/1/leaf', 200, '/cs/Inner/:k/leaf'],
  // A 404 that only passed through a mount: OTel keeps the last one it entered.
  ['/cs/inner/1/leaf', 404, '/cs', 'unmatched'],
  ['/file.json/f', 200, '/file.:ext/f'],
  ['/opt/1/f', 200, '/opt/:o?/f'],
  ['/dash-1-2/f', 200, '/dash-:a-:b/f'],
  ['/cap/12/f', 200, '/cap/:n(\\d+)/f'],
  ['/health', 200, '/health'],
  // OTel compares its name with the path as sent; Express matched `/health` all the same.
  ['/HEALTH/deep', 200, '-', '/health'],
  ['/static/a.txt', 200, '/static'],
  ['/m/9', 200, '/m/:k'],
  ['/nope', 404, '-'],
];

/** Runs OTel's Express instrumentation on `e` as it patches `express` when required. */
function otelPatched(e: Express, version: string): () => void {
  const instrumentation = new ExpressInstrumentation({ enabled: false });
  const [definition] = instrumentation.getModuleDefinitions();
  if (definition?.patch === undefined) throw new Error('no patch for express');
  definition.patch(e, version);
  return () => definition.unpatch?.(e, version);
}

/** Express 4.22 (path-to-regexp 0.1.13) and 4.19 (0.1.7), whose RegExps are made otherwise. */
const EXPRESS_4: [e: unknown, version: string][] = [
  [express4, '4.22.3'],
  [express419, '4.19.2'],
];

for (const [module, version] of EXPRESS_4) {
  describe(`http: Express ${version} routes under mounts, named as OTel's Express instrumentation names them`, () => {
    const paths = CASES.map(([path]) => path);
    const expected = CASES.map(([, status, otel, ours]) => {
      const name = ours ?? (otel === '-' ? 'unmatched' : otel);
      return `${name} ${status}`;
    });
    let dir: string;
    let plain: string[];
    let traced: string[];
    let otel: string[];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cs-express4-'));
      writeFileSync(join(dir, 'a.txt'), 'a');
      const e = module as Express;
      plain = await namesServed(createServer(mountedApp(e, dir)), paths);
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      const unpatch = otelPatched(e, version);
      try {
        const served = servedAsOtel(mountedApp(e, dir), false);
        traced = await namesServed(served.server, paths);
        otel = served.routes;
      } finally {
        unpatch();
        context.disable();
      }
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it("OTel's http.route for each request is the table's (the reference is real)", () => {
      expect(otel).to.deep.equal(CASES.map(([, , route]) => route));
    });

    it('each request is named by its mounts and route, where OTel differs only as noted', () => {
      expect(plain).to.deep.equal(expected);
    });

    it("names them alike under OTel's instrumentation, which wraps each layer's handle", () => {
      expect(traced).to.deep.equal(expected);
    });
  });
}

describe("http: Express 5 under OTel's Express instrumentation", () => {
  it('a mounted app keeps its mount, though OTel renames the handle it is found by', async () => {
    // OTel wraps each layer's handle in a function named `patched`: the sub-app's layer, found
    // by its handle's name (`mounted_app`), was walked past, and `/stats/:day` named alone.
    const unpatch = otelPatched(express, '5.3.0');
    try {
      const app = express();
      const admin = express();
      admin.get('/stats/:day', (_req, res) => {
        res.send('stats');
      });
      app.use('/admin', admin);
      const names = await namesServed(createServer(app), ['/admin/stats/3']);
      expect(names).to.deep.equal(['/admin/stats/:day 200']);
    } finally {
      unpatch();
    }
  });
});
