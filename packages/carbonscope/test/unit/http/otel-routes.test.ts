import { createServer, type RequestListener, type Server } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import Hapi from '@hapi/hapi';
import Router from '@koa/router';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HapiInstrumentation } from '@opentelemetry/instrumentation-hapi';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { expect } from 'chai';
import express from 'express';
import express4 from 'express4';
import express419 from 'express419';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import Koa from 'koa';
import { installRouteResolvers } from '../../../src/http/frameworks/index.js';
import { namesServed, servedAsOtel } from '../../helpers/routes-served.js';

/**
 * A request (`GET` unless named, with a Host where a vhost matters), its status, the
 * `http.route` OTel's instrumentation gave it, and carbonscope's name where that differs on
 * purpose ('-': no http.route, unmatched).
 */
type Case = [
  req: string | [method: string, path: string, host?: string],
  status: number,
  otel: string,
  carbonscope?: string,
];

/** `listener` served as instrumentation-http serves it (`traced`), or as no OTel serves it. */
function served(listener: RequestListener, traced: boolean): { server: Server; routes: string[] } {
  return traced ? servedAsOtel(listener, true) : { server: createServer(listener), routes: [] };
}

const expectedNames = (cases: Case[]) =>
  cases.map(([, status, otel, ours]) => `${ours ?? (otel === '-' ? 'unmatched' : otel)} ${status}`);

/**
 * The three checks of each framework: OTel's routes are the table's (the reference is real),
 * and carbonscope names each request as the table says, with OTel's instrumentation on or off.
 */
function comparedWithOtel(
  cases: Case[],
  serve: (traced: boolean) => Promise<{ names: string[]; otel: string[] }>,
): void {
  let plain: string[];
  let traced: { names: string[]; otel: string[] };
  before(async () => {
    installRouteResolvers();
    plain = (await serve(false)).names;
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      traced = await serve(true);
    } finally {
      context.disable();
    }
  });

  it("OTel's http.route for each request is the table's (the reference is real)", () => {
    expect(traced.otel).to.deep.equal(cases.map(([, , route]) => route));
  });

  it('each request is named as OTel names it, but where the table says why not', () => {
    expect(plain).to.deep.equal(expectedNames(cases));
  });

  it("names them alike under OTel's instrumentation", () => {
    expect(traced.names).to.deep.equal(expectedNames(cases));
  });
}

/** Fastify: @fastify/otel (0.21.2), the instrumentation Fastify's own team keeps for 4 and 5. */
const FASTIFY_CASES: Case[] = [
  ['/users/1', 200, '/users/:id'],
  ['/users', 200, '/users'],
  ['/users/1/', 404, '-'],
  ['/USERS/1', 404, '-'],
  ['/files/a/b', 200, '/files/*'],
  ['/opt', 200, '/opt/:o?'],
  ['/opt/1', 200, '/opt/:o?'],
  ['/re/12', 200, '/re/:n(^\\d+)'],
  ['/re/ab', 404, '-'],
  ['/dash-1-2', 200, '/dash-:a-:b'],
  ['/boom', 500, '/boom'],
  // A route's own 404, and reply.callNotFound(): the route ran and chose the not-found answer
  // (a lookup that found nothing), so its 404 is its own, as OTel names it; in a plugin too,
  // whose not-found handler answers it.
  ['/own/1', 404, '/own/:id'],
  ['/hand/1', 404, '/hand/:id'],
  ['/plug/hand/1', 404, '/plug/hand/:id'],
  // An error thrown in a route that the plugin's error handler answers (its 503, where
  // Fastify's own is 500) keeps the route.
  ['/plug/boom/1', 503, '/plug/boom/:id'],
  [['POST', '/any'], 200, '/any'],
  [['GET', '/v', 'a.example'], 200, '/v'],
  ['/v', 200, '/v'],
  [['HEAD', '/users/1'], 200, '/users/:id'],
  [['OPTIONS', '/users/1'], 404, '-'],
  [['POST', '/users/1'], 404, '-'],
  ['/nope', 404, '-'],
  ['/auth/1', 401, '/auth/:x'],
  ['/plug/in/1', 200, '/plug/in/:k'],
  ['/plug', 200, '/plug'],
  ['/plug/guard', 403, '/plug/guard'],
  ['/plug/q/deep/1', 200, '/plug/q/deep/:d'],
  ['/plug/nope', 404, '-'],
  ['/trail/t/', 200, '/trail/t/'],
  ['/%zz', 400, '-'],
];

