import { createServer, type RequestListener, type Server } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import Hapi from '@hapi/hapi';
import Router from '@koa/router';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { HapiInstrumentation } from '@opentelemetry/instrumentation-hapi';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { expect } from 'chai';
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
  // reply.callNotFound(): the route ran and chose the not-found answer (a lookup that found
  // nothing), so its 404 is its own, as OTel names it.
  ['/hand/1', 404, '/hand/:id'],
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
