import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import Router from '@koa/router';
import { expect } from 'chai';
import express from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import fastify40 from 'fastify40';
import Koa from 'koa';
import KoaRouter71 from 'koa-router71';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { installRouteResolvers } from '../../../src/http/frameworks/index.js';
import { setRoute } from '../../../src/http/index.js';
import type { Carbonscope, CarbonscopeOptions } from '../../../src/runtime/carbonscope.js';
import { collected } from '../../helpers/collected.js';
import { steadyCarbonscope } from '../energy/scripted.js';

// Fastify 4.0's types declare only a default export, which an ES module's default import of
// CommonJS reads as the whole module (its `default` is the same function at run time).
const Fastify40 = fastify40.default;

/** A carbonscope on a constant source and a manual timer (`extra`: context capture). */
function scripted(extra: Partial<CarbonscopeOptions> = {}): Promise<Carbonscope> {
  return steadyCarbonscope(extra);
}

/** carbonscope tracking only `server`'s requests; the operations it ended, in order. */
async function tracked(server: Server): Promise<{ cs: Carbonscope; ended: OperationFootprint[] }> {
  const cs = await scripted();
  const ended: OperationFootprint[] = [];
  // As each request ends (its route and status are known then; its energy at the next sample).
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests({ servers: [server] });
  return { cs, ended };
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 100 && !ok(); t++) await new Promise((r) => setTimeout(r, 5));
}

async function listening(server: Server): Promise<string> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** GETs every path in turn; the operations end on the response's finish, before the next. */
async function requestAll(base: string, paths: string[], ended: OperationFootprint[]) {
  for (const [i, path] of paths.entries()) {
    await (await fetch(`${base}${path}`)).arrayBuffer();
    for (let t = 0; t < 100 && ended.length <= i; t++) await new Promise((r) => setTimeout(r, 5));
  }
  return ended.map((f) => `${f.operation} ${f.status}`);
}

const PATHS = ['/users/42', '/api/v1/items/abc', '/hello', `/no/such/${Date.now()}`];
const EXPECTED = ['/users/:id 200', '/api/v1/items/:item 200', '/hello 200', 'unmatched 404'];

/** What a Fastify instance of either line offers that serving PATHS needs. */
interface FastifyLike {
  readonly server: Server;
  ready(): PromiseLike<unknown>;
  listen(options: { port: number; host: string }): PromiseLike<unknown>;
  close(): PromiseLike<unknown>;
}

/** Serves PATHS from a Fastify app whose routes are added, and expects each under its template. */
async function expectFastifyRoutes(app: FastifyLike): Promise<void> {
  await app.ready();
  const { cs, ended } = await tracked(app.server);
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await requestAll(await listening(app.server), PATHS, ended)).to.deep.equal(EXPECTED);
  } finally {
    await app.close();
    await cs.stop();
  }
}

/** Express's error handler for a route that passes an error on: a 500 named by that route. */
const errorPage: express.ErrorRequestHandler = (_err, _req, res, _next) => {
  res.status(500).send('error');
};

/** The names the operations of `paths`, served by `server` with request tracking on, got. */
async function namesServed(server: Server, paths: string[]): Promise<string[]> {
  const { cs, ended } = await tracked(server);
  try {
    return await requestAll(await listening(server), paths, ended);
  } finally {
    server.close();
    await cs.stop();
  }
}

/** Serves PATHS from `server` with request tracking on: each is counted under its template. */
async function expectRouteTemplates(server: Server): Promise<void> {
  expect(await namesServed(server, PATHS)).to.deep.equal(EXPECTED);
}

/**
 * An app whose answers come from path middleware, as OTel's Express instrumentation saw them:
 * each path with the `http.route` it gave (run here, Express 4 and 5 alike), `-` where it gave
 * none. A middleware that answers leaves baseUrl as its mount matched it: Express restores it
 * only on next(), so next(err) and a static file's miss (its next()) leave nothing to read.
 */
function middlewareApp(e: typeof express, dir: string, upstream: string) {
  const app = e();
  app.use('/health', (_req, res) => {
    res.send('ok');
  });
  app.use('/static', e.static(dir));
  // A proxy: the upstream's answer streamed back, after the middleware has returned.
  app.use('/api', (req, res) => {
    void fetch(`${upstream}${req.url}`).then(async (r) => {
      res.status(r.status).send(await r.text());
    });
  });
  app.use('/v/:ver', (_req, res) => {
    res.send('v');
  });
  app.use('/errs', (_req, _res, next) => next(new Error('boom')));
  app.use('/passes', (_req, _res, next) => next());
  const sub = e();
  sub.use('/ping', (_req, res) => {
    res.send('pong');
  });
  sub.use(e.static(dir));
  app.use('/sub', sub);
  const router = e.Router();
  router.use('/mw', (_req, res) => {
    res.send('mw');
  });
  app.use('/router', router);
  app.use(e.static(dir));
  app.use(errorPage);
  return app;
}