function fastifyApp(app: FastifyInstance): void {
  const send = (text: string) => async () => text;
  app.get('/users/:id', send('user'));
  app.get('/users', send('users'));
  app.get('/files/*', send('file'));
  app.get('/opt/:o?', send('opt'));
  app.get('/re/:n(^\\d+)', send('re'));
  app.get('/dash-:a-:b', send('dash'));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.all('/any', send('any'));
  app.get('/own/:id', async (_request, reply) => reply.code(404).send('none'));
  app.get('/hand/:id', (_request, reply) => {
    reply.callNotFound();
  });
  app.get('/v', { constraints: { host: 'a.example' } }, send('va'));
  app.get('/v', send('v'));
  const deny = async (_request: unknown, reply: { code(n: number): { send(t: string): void } }) => {
    reply.code(401).send('no');
  };
  app.get('/auth/:x', { onRequest: deny }, send('auth'));
  app.register(
    async (plugin) => {
      plugin.addHook('preHandler', async (request, reply) => {
        if (request.url === '/plug/guard') return reply.code(403).send('guarded');
      });
      plugin.setNotFoundHandler(async (_request, reply) => reply.code(404).send('plugin 404'));
      plugin.setErrorHandler(async (_error, _request, reply) => reply.code(503).send('caught'));
      plugin.get('/hand/:id', (_request, reply) => {
        reply.callNotFound();
      });
      plugin.get('/boom/:id', async () => {
        throw new Error('boom');
      });
      plugin.get('/in/:k', send('in'));
      plugin.get('/', send('plug'));
      plugin.get('/guard', send('guard'));
      plugin.register(async (deep) => deep.get('/deep/:d', send('deep')), { prefix: '/q' });
    },
    { prefix: '/plug' },
  );
  app.register(async (p) => p.get('/t/', send('t')), { prefix: '/trail/' });
}

// Fastify 4's instance has the methods the app uses, with the same signatures.
const FASTIFY: Array<[string, (opts: object) => FastifyInstance]> = [
  ['5', (opts) => Fastify(opts)],
  ['4', (opts) => Fastify4(opts) as unknown as FastifyInstance],
];

for (const [line, build] of FASTIFY) {
  describe(`http: Fastify ${line} routes, named as @fastify/otel names them`, () => {
    comparedWithOtel(FASTIFY_CASES, async (traced) => {
      let server: Server | undefined;
      const app = build({
        serverFactory: (handler: RequestListener) => {
          const s = served(handler, traced);
          server = s.server;
          return Object.assign(s.server, { otelRoutes: s.routes });
        },
      });
      if (traced) await app.register(new FastifyOtelInstrumentation().plugin());
      fastifyApp(app);
      await app.ready();
      if (server === undefined) throw new Error('no server made');
      const names = await namesServed(
        server,
        FASTIFY_CASES.map(([req]) => req),
      );
      const otel = (server as Server & { otelRoutes: string[] }).otelRoutes;
      await app.close();
      return { names, otel };
    });
  });
}

/**
 * Express 5.3, 4.22 and 4.19: @opentelemetry/instrumentation-express (0.71.1), on the requests a
 * route passes on or answers with an error; express4-routes.test.ts holds the mounts' table.
 */
const EXPRESS_CASES: Case[] = [
  // A route's own 404 is its answer.
  ['/own/1', 404, '/own/:id'],
  ['/m/own/1', 404, '/m/own/:id'],
  // A route's next() to Express's own 404: the route chose it, as OTel names it. To its
  // router's 404 middleware the same (the app's own: EXPRESS_404_PAGE_CASES): OTel names that
  // by the middleware's mount, where Express leaves nothing that says a middleware answered.
  ['/fall/1', 404, '/fall/:id'],
  ['/m/fall/1', 404, '/m/fall/:id'],
  ['/site/gone/1', 404, '/site', '/site/gone/:id'],
  // A route's next() (or next('route')) that a later route answers: the later route, as OTel
  // names it where a span is active (with none it joins the two routes' paths).
  ['/pass/1', 200, '/pass/:name'],
  ['/m/pass/1', 200, '/m/pass/:name'],
  ['/skip/1', 200, '/skip/:x'],
  // A route's next(err) or throw: its name, whether Express's default error handler answers or
  // the app's own (`caught`, its 503 where the default's is 500), as OTel names it.
  ['/err/1', 500, '/err/:id'],
  ['/throw/1', 500, '/throw/:id'],
  ['/caught/1', 503, '/caught/:id'],
  ['/m/err/1', 500, '/m/err/:id'],
  ['/m/caught/1', 503, '/m/caught/:id'],
  // Path middleware's next(err): its router gave its mount back to baseUrl, and nothing names
  // which middleware passed the error on (req.route is a route's), so it is unmatched.
  ['/mw/err', 500, '/mw/err', 'unmatched'],
  ['/mw/caught', 503, '/mw/caught', 'unmatched'],
  // A route's next() that path middleware at a mount answers (a static or proxy one): Express
  // leaves req.route as the route that passed it on, but baseUrl at the middleware's mount, below
  // the route's router: the mount names it, as OTel names it; from a router's route too.
  ['/files/1', 200, '/files'],
  ['/m/files/1', 200, '/m/files'],
  // A route's error that an error handler at a mount answers keeps the route's name, as OTel
  // (which wraps no error handler) names it.
  ['/eh/1', 503, '/eh/:id'],
  // A mounted app's route keeps its mounts while the app holds the request. Once its next(err),
  // throw or next() takes the request out to the parent's handlers, Express has put back the
  // parent's request, and the parent keeps no link to the app it mounted: the mounts are
  // inferred from the one mounted app whose mount starts the path, where the route's own
  // pattern matches what is left below it.
  ['/sub/ok/1', 200, '/sub/ok/:id'],
  ['/sub/err/1', 500, '/sub/err/:id'],
  ['/sub/caught/1', 503, '/sub/caught/:id'],
  ['/sub/throw/1', 503, '/sub/throw/:id'],
  ['/sub/fall/1', 404, '/sub/fall/:id'],
  // The app's `/` route: Express routes the mount's own path below it as `/`, not ''.
  ['/sub', 500, '/sub'],
  // The same for an app mounted in an app that answers the error itself (its own handler: the
  // request left only the innermost app).
  ['/outer/deep/caught/1', 503, '/outer/deep/caught/:id'],
  // One path whose error the outer app answers once and lets out once: each as it went, in
  // either order (the path's name is kept per app the request ended in, not per path alone).
  ['/outer/deep/either/1', 500, '/outer/deep/either/:id', '/either/:id'],
  ['/outer/deep/either/1?caught', 503, '/outer/deep/either/:id'],
  ['/outer/deep/either/2?caught', 503, '/outer/deep/either/:id'],
  ['/outer/deep/either/2', 500, '/outer/deep/either/:id', '/either/:id'],
  // Where the inference cannot be sure, the route's path stands alone (it may share the
  // parent's own route's name): two mounted apps at one mount, and an app mounted in a mounted
  // app that both let the error out (the one mount read is the outer's, and the route's pattern
  // does not match what is left below it).
  ['/two/err/1', 500, '/two/err/:id', '/err/:id'],
  ['/outer/deep/err/1', 500, '/outer/deep/err/:id', '/err/:id'],
  // A limit: a route of that inner app whose pattern matches below the outer mount too (a
  // wildcard's, `/*rest`; here an array's, whose `/:d/w/:x` matches `/deep/w/1`) is named under
  // the outer mount alone. The outer app holds the inner in a closure (Express's `mounted_app`),
  // and the route has no link to its app: `/deep` is nowhere to read.
  ['/outer/deep/w/1', 500, '/outer/deep/w/:x,/:d/w/:x', '/outer/w/:x,/:d/w/:x'],
  // A RegExp route whose text ends in '/' (`/\/w\//`): OTel joins its layers' paths and makes
  // any run of '/' one, its closing '/' included, at the root and under mounts alike.
  ['/outer/deep/w/', 200, '/outer/deep/\\/w\\/'],
  ['/rx/', 200, '/\\/rx\\/'],
  // An app given to a router (`router.use('/sub', app)`) is not mounted: it has no parent and
  // Express never puts back the request it took, so req.app stays that app. The app the server
  // hands requests to holds it in a router: the walk starts there, answered or passed on; under
  // a parameter's mount too, the one app given at two mounts.
  ['/r/sub/ok/1', 200, '/r/sub/ok/:id'],
  ['/r/sub/err/1', 500, '/r/sub/err/:id'],
  ['/rp/acme/ok/1', 200, '/rp/:t/ok/:id'],
  ['/rp/acme/err/1', 500, '/rp/:t/err/:id'],
  ['/nope', 404, '-'],
];