const OTEL_MIDDLEWARE_ROUTES: [path: string, status: number, otel: string][] = [
  ['/health', 200, '/health'],
  ['/health/deep', 200, '/health'],
  ['/static/a.txt', 200, '/static'],
  ['/static/none.txt', 404, '-'],
  ['/api/x/y', 200, '/api'],
  ['/v/3', 200, '/v/:ver'],
  ['/errs', 500, '/errs'],
  ['/passes', 404, '-'],
  ['/sub/ping', 200, '/sub/ping'],
  ['/sub/a.txt', 200, '/sub'],
  ['/router/mw', 200, '/router/mw'],
  ['/a.txt', 200, '-'],
  ['/nope', 404, '-'],
];

/** What the middleware app's paths are named, served by Express `e`. */
async function middlewareNames(e: typeof express): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-static-'));
  writeFileSync(join(dir, 'a.txt'), 'x'.repeat(200_000));
  const upstream = createServer((req, res) => {
    setTimeout(() => res.end(`up ${req.url}`), 5);
  });
  try {
    const app = middlewareApp(e, dir, await listening(upstream));
    const paths = OTEL_MIDDLEWARE_ROUTES.map(([path]) => path);
    return await namesServed(createServer(app), paths);
  } finally {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('http: every request of a server is one operation named by its route template', () => {
  it('Express 5: req.route with the mount path of nested routers', async () => {
    const app = express();
    const users = express.Router();
    users.get('/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const items = express.Router();
    items.get('/items/:item', (_req, res) => {
      res.send('item');
    });
    const api = express.Router();
    api.use('/v1', items);
    app.use('/users', users);
    app.use('/api', api);
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    const server = createServer(app);
    await expectRouteTemplates(server);
  });

  it('Express 5: a mount path is its template, whatever letters or values the client sent', async () => {
    const app = express();
    const users = express.Router();
    users.get('/users/:id', (_req, res) => {
      res.send('user');
    });
    const versions = express.Router();
    versions.use('/:version', users);
    app.use('/api', versions);
    const admin = express.Router();
    admin.get('/stats', (_req, res) => {
      res.send('stats');
    });
    app.use(['/admin', '/staff'], admin);
    const shop = express();
    shop.get('/cart/:id', (_req, res) => {
      res.send('cart');
    });
    app.use('/:store', shop);
    const paths = [
      '/api/v1/users/1',
      '/API/v2/users/2',
      '/aPi/x9/users/3',
      '/STAFF/stats',
      '/acme/cart/7',
    ];
    expect(await namesServed(createServer(app), paths)).to.deep.equal([
      '/api/:version/users/:id 200',
      '/api/:version/users/:id 200',
      '/api/:version/users/:id 200',
      '/staff/stats 200',
      '/:store/cart/:id 200',
    ]);
  });

  it('Express 5: a route that passes the request out of its routers keeps their mounts', async () => {
    // Each router gives back the baseUrl it added as the request leaves it (next(err) to the
    // app's error handler, next() to the final 404): req.route alone named `/err/:id`.
    const app = express();
    const users = express.Router();
    users.get('/err/:id', (_req, _res, next) => next(new Error('boom')));
    users.get('/pass/:id', (_req, _res, next) => next());
    const versions = express.Router();
    versions.use('/:version', users);
    app.use('/users', users);
    app.use('/api', versions);
    app.get('/top/:id', (_req, _res, next) => next(new Error('boom')));
    app.use(errorPage);
    const paths = ['/users/err/1', '/users/pass/2', '/API/v3/err/3', '/top/4'];
    expect(await namesServed(createServer(app), paths)).to.deep.equal([
      '/users/err/:id 500',
      '/users/pass/:id 404',
      '/api/:version/err/:id 500',
      '/top/:id 500',
    ]);
  });

  it("Express 5: an app given to a router is named under its mounts only where it is the server's listener", async () => {
    // Nothing on the request leads from the app given to the router back to the app that holds
    // it but the server's request listener: a function of the application's own hides it.
    const build = () => {
      const app = express();
      const given = express();
      given.get('/ok/:id', (_req, res) => {
        res.send('ok');
      });
      const router = express.Router();
      router.use('/:tenant', given);
      app.use('/t', router);
      return app;
    };
    const app = build();
    const wrapped = build();
    const [direct, hidden] = [
      await namesServed(createServer(app), ['/t/acme/ok/1']),
      await namesServed(
        createServer((req, res) => wrapped(req, res)),
        ['/t/acme/ok/1'],
      ),
    ];
    expect({ direct, hidden }).to.deep.equal({
      direct: ['/t/:tenant/ok/:id 200'],
      hidden: ['/ok/:id 200'],
    });
  });

  it('Express 4 and 5: an answer from path middleware is named by its mount, as OTel names it', async () => {
    // Where OTel names one ('-': it names none), so does carbonscope, but for next(err): its
    // router gave baseUrl back, and which middleware passed the error on is not left to read.
    const expected = OTEL_MIDDLEWARE_ROUTES.map(([path, status, otel]) => {
      const named = otel === '-' || path === '/errs' ? 'unmatched' : otel;
      return `${named} ${status}`;
    });
    expect(await middlewareNames(express)).to.deep.equal(expected);
    // Express 4's layers keep no mount path: each is read back off its RegExp.
    expect(await middlewareNames(express4 as unknown as typeof express)).to.deep.equal(expected);
  });

  it('Express 5: a mount is its template, whatever letters the client sent', async () => {
    // OTel compares its name with the path as sent: `/HEALTH` has none there.
    const app = express();
    app.use('/health', (_req, res) => {
      res.send('ok');
    });
    app.use('/v/:ver', (_req, res) => {
      res.send('v');
    });
    const names = await namesServed(createServer(app), ['/HEALTH', '/Health/x', '/V/9']);
    expect(names).to.deep.equal(['/health 200', '/health 200', '/v/:ver 200']);
  });

  it('Express 5: two mounts the same text matches leave the answer unmatched, never a guess', async () => {
    // `/:tenant` passes `/health` on or answers it: Express leaves nothing that says which.
    const app = express();
    app.use('/:tenant', (req, res, next) => {
      if (req.params.tenant === 'acme') res.send('acme');
      else next();
    });
    app.use('/health', (_req, res) => {
      res.send('ok');
    });
    app.use('/only/:x', (_req, res) => {
      res.send('x');
    });
    const names = await namesServed(createServer(app), ['/acme', '/health', '/only/1']);
    expect(names).to.deep.equal(['/:tenant 200', 'unmatched 200', '/only/:x 200']);
  });

  it("Express 5: a mounted middleware's own 404 is its mount; only nothing answering is unmatched", async () => {
    // OTel names `/api/nope` here `/api` (status 404) too: the catch-all answered it.
    const app = express();
    const api = express.Router();
    api.get('/u', (_req, res) => {
      res.send('u');
    });
    app.use('/api', api);
    app.use('/api', (_req, res) => {
      res.status(404).json({ error: 'no such endpoint' });
    });
    const names = await namesServed(createServer(app), ['/api/u', '/api/nope', '/nope']);
    expect(names).to.deep.equal(['/api/u 200', '/api 404', 'unmatched 404']);
  });

  it("Express 5: a mount whose match throws on the client's text is no match, not a crash", async () => {
    // `/:x` decodes its value: on `/raw%E0`, which the RegExp mount before it answered and Express
    // never matched it with, its match() throws: in the finish channel, the process's uncaught one.
    const app = express();
    app.use(/^\/raw[^/]*/, (_req, res) => {
      res.send('raw');
    });
    app.use('/:x', (_req, res) => {
      res.send('x');
    });
    const names = await namesServed(createServer(app), ['/raw%E0']);
    expect(names).to.deep.equal(['/^\\/raw[^/]*/ 200']);
  });

  it("Express: a mount's '/' route is the mount alone, an empty path '/', as OTel names them", async () => {
    // OTel's Express instrumentation names these `/users`, `/sub` and `/`: `/users/` was a name
    // of its own for the same route, and `app.get('')` an empty label.
    for (const e of [express, express4] as unknown as (typeof express)[]) {
      const app = e();
      app.get('', (_req, res) => {
        res.send('root');
      });
      const users = e.Router();
      users.get('/', (_req, res) => {
        res.send('users');
      });
      app.use('/users', users);
      const sub = e();
      sub.get('/', (_req, res) => {
        res.send('sub');
      });
      app.use('/sub', sub);
      const names = await namesServed(createServer(app), ['/', '/users', '/users/', '/sub/']);
      expect(names).to.deep.equal(['/', '/users', '/users', '/sub'].map((n) => `${n} 200`));
    }
  });

  it("Express 5: a RegExp mount and an array path are named as OTel's http.route names them", async () => {
    // A RegExp's text ends with its '/': joined to the route's, it read `/^\/v\d+//:x`.
    const app = express();
    const versioned = express.Router();
    versioned.get('/:x', (_req, res) => {
      res.send('x');
    });
    const inner = express.Router();
    inner.get('/y/:y', (_req, res) => {
      res.send('y');
    });
    // Passed out of its routers, it is named by the one chain of mounts, joined apart (soleChain).
    inner.get('/err/:id', (_req, _res, next) => next(new Error('boom')));
    versioned.use(/^\/in/, inner);
    app.use(/^\/v\d+/, versioned);
    app.get(['/a/:id', '/b/:id'], (_req, res) => {
      res.send('ab');
    });
    app.use(errorPage);
    const paths = ['/v3/abc', '/v2/in/y/1', '/b/1', '/v2/in/err/1'];
    expect(await namesServed(createServer(app), paths)).to.deep.equal([
      '/^\\/v\\d+/:x 200',
      '/^\\/v\\d+/^\\/in/y/:y 200',
      '/a/:id,/b/:id 200',
      '/^\\/v\\d+/^\\/in/err/:id 500',
    ]);
  });

  it('Express 4: a request through a mounted router is named under its mount, never thrown on', async () => {
    // Express 4's app.router is a getter that throws: read from Node's finish channel, its
    // error was the process's uncaught exception at the first such request.
    const app = express4();
    const users = express4.Router();
    users.get('/:id', (_req, res) => {
      res.send('user');
    });
    app.use('/users', users);
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    expect(await namesServed(createServer(app), ['/users/1', '/hello', '/none'])).to.deep.equal([
      '/users/:id 200',
      '/hello 200',
      'unmatched 404',
    ]);
  });

  it("Express: a route the handler names with setRoute wins over Express's own", async () => {
    const app = express();
    app.get('/files/*path', (req, res) => {
      setRoute(req, '/files/:kind');
      res.send('file');
    });
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    const names = await namesServed(createServer(app), ['/files/a/b.txt', '/hello']);
    expect(names).to.deep.equal(['/files/:kind 200', '/hello 200']);
  });

  it('labels a request by the method it arrived with, whatever the app rewrites it to', async () => {
    // method-override and similar middleware rewrite req.method for routing: the semantic
    // conventions' http.request.method is the method on the wire.
    const app = express();
    app.use((req, _res, next) => {
      if (req.get('x-http-method-override') === 'DELETE') req.method = 'DELETE';
      next();
    });
    app.delete('/items/:id', (_req, res) => {
      res.send('gone');
    });
    const server = createServer(app);
    const cs = await scripted();
    const methods: string[] = [];
    cs.onRequestEnd((r) => methods.push(`${r.http?.method} ${r.name}`));
    cs.trackRequests({ servers: [server] });
    try {
      const base = await listening(server);
      const init = { method: 'POST', headers: { 'x-http-method-override': 'DELETE' } };
      await (await fetch(`${base}/items/7`, init)).arrayBuffer();
      await waitFor(() => methods.length >= 1);
      expect(methods).to.deep.equal(['POST /items/:id']);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('Fastify 5: the route its own diagnostics channel names', async () => {
    const app = Fastify();
    app.get('/users/:id', async () => ({ ok: true }));
    app.register(
      async (v1) => {
        v1.get('/items/:item', async () => 'item');
      },
      { prefix: '/api/v1' },
    );
    app.get('/hello', async () => 'hi');
    await expectFastifyRoutes(app);
  });

  /**
   * Each name given to the route slot of a Fastify 5 app's requests to /users/1 and /users/2, in
   * order: an accessor put on the slot before Fastify (and carbonscope's hook) sees the request.
   */
  async function fastifyRouteNamings(): Promise<string[]> {
    const app = Fastify();
    app.get('/users/:id', async () => 'user');
    await app.ready();
    const names: string[] = [];
    app.server.prependListener('request', (req: IncomingMessage) => {
      let value: unknown;
      Object.defineProperty(req, Symbol.for('carbonscope.http.route'), {
        configurable: true,
        get: () => value,
        set: (v: unknown) => {
          if (v !== undefined) names.push(String(v));
          value = v;
        },
      });
    });
    const { cs, ended } = await tracked(app.server);
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const base = await listening(app.server);
      expect(await requestAll(base, ['/users/1', '/users/2'], ended)).to.deep.equal([
        '/users/:id 200',
        '/users/:id 200',
      ]);
      return names;
    } finally {
      await app.close();
      await cs.stop();
    }
  }

  it('Fastify 5: names the route once per request, not again on its handler channel', async () => {
    installRouteResolvers();
    expect(await fastifyRouteNamings()).to.deep.equal(['/users/:id', '/users/:id']);
  });

  it("Fastify: another copy of carbonscope in the process (a dependency's) names no route again", async () => {
    installRouteResolvers();
    // A module of its own, as another copy's is: its own state, the same diagnostics channels.
    const copy = new URL('../../../src/http/frameworks/fastify.js?copy=second', import.meta.url);
    const other: typeof import('../../../src/http/frameworks/fastify.js') = await import(copy.href);
    other.installFastifyRoutes();
    expect(await fastifyRouteNamings()).to.deep.equal(['/users/:id', '/users/:id']);
  });

  // Fastify 4's instance has the methods the test uses, with the same signatures.
  const lines: Array<[string, () => FastifyInstance]> = [
    ['5', () => Fastify()],
    ['4', () => Fastify4() as unknown as FastifyInstance],
    // 4.0 to 4.6 keep the route context as a plain `request.context`: no symbol, no routeOptions.
    ['4.0', () => Fastify40() as unknown as FastifyInstance],
  ];
  for (const [line, build] of lines) {
    it(`Fastify ${line}: a request a hook answers (auth, 401) keeps the route it matched`, async () => {
      // Built after carbonscope loaded, as under register. Fastify 5's handler channel never
      // fires for a request a hook answers, and a route's own hooks run after the instance's.
      installRouteResolvers();
      const app = build();
      app.addHook('onRequest', async (request, reply) => {
        if (request.headers.authorization === undefined) return reply.code(401).send('no');
      });
      app.get('/users/:id', async () => ({ ok: true }));
      app.register(
        async (v1) => {
          v1.addHook('preHandler', async (_request, reply) => reply.code(403).send('no'));
          v1.get('/items/:item', async () => 'item');
        },
        { prefix: '/api/v1' },
      );
      await app.ready();
      const { cs, ended } = await tracked(app.server);
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const base = await listening(app.server);
        const paths = ['/users/42', '/api/v1/items/abc', `/no/such/${Date.now()}`];
        expect(await requestAll(base, paths, ended)).to.deep.equal([
          '/users/:id 401',
          '/api/v1/items/:item 401',
          'unmatched 401',
        ]);
        // With the credentials the hook wants: the handler's 200, and the prefixed preHandler's 403.
        ended.length = 0;
        for (const path of ['/users/42', '/api/v1/items/abc']) {
          await (await fetch(`${base}${path}`, { headers: { authorization: 'x' } })).arrayBuffer();
        }
        await waitFor(() => ended.length === 2);
        expect(ended.map((f) => `${f.operation} ${f.status}`)).to.deep.equal([
          '/users/:id 200',
          '/api/v1/items/:item 403',
        ]);
      } finally {
        await app.close();
        await cs.stop();
      }
    });
  }

  const fours: Array<[string, () => FastifyInstance]> = [
    ['4', () => Fastify4() as unknown as FastifyInstance],
    ['4.0', () => Fastify40() as unknown as FastifyInstance],
  ];
  for (const [line, build] of fours) {
    it(`Fastify ${line}: the route each route names, from the instance carbonscope saw being built`, async () => {
      // Fastify 4 has no handler channel: what register and the instrumentation install as they
      // load (before the application builds its Fastify) names every route of every instance.
      installRouteResolvers();
      const app = build();
      app.get('/users/:id', async () => ({ ok: true }));
      app.register(
        async (v1) => {
          v1.get('/items/:item', async () => 'item');
        },
        { prefix: '/api/v1' },
      );
      app.get('/hello', { onRequest: async () => undefined }, async () => 'hi');
      await expectFastifyRoutes(app);
    });
  }

  for (const [which, KoaRouter] of [
    ['@koa/router: ctx._matchedRoute, nested routers included', Router],
    ['koa-router 7.1, the oldest that writes ctx._matchedRoute (7.0 writes none)', KoaRouter71],
  ] as const) {
    it(`Koa 3 with ${which}`, async () => {
      const app = new Koa();
      const router = new KoaRouter();
      router.get('/users/:id', (ctx) => {
        ctx.body = 'user';
      });
      const v1 = new KoaRouter({ prefix: '/api/v1' });
      v1.get('/items/:item', (ctx) => {
        ctx.body = 'item';
      });
      router.get('/hello', (ctx) => {
        ctx.body = 'hi';
      });
      app.use(router.routes());
      app.use(v1.routes());
      await expectRouteTemplates(createServer(app.callback()));
    });
  }

  it("Koa 3 with @koa/router: a regex route, and a router's middleware that answers first", async () => {
    // @koa/router writes each layer's path to ctx._matchedRoute as the layer runs, its
    // middleware's (`/p(?:\/|$)`) included, and a regex route's path is a RegExp.
    installRouteResolvers();
    const app = new Koa();
    const router = new Router({ prefix: '/p' });
    router.use(async (ctx, next) => {
      if (ctx.get('authorization') === '') ctx.status = 401;
      else await next();
    });
    router.get('/items/:id', (ctx) => {
      ctx.body = 'item';
    });
    router.get(/^\/p\/re\/\d+$/, (ctx) => {
      ctx.body = 're';
    });
    app.use(router.routes());
    const server = createServer(app.callback());
    const { cs, ended } = await tracked(server);
    try {
      const base = await listening(server);
      const names: string[] = [];
      for (const [path, authorization] of [
        ['/p/items/1', 'x'],
        ['/p/re/12', 'x'],
        ['/p/items/2', ''],
      ] as const) {
        await (await fetch(`${base}${path}`, { headers: { authorization } })).arrayBuffer();
        await waitFor(() => ended.length > names.length);
        names.push(`${ended.at(-1)?.operation} ${ended.at(-1)?.status}`);
      }
      expect(names).to.deep.equal([
        '/p/items/:id 200',
        '/^\\/p\\/re\\/\\d+$/ 200',
        '/p/items/:id 401',
      ]);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('Koa 3: a router under koa-mount is named with the mount prefix', async () => {
    // What koa-mount (4) does: ctx.mountPath is its prefix, ctx.path the rest while downstream
    // runs, and it leaves mountPath set when the request goes back up to the app's own routes.
    const mount =
      (prefix: string, mw: ReturnType<Router['routes']>): Koa.Middleware =>
      async (ctx, upstream) => {
        const prev = ctx.path;
        if (!prev.startsWith(`${prefix}/`)) return upstream();
        const rest = prev.slice(prefix.length);
        ctx.mountPath = prefix;
        ctx.path = rest;
        try {
          await mw(ctx as Parameters<typeof mw>[0], async () => {
            ctx.path = prev;
            await upstream();
            ctx.path = rest;
          });
        } finally {
          ctx.path = prev;
        }
      };
    installRouteResolvers();
    const users = new Router();
    users.get('/users/:id', (ctx) => {
      ctx.body = 'user';
    });
    const own = new Router();
    own.get('/v2/legacy/:id', (ctx) => {
      ctx.body = 'legacy';
    });
    const app = new Koa();
    app.use(mount('/v2', users.routes()));
    app.use(mount('/v3', users.routes()));
    app.use(own.routes());
    const server = createServer(app.callback());
    const { cs, ended } = await tracked(server);
    try {
      const base = await listening(server);
      const paths = ['/v2/users/1', '/v3/users/2?x=1', '/v2/legacy/3'];
      expect(await requestAll(base, paths, ended)).to.deep.equal([
        '/v2/users/:id 200',
        '/v3/users/:id 200',
        '/v2/legacy/:id 200',
      ]);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('hapi: request.route.path, plugin prefix included, from no code of the app', async () => {
    // What register and the instrumentation install as they load: hapi offers no channel, and
    // extensions only per server.
    installRouteResolvers();
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    server.route({ method: 'GET', path: '/users/{id}', handler: () => 'user' });
    server.route({ method: 'GET', path: '/hello', handler: () => 'hi' });
    server.route({
      method: 'GET',
      path: '/internal/{x}',
      options: { isInternal: true },
      handler: () => 'internal',
    });
    await server.register(
      {
        name: 'v1',
        register: (v1) => {
          v1.route({ method: 'GET', path: '/items/{item}', handler: () => 'item' });
        },
      },
      { routes: { prefix: '/api/v1' } },
    );
    // An extension that answers after the route matched (auth's 401) leaves it named.
    server.ext('onPreAuth', (request, h) =>
      request.query.deny ? h.response('no').code(401).takeover() : h.continue,
    );
    const { cs, ended } = await tracked(server.listener);
    try {
      await server.start();
      const paths = ['/users/42', '/api/v1/items/abc', '/hello?deny=1', '/internal/1', '/no/such'];
      expect(await requestAll(await listening(server.listener), paths, ended)).to.deep.equal([
        '/users/{id} 200',
        '/api/v1/items/{item} 200',
        '/hello 401',
        'unmatched 404',
        'unmatched 404',
      ]);
    } finally {
      await server.stop();
      await cs.stop();
    }
  });

  // Express's router without its app leaves Node's request as Node made it: its route is read
  // off a request of Node's own shape, as an app's is off Express's reshaped one.
  it("plain node:http with Express's router alone: the route it matched", async () => {
    const root = express.Router();
    root.get('/users/:id', (_req, res) => {
      res.end('user');
    });
    root.get('/api/v1/items/:item', (_req, res) => {
      res.end('item');
    });
    root.get('/hello', (_req, res) => {
      res.end('hi');
    });
    const server = createServer((req, res) => {
      root(req as express.Request, res as express.Response, () => {
        res.statusCode = 404;
        res.end();
      });
    });
    await expectRouteTemplates(server);
  });

  it('plain node:http: the handler names its route with setRoute, never the raw path', async () => {
    const server = createServer((req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/users/')) setRoute(req, '/users/:id');
      else if (path.startsWith('/api/v1/items/')) setRoute(req, '/api/v1/items/:item');
      else if (path === '/hello') setRoute(req, '/hello');
      else res.statusCode = 404;
      res.end('ok');
    });
    await expectRouteTemplates(server);
  });

  // It ended at the next sample, its duration up to a sample interval longer than the request:
  // the client's leaving ends it.
  it("plain node:http: setRoute twice keeps the last; an empty template is '/', no empty label", async () => {
    const server = createServer((req, res) => {
      if (req.url === '/') setRoute(req, '');
      else {
        setRoute(req, '/draft/:id');
        setRoute(req, '/users/:id');
      }
      res.end('ok');
    });
    expect(await namesServed(server, ['/', '/users/1'])).to.deep.equal(['/ 200', '/users/:id 200']);
  });

  it('a request the client abandons ends when its connection closes, not at the next sample', async () => {
    let release: () => void = () => undefined;
    const server = createServer((req, res) => {
      setRoute(req, '/slow');
      release = () => res.end('late');
    });
    const { cs, ended } = await tracked(server);
    try {
      const base = await listening(server);
      const aborted = new AbortController();
      const sentAt = performance.now();
      const pending = fetch(`${base}/slow`, { signal: aborted.signal }).catch(() => 'aborted');
      await new Promise((r) => setTimeout(r, 50));
      aborted.abort();
      await pending;
      await waitFor(() => ended.length > 0);
      const seenAt = performance.now();
      // No sample since the request began: the sweep did not end it.
      expect(cs.trackRequests().inFlight).to.equal(0);
      expect(ended.map((f) => `${f.operation} ${f.status ?? '-'}`)).to.deep.equal(['/slow -']);
      await new Promise((r) => setTimeout(r, 200));
      cs.meter.sampleNow();
      expect(ended).to.have.length(1);
      // Begun after it was sent, ended before it was seen ended: not 200 ms after that, at the
      // sample.
      expect(ended[0].durationSeconds).to.be.at.most((seenAt - sentAt) / 1000);
      release();
    } finally {
      server.close();
      await cs.stop();
    }
  });

  // Node 20 never closes a response pipelined behind the one whose turn it is: when the client
  // left, the sweep did not end it (its response is neither closed nor destroyed), and it stayed
  // in flight for good, sharing every later interval's energy. Node 24 closes it.
  it('a request pipelined behind another ends at the next sample once its client has left', async () => {
    const releases: (() => void)[] = [];
    const server = createServer((req, res) => {
      setRoute(req, '/slow');
      releases.push(() => res.end('late'));
    });
    const { cs, ended } = await tracked(server);
    try {
      const base = new URL(await listening(server));
      const socket = connect(Number(base.port), base.hostname);
      await once(socket, 'connect');
      socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => releases.length === 2);
      socket.destroy();
      await waitFor(() => ended.length > 0);
      cs.meter.sampleNow();
      expect(cs.trackRequests().inFlight).to.equal(0);
      expect(ended.map((f) => `${f.operation} ${f.status ?? '-'}`)).to.deep.equal([
        '/slow -',
        '/slow -',
      ]);
      // The app's late answers, to a connection that is gone, end nothing twice.
      for (const release of releases) release();
      await new Promise((r) => setTimeout(r, 50));
      cs.meter.sampleNow();
      expect(ended).to.have.length(2);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('tracks only the servers it was given, and stops at ignoreServer, whichever asked last', async () => {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      setRoute(req, '/x');
      res.end('x');
    };
    const kept = createServer(handler);
    const other = createServer(handler);
    const { cs, ended } = await tracked(kept);
    try {
      const [a, b] = [await listening(kept), await listening(other)];
      const get = async (base: string) => (await fetch(`${base}/x`)).arrayBuffer();
      for (const base of [a, b, a, b, a]) await get(base);
      await waitFor(() => ended.length >= 3);
      expect(ended).to.have.length(3);
      cs.ignoreServer(kept);
      await get(a);
      await new Promise((r) => setTimeout(r, 50));
      expect(ended).to.have.length(3);
    } finally {
      kept.close();
      other.close();
      await cs.stop();
    }
  });

  it('adds the context-capturing listener only once a context can be active, then at a sample', async () => {
    let active = false;
    const server = createServer((req, res) => {
      setRoute(req, '/x');
      res.end('x');
    });
    const cs = await scripted({ captureContext: () => undefined, contextActive: () => active });
    const requests = cs.trackRequests({ servers: [server] });
    try {
      const base = await listening(server);
      const listeners = () => server.listenerCount('request');
      const before = listeners();
      for (let i = 0; i < 3; i++) await (await fetch(`${base}/x`)).arrayBuffer();
      requests.sweep();
      expect(listeners()).to.equal(before);
      active = true;
      await (await fetch(`${base}/x`)).arrayBuffer();
      expect(listeners()).to.equal(before);
      requests.sweep();
      expect(listeners()).to.equal(before + 1);
      requests.sweep();
      expect(listeners()).to.equal(before + 1);
    } finally {
      server.close();
      await cs.stop();
    }
    expect(server.listenerCount('request')).to.equal(1);
  });

  it('lets go of a server that closed, whose requests it captured the context of', async () => {
    // A test runner that makes a server per test: each closed one was held until stop(), with
    // everything its handler holds.
    const cs = await scripted({ captureContext: () => undefined, contextActive: () => true });
    cs.trackRequests();
    const serve = () =>
      createServer((req, res) => {
        setRoute(req, '/x');
        res.end('x');
      });
    try {
      let server: Server | undefined = serve();
      const before = server.listenerCount('request');
      await (await fetch(`${await listening(server)}/x`)).arrayBuffer();
      expect(server.listenerCount('request')).to.equal(before + 1);
      server.close();
      await once(server, 'close');
      expect(server.listenerCount('request'), 'its context listener, once closed').to.equal(before);
      // Listening again, it is captured again, once.
      for (let i = 0; i < 2; i++) await (await fetch(`${await listening(server)}/x`)).arrayBuffer();
      expect(server.listenerCount('request')).to.equal(before + 1);
      server.close();
      await once(server, 'close');
      const held = new WeakRef(server);
      server = undefined;
      expect(await collected(held), 'the closed server').to.equal(true);
    } finally {
      await cs.stop();
    }
  });

  // The last server asked about (one comparison a request) was left set at stop: a server that
  // closed after the tracking stopped, its close no longer watched, was held as long as the
  // stopped tracking was.
  it('lets go of a server that closes after the tracking stopped', async () => {
    const cs = await scripted();
    const tracking = cs.trackRequests();
    let server: Server | undefined = createServer((_req, res) => res.end('ok'));
    try {
      await (await fetch(`${await listening(server)}/x`)).arrayBuffer();
      await cs.stop();
      server.close();
      await once(server, 'close');
      const held = new WeakRef(server);
      server = undefined;
      expect(await collected(held), 'the closed server').to.equal(true);
      // Still referenced here: what it holds is what a stopped tracking keeps.
      expect(tracking.inFlight).to.equal(0);
    } finally {
      server?.close();
    }
  });

  // The last request started is kept for leaveOutScrape, and the last server asked about for
  // one comparison a request: a request its client left (ended at its connection's close, or
  // at the sweep) and a server that closed were both kept until the next request, with all a
  // handler holds.
  for (const pipelined of [false, true]) {
    it(`lets go of a closed server whose last request its client left${pipelined ? ', pipelined' : ''}`, async () => {
      const cs = await scripted();
      cs.trackRequests();
      let started = 0;
      let server: Server | undefined = createServer(() => {
        started++;
      });
      try {
        const base = new URL(await listening(server));
        const socket = connect(Number(base.port), base.hostname);
        await once(socket, 'connect');
        socket.write(
          `GET /a HTTP/1.1\r\nHost: x\r\n\r\n${pipelined ? 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n' : ''}`,
        );
        await waitFor(() => started === (pipelined ? 2 : 1));
        socket.destroy();
        server.close();
        await once(server, 'close');
        // A response pipelined behind another, left open by Node 20, ends at the sweep.
        cs.meter.sampleNow();
        expect(cs.trackRequests().inFlight).to.equal(0);
        const held = new WeakRef(server);
        server = undefined;
        expect(await collected(held), 'the closed server').to.equal(true);
      } finally {
        server?.close();
        await cs.stop();
      }
    });
  }
});