/**
 * The app of EXPRESS_CASES; the app's error handler answers the errors said to be `caught`, with
 * a 503 that tells its answer from Express's default handler's (500, or an error's own status).
 */
function expressApp(e: typeof express): express.Express {
  const app = e();
  // Express's default error handler writes each error's stack to stderr but under `test`.
  app.set('env', 'test');
  const send = (text: string) => (_req: unknown, res: express.Response) => {
    res.send(text);
  };
  const own404 = (_req: unknown, res: express.Response) => {
    res.status(404).send('none');
  };
  const pass: express.RequestHandler = (_req, _res, next) => next();
  const fail =
    (message: string): express.RequestHandler =>
    (_req, _res, next) =>
      next(new Error(message));
  app.get('/own/:id', own404);
  app.get(/\/rx\//, send('rx'));
  app.get('/fall/:id', pass);
  app.get('/pass/:id', pass);
  app.get('/pass/:name', send('later'));
  app.get('/skip/:id', (_req, _res, next) => next('route'), send('skipped'));
  app.get('/skip/:x', send('after skip'));
  app.get('/err/:id', fail('boom'));
  app.get('/throw/:id', () => {
    throw new Error('boom');
  });
  app.get('/caught/:id', fail('caught'));
  const m = e.Router();
  m.get('/own/:id', own404);
  m.get('/fall/:id', pass);
  m.get('/pass/:id', pass);
  m.get('/err/:id', fail('boom'));
  m.get('/caught/:id', fail('caught'));
  m.get('/files/:id', pass);
  app.use('/m', m);
  app.use('/m/files', send('m file'));
  app.get('/m/pass/:name', send('later'));
  const site = e.Router();
  site.get('/gone/:id', pass);
  site.use((_req, res) => {
    res.status(404).send('site 404');
  });
  app.use('/site', site);
  app.use('/mw/err', fail('boom'));
  app.use('/mw/caught', fail('caught'));
  app.get('/files/:id', pass);
  app.use('/files', send('file'));
  app.get('/eh/:id', fail('eh'));
  app.use('/eh', (_err: Error, _req: unknown, res: express.Response, _next: unknown) => {
    res.status(503).send('eh');
  });
  const caughtHere = (
    err: Error & { status?: number },
    _req: unknown,
    res: express.Response,
    next: express.NextFunction,
  ) => {
    if (err.message !== 'caught') return next(err);
    res.status(503).send('caught');
  };
  const sub = e();
  sub.set('env', 'test');
  sub.get('/ok/:id', send('ok'));
  sub.get('/err/:id', fail('boom'));
  sub.get('/caught/:id', fail('caught'));
  sub.get('/throw/:id', () => {
    throw new Error('caught');
  });
  sub.get('/fall/:id', pass);
  sub.get('/', fail('boom'));
  app.use('/sub', sub);
  const inRouter = e();
  inRouter.set('env', 'test');
  inRouter.get('/ok/:id', send('ok'));
  inRouter.get('/err/:id', fail('boom'));
  const r = e.Router();
  r.use('/sub', inRouter);
  app.use('/r', r);
  const rp = e.Router();
  rp.use('/:t', inRouter);
  app.use('/rp', rp);
  const deep = e();
  deep.set('env', 'test');
  deep.get('/err/:id', fail('boom'));
  deep.get('/caught/:id', fail('caught'));
  deep.get('/either/:id', (req, _res, next) =>
    next(new Error('caught' in req.query ? 'caught' : 'boom')),
  );
  deep.get(['/w/:x', '/:d/w/:x'], fail('boom'));
  deep.get(/\/w\//, send('w'));
  const outer = e();
  outer.set('env', 'test');
  outer.use('/deep', deep);
  outer.use(caughtHere);
  app.use('/outer', outer);
  const twoA = e();
  twoA.get('/ok/:id', send('a'));
  const twoB = e();
  twoB.set('env', 'test');
  twoB.get('/err/:id', fail('boom'));
  app.use('/two', twoA);
  app.use('/two', twoB);
  app.use(caughtHere);
  return app;
}

/**
 * An app with a 404 page of its own, a root middleware after its routes. OTel's instrumentation
 * names a request that middleware enters by its layers' paths, none at the root: a route's
 * next() to it is named nothing (and so is any request a root middleware passes on after the
 * route ran, which is why EXPRESS_CASES has none).
 */
const EXPRESS_404_PAGE_CASES: Case[] = [
  ['/users/1', 200, '/users/:id'],
  ['/users/x', 404, '-', '/users/:id'],
  ['/nope', 404, '-'],
];

function express404PageApp(e: typeof express): express.Express {
  const app = e();
  app.get('/users/:id', (req, res, next) => {
    if (req.params.id === 'x') return next();
    res.send('user');
  });
  app.use((_req: unknown, res: express.Response) => {
    res.status(404).send('no such page');
  });
  return app;
}

/**
 * Beside an app mounted at the root (no path), which starts every path: apart from
 * EXPRESS_CASES, as OTel names no route a root middleware passes on (a route's next() there).
 * Its routes' requests that leave it are inferred too; it is no second candidate for another
 * app's where the route's pattern does not match below it.
 */
const EXPRESS_ROOT_APP_CASES: Case[] = [
  ['/sub/err/1', 500, '/sub/err/:id'],
  ['/t/acme/err/1', 500, '/t/:tenant/err/:id'],
  // The path is read without its query, its parameters as sent; HEAD as GET.
  ['/t/AC%20ME/err/2?q=1', 500, '/t/:tenant/err/:id'],
  [['HEAD', '/sub/err/3'], 500, '/sub/err/:id'],
  // An app's own `case sensitive routing` and `strict routing`: the inference matches the route's
  // pattern without either (only a request the route took is asked about), so it names these.
  ['/cs/Err/1', 500, '/cs/Err/:id'],
  ['/st/err/1/', 500, '/st/err/:id/'],
  ['/err/1', 500, '/err/:id'],
  ['/root/err/1', 500, '/root/err/:id'],
];

function expressRootAppApp(e: typeof express): express.Express {
  const fail: express.RequestHandler = (_req, _res, next) => next(new Error('boom'));
  const app = e();
  app.set('env', 'test');
  app.get('/err/:id', fail);
  for (const [mount, path, setting] of [
    ['/sub', '/err/:id'],
    ['/t/:tenant', '/err/:id'],
    ['/cs', '/Err/:id', 'case sensitive routing'],
    ['/st', '/err/:id/', 'strict routing'],
    ['/', '/root/err/:id'],
  ] as const) {
    const mounted = e();
    mounted.set('env', 'test');
    if (setting !== undefined) mounted.enable(setting);
    mounted.get(path, fail);
    app.use(mount, mounted);
  }
  return app;
}

/**
 * One router given to two apps, one server handing a request to an app by its Host (a2.example:
 * `a2.use('/acme', r)`, else `a1.use('/:t', r)`): the route objects are the same in both.
 */
const EXPRESS_SHARED_ROUTER_CASES: Case[] = [
  [['GET', '/acme/items', 'a2.example'], 200, '/acme/items'],
  // A limit (README): an answered request's name is kept per route and baseUrl, not per app, so
  // a1's `/acme` takes a2's name, asked first; keyed per app, every request would pay for it.
  [['GET', '/acme/items', 'a1.example'], 200, '/:t/items', '/acme/items'],
  [['GET', '/x/items', 'a1.example'], 200, '/:t/items'],
  [['GET', '/acme/boom', 'a2.example'], 500, '/acme/boom'],
  [['GET', '/x/boom', 'a1.example'], 500, '/:t/boom'],
  [['GET', '/acme/boom', 'a1.example'], 500, '/:t/boom'],
  [['GET', '/acme/boom', 'a2.example'], 500, '/acme/boom'],
];

function expressSharedRouterApps(e: typeof express): RequestListener {
  const shared = e.Router();
  shared.get('/items', (_req, res) => {
    res.end();
  });
  shared.get('/boom', (_req, _res, next) => next(new Error('boom')));
  const [a1, a2] = [e(), e()];
  for (const [app, mount] of [
    [a1, '/:t'],
    [a2, '/acme'],
  ] as const) {
    app.set('env', 'test');
    app.use(mount, shared);
  }
  return (req, res) => (req.headers.host === 'a2.example' ? a2 : a1)(req, res);
}

/**
 * A route's next() or next(err) that a handler at a mount below the route's router answers:
 * req.route stays the route, baseUrl that mount. A next() that path middleware answers is named
 * by the mount as OTel names it: under a parameter's mount, in any case, in a strict or
 * case-sensitive router, from a router mounted twice.
 */
const EXPRESS_AFTER_ROUTE_CASES: Case[] = [
  // Where an error handler is at that mount too, the route's error it answered (OTel keeps the
  // route's name) and a next() the middleware or a router there answered leave the same req.route
  // and baseUrl: both keep the route's name (a limit for the next()).
  ['/ehs/1', 503, '/ehs/:id'],
  ['/ehs/1?pass', 200, '/ehs', '/ehs/:id'],
  ['/api/legacy/1', 503, '/api/legacy/:id'],
  ['/api/users', 200, '/api/users'],
  ['/t/acme/files/1', 200, '/t/:tenant/files'],
  ['/T/ACME/FILES/1', 200, '/t/:tenant/files'],
  ['/p/files/1', 200, '/p/files'],
  ['/q/files/1', 404, '/q/files/:id'],
  ['/st/files/1/', 200, '/st/files'],
  ['/cs/Files/1', 200, '/cs/Files'],
  // An app given to a router: the walk starts at the app the server hands requests to.
  ['/r2/ia/files/1', 200, '/r2/ia/files'],
  // A limit: a mounted app's middleware (the walk finds no route above it) keeps the route's name.
  ['/sa/files/1', 200, '/sa/files', '/sa/files/:id'],
];

function expressAfterRouteApp(e: typeof express): express.Express {
  const app = e();
  app.set('env', 'test');
  const send = (text: string) => (_req: unknown, res: express.Response) => {
    res.send(text);
  };
  const pass: express.RequestHandler = (_req, _res, next) => next();
  const eh = (_err: Error, _req: unknown, res: express.Response, _next: unknown) => {
    res.status(503).send('eh');
  };
  app.get('/ehs/:id', (req, _res, next) => ('pass' in req.query ? next() : next(new Error('x'))));
  app.use('/ehs', send('static'));
  app.use('/ehs', eh);
  app.get('/api/legacy/:id', (_req, _res, next) => next(new Error('x')));
  const api = e.Router();
  api.get('/users', send('users'));
  app.use('/api', api);
  app.use('/api', eh);
  const tr = e.Router();
  tr.get('/files/:id', pass);
  app.use('/t/:tenant', tr);
  app.use('/t/:tenant/files', send('t'));
  const two = e.Router();
  two.get('/files/:id', pass);
  app.use('/p', two);
  app.use('/q', two);
  app.use('/p/files', send('p'));
  const st = e.Router({ strict: true });
  st.get('/files/:id/', pass);
  app.use('/st', st);
  app.use('/st/files', send('st'));
  const cs = e.Router({ caseSensitive: true });
  cs.get('/Files/:id', pass);
  app.use('/cs', cs);
  app.use('/cs/Files', send('cs'));
  const ia = e();
  ia.get('/files/:id', pass);
  ia.use('/files', send('ia'));
  const r2 = e.Router();
  r2.use('/ia', ia);
  app.use('/r2', r2);
  const sa = e();
  sa.use('/files', send('sa'));
  app.get('/sa/files/:id', pass);
  app.use('/sa', sa);
  return app;
}

const EXPRESS: Array<[module: unknown, version: string]> = [
  [express, '5.3.0'],
  [express4, '4.22.3'],
  [express419, '4.19.2'],
];

const EXPRESS_TABLES: Array<
  [what: string, cases: Case[], app: (e: typeof express) => RequestListener]
> = [
  ['fall-through answers', EXPRESS_CASES, expressApp],
  ["a route's next() to the app's 404 page", EXPRESS_404_PAGE_CASES, express404PageApp],
  ['beside an app mounted at the root', EXPRESS_ROOT_APP_CASES, expressRootAppApp],
  ['a router shared by two apps', EXPRESS_SHARED_ROUTER_CASES, expressSharedRouterApps],
  ["a route's next() to a mount below it", EXPRESS_AFTER_ROUTE_CASES, expressAfterRouteApp],
];

for (const [module, version] of EXPRESS) {
  for (const [what, cases, build] of EXPRESS_TABLES) {
    describe(`http: Express ${version} ${what}, named as OTel's Express instrumentation names them`, () => {
      comparedWithOtel(cases, async (traced) => {
        const e = module as typeof express;
        const [definition] = new ExpressInstrumentation({ enabled: false }).getModuleDefinitions();
        if (traced) definition?.patch?.(e, version);
        try {
          const { server, routes } = served(build(e), traced);
          return {
            names: await namesServed(
              server,
              cases.map(([req]) => req),
            ),
            otel: routes,
          };
        } finally {
          if (traced) definition?.unpatch?.(e, version);
        }
      });
    });
  }
}

/** Koa 3 with @koa/router 15: @opentelemetry/instrumentation-koa (0.71.0). */
const KOA_CASES: Case[] = [
  ['/api/users/1', 200, '/api/users/:id'],
  ['/api/users', 200, '/api/users'],
  ['/api/users/1/', 200, '/api/users/:id'],
  ['/API/USERS/1', 200, '/api/users/:id'],
  ['/api/v/2/items/3', 200, '/api/v/:version/items/:id'],
  ['/api/v/2/boom/3', 500, '/api/v/:version/boom/:id'],
  ['/p/q/c/1', 200, '/p/q/c/:z'],
  ['/files/a/b.txt', 200, '/files/*path'],
  ['/opt', 200, '/opt{/:x}'],
  ['/opt/1', 200, '/opt{/:x}'],
  ['/re/12', 200, '/^\\/re\\/\\d+$/'],
  ['/x/y', 200, '/x/y'],
  ['/x/z', 200, '/x/:a'],
  ['/a2', 200, '/a2'],
  [['POST', '/any'], 200, '/any'],
  [['HEAD', '/api/users/1'], 200, '/api/users/:id'],
  [['OPTIONS', '/api/users/1'], 200, '-'],
  [['POST', '/api/users/1'], 405, '-'],
  ['/S/', 200, '/S/'],
  ['/s/', 404, '-'],
  ['/nope', 404, '-'],
  // A router's middleware answered (auth's 401): OTel keeps that middleware's prefix pattern,
  // which names no route; carbonscope names the route the request matched, as for Fastify.
  ['/g/in/1', 401, '/g(?:\\/|$)', '/g/in/:k'],
  // OTel wraps a router's routes as the router is given to app.use(): one added later runs
  // unwrapped and names nothing. @koa/router still writes its template, which carbonscope reads.
  ['/late/1', 200, '-', '/late/:id'],
];

function koaApp(): { app: Koa; late: () => void } {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch {
      ctx.status = 500;
    }
  });
  const send = (text: string) => (ctx: Koa.Context) => {
    ctx.body = text;
  };
  const api = new Router({ prefix: '/api' });
  api.get('/users/:id', send('user'));
  api.get('/users', send('users'));
  const items = new Router();
  items.get('/items/:id', send('item'));
  items.get('/boom/:id', () => {
    throw new Error('boom');
  });
  api.use('/v/:version', items.routes());
  const child = new Router({ prefix: '/c' });
  child.get('/:z', send('c'));
  const parent = new Router({ prefix: '/p' });
  parent.use('/q', child.routes());
  const root = new Router();
  root.get('/files/*path', send('file'));
  root.get('/opt{/:x}', send('opt'));
  root.get(/^\/re\/\d+$/, send('re'));
  root.get('/x/y', send('xy'));
  root.get('/x/:a', send('xa'));
  root.get(['/a1', '/a2'], send('a'));
  root.all('/any', send('any'));
  const strict = new Router({ strict: true, sensitive: true });
  strict.get('/S/', send('s'));
  const guarded = new Router({ prefix: '/g' });
  guarded.use(async (ctx, next) => {
    if (ctx.get('authorization') === '') ctx.status = 401;
    else await next();
  });
  guarded.get('/in/:k', send('in'));
  app.use(api.routes()).use(api.allowedMethods());
  for (const router of [parent, root, strict, guarded]) app.use(router.routes());
  return { app, late: () => root.get('/late/:id', send('late')) };
}

describe('http: Koa 3 with @koa/router routes, named as OTel names them', () => {
  comparedWithOtel(KOA_CASES, async (traced) => {
    const instrumentation = new KoaInstrumentation({ enabled: false });
    const definition = instrumentation.getModuleDefinitions().find((d) => d.name === 'koa');
    if (traced) definition?.patch?.(Koa, '3.3.0');
    try {
      const { app, late } = koaApp();
      const { server, routes } = served(app.callback(), traced);
      return {
        names: await namesServed(
          server,
          KOA_CASES.map(([req]) => req),
          late,
        ),
        otel: routes,
      };
    } finally {
      if (traced) definition?.unpatch?.(Koa, '3.3.0');
    }
  });
});

/** hapi 21: @opentelemetry/instrumentation-hapi (0.69.0). */
const HAPI_CASES: Case[] = [
  ['/users/1', 200, '/users/{id}'],
  ['/users', 200, '/users'],
  ['/users/1/', 404, '-'],
  ['/USERS/1', 404, '-'],
  ['/files/a/b', 200, '/files/{p*}'],
  ['/files', 200, '/files/{p*}'],
  ['/two/a/b', 200, '/two/{p*2}'],
  ['/opt', 200, '/opt/{o?}'],
  ['/file.json', 200, '/file.{ext}'],
  ['/boom', 500, '/boom'],
  [['POST', '/any'], 200, '/any'],
  [['HEAD', '/users/1'], 200, '/users/{id}'],
  [['OPTIONS', '/users/1'], 404, '-'],
  ['/nope', 404, '-'],
  ['/%zz', 404, '-'],
  // One path, two vhosts: http.route is the path alike.
  [['GET', '/v', 'a.example'], 200, '/v'],
  ['/v', 200, '/v'],
  [['GET', '/w/1', 'b.example:80'], 200, '/{p*}'],
  // An extension answered after the route matched: OTel names a route only as its handler runs.
  ['/auth/1', 401, '-', '/auth/{x}'],
  ['/post/1', 402, '-', '/post/{n}'],
  // OTel wraps a plugin's route as the plugin adds it, before hapi puts the prefix before it.
  ['/plug/in/1', 200, '/in/{k}', '/plug/in/{k}'],
  ['/late/1', 200, '/late/{id}'],
];

async function hapiServer(): Promise<Hapi.Server> {
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  const send = (text: string) => () => text;
  const route = (path: string, handler = send(path), method: 'GET' | '*' = 'GET') =>
    server.route({ method, path, handler });
  route('/users/{id}');
  route('/users');
  route('/files/{p*}');
  route('/two/{p*2}');
  route('/opt/{o?}');
  route('/file.{ext}');
  route('/boom', () => {
    throw new Error('boom');
  });
  route('/any', send('any'), '*');
  server.route({ method: 'GET', path: '/v', vhost: 'a.example', handler: send('va') });
  route('/v');
  server.route({ method: 'GET', path: '/{p*}', vhost: 'b.example', handler: send('vb') });
  server.route({
    method: 'GET',
    path: '/auth/{x}',
    options: { ext: { onPreAuth: { method: (_r, h) => h.response('no').code(401).takeover() } } },
    handler: send('auth'),
  });
  server.ext('onPostAuth', (r, h) =>
    r.path === '/post/1' ? h.response('paid').code(402).takeover() : h.continue,
  );
  route('/post/{n}');
  const plugin = {
    name: 'plug',
    register: async (s: Hapi.Server) =>
      s.route({ method: 'GET', path: '/in/{k}', handler: send('in') }),
  };
  await server.register(plugin, { routes: { prefix: '/plug' } });
  return server;
}

describe('http: hapi routes, named as OTel names them', () => {
  comparedWithOtel(HAPI_CASES, async (traced) => {
    const instrumentation = new HapiInstrumentation({ enabled: false });
    const [definition] = instrumentation.getModuleDefinitions();
    if (traced) definition?.patch?.(Hapi, '21.4.13');
    try {
      const hapi = await hapiServer();
      // hapi's own listener, served from a server of the test's that holds OTel's context.
      const [listener] = hapi.listener.listeners('request') as RequestListener[];
      const { server, routes } = served(listener, traced);
      const late = () => {
        hapi.route({ method: 'GET', path: '/late/{id}', handler: () => 'late' });
      };
      return {
        names: await namesServed(
          server,
          HAPI_CASES.map(([req]) => req),
          late,
        ),
        otel: routes,
      };
    } finally {
      if (traced) definition?.unpatch?.(Hapi, '21.4.13');
    }
  });
});
