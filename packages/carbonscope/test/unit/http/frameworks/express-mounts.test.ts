import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { expressRouteOf } from '../../../../src/http/frameworks/index.js';

interface Layer {
  route?: unknown;
  handle?: { stack?: unknown };
  match: (path: string) => unknown;
}

/** Express 4's app as the resolver meets it: `app.router`, a getter that throws; reads counted. */
function express4App(): { app: object; reads: () => number } {
  let count = 0;
  const app = {};
  Object.defineProperty(app, 'router', {
    get() {
      count++;
      throw new Error("'app.router' is deprecated!");
    },
  });
  return { app, reads: () => count };
}

/**
 * An app with `/t/:tenant` mounted and its route; `walks` counts each time a walk of the mounts
 * asked the mount layer to match (once per walk that reaches it).
 */
function tenantApp() {
  const app = express();
  const tenant = express.Router();
  tenant.get('/items', (_req, res) => {
    res.end();
  });
  app.use('/t/:tenant', tenant);
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const mount = stack.find((l) => Array.isArray(l.handle?.stack));
  if (!mount) throw new Error('no mount layer');
  const counter = { walks: 0 };
  const match = mount.match.bind(mount);
  mount.match = (path: string) => {
    counter.walks++;
    return match(path);
  };
  const route = (tenant.stack as unknown as Layer[])[0]?.route;
  /** What carbonscope names a request that Express routed to /items under `baseUrl`. */
  const routeOf = (baseUrl: string) =>
    expressRouteOf({ app, route, baseUrl } as unknown as IncomingMessage);
  return { counter, routeOf };
}

describe('http: Express mount templates are cached per route', () => {
  it('walks the mounts once per value, for the 65th value on as for the first', () => {
    const { counter, routeOf } = tenantApp();
    for (let i = 0; i < 200; i++) expect(routeOf(`/t/tenant-${i}`)).to.equal('/t/:tenant/items');
    expect(counter.walks).to.equal(200);
    // The latest values are the cache's now: asked again, none is walked.
    for (let i = 200 - 64; i < 200; i++)
      expect(routeOf(`/t/tenant-${i}`)).to.equal('/t/:tenant/items');
    expect(counter.walks).to.equal(200);
  });
});

describe('http: an app whose mounts cannot be walked is asked once', () => {
  it('Express 4: app.router, a getter that throws, is read once, whatever the paths', () => {
    const { app, reads } = express4App();
    const route = { path: '/items/:id' };
    for (let i = 0; i < 200; i++) {
      const req = { app, route, baseUrl: '', url: `/items/${i}?q=${i}` };
      expect(expressRouteOf(req as unknown as IncomingMessage)).to.equal('/items/:id');
    }
    expect(reads()).to.equal(1);
  });
});

/** Counts the calls of a layer's match(): each is one step of a walk of the mounts. */
function counted(layer: Layer): { calls: number } {
  const counter = { calls: 0 };
  const match = layer.match.bind(layer);
  layer.match = (path: string) => {
    counter.calls++;
    return match(path);
  };
  return counter;
}

/**
 * `/users/:id` (a route that answers some ids and calls next(err) for others) in a router mounted
 * at `/users`, and again under `alsoUnder` where given. A request the route passed on has been
 * given its baseUrl back and its url whole.
 */
function usersApp(alsoUnder?: string) {
  const app = express();
  const users = express.Router();
  users.get('/:id', (req, res, next) => {
    if (req.params.id === 'me') res.end();
    else next(new Error('no such user'));
  });
  app.use('/users', users);
  if (alsoUnder !== undefined) app.use(alsoUnder, users);
  const mount = (app as unknown as { router: { stack: Layer[] } }).router.stack.find((l) =>
    Array.isArray(l.handle?.stack),
  );
  if (!mount) throw new Error('no mount layer');
  const route = (users.stack as unknown as Layer[])[0]?.route;
  return {
    walks: counted(mount),
    answered: () => expressRouteOf({ app, route, baseUrl: '/users' } as unknown as IncomingMessage),
    passedOn: (url: string) =>
      expressRouteOf({ app, route, baseUrl: '', url } as unknown as IncomingMessage),
  };
}

describe('http: requests passed on by their route are not cached per path', () => {
  it('1,000 passed-on ids walk no more than one does, and evict no answered entry', () => {
    const { walks, answered, passedOn } = usersApp();
    expect(answered()).to.equal('/users/:id');
    expect(passedOn('/users/0')).to.equal('/users/:id');
    const once = walks.calls;
    for (let i = 1; i <= 1000; i++) {
      const url = i % 2 === 0 ? `/users/${i}` : `/users/${i}?q=${i}`;
      expect(passedOn(url)).to.equal('/users/:id');
    }
    expect(walks.calls).to.equal(once);
    expect(answered()).to.equal('/users/:id');
    expect(walks.calls).to.equal(once);
  });

  it('a router mounted twice: its passed-on requests evict no answered entry', () => {
    const { walks, answered, passedOn } = usersApp('/v/:version');
    expect(answered()).to.equal('/users/:id');
    for (let i = 0; i < 1000; i++) {
      expect(passedOn(`/users/${i}`)).to.equal('/users/:id');
      expect(passedOn(`/v/${i}/${i}`)).to.equal('/v/:version/:id');
    }
    const before = walks.calls;
    expect(answered()).to.equal('/users/:id');
    expect(walks.calls).to.equal(before);
  });
});

describe('http: an answer from path middleware walks the mounts once per baseUrl', () => {
  it('Express 5: `/health` asked 1,000 times walks once; 200 values of `/v/:ver` 64 apiece', () => {
    const app = express();
    app.use('/health', (_req, res) => {
      res.end();
    });
    app.use('/v/:ver', (_req, res) => {
      res.end();
    });
    const [health, versions] = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    if (!health || !versions) throw new Error('no mount layers');
    const walks = counted(health);
    const answered = (baseUrl: string) =>
      expressRouteOf({ app, baseUrl } as unknown as IncomingMessage);
    for (let i = 0; i < 1000; i++) expect(answered('/health')).to.equal('/health');
    expect(walks.calls).to.equal(1);
    for (let i = 0; i < 200; i++) expect(answered(`/v/${i}`)).to.equal('/v/:ver');
    expect(walks.calls).to.equal(201);
    // The latest 64 values are the cache's now: asked again, none is walked; '/health', pushed
    // out, is walked again once.
    for (let i = 200 - 64; i < 200; i++) expect(answered(`/v/${i}`)).to.equal('/v/:ver');
    expect(walks.calls).to.equal(201);
    expect(answered('/health')).to.equal('/health');
    expect(walks.calls).to.equal(202);
  });

  it('Express 4: app.router, a getter that throws, is read once, whatever the mounts', () => {
    const { app, reads } = express4App();
    for (let i = 0; i < 200; i++) {
      const req = { app, baseUrl: `/v/${i}` };
      expect(expressRouteOf(req as unknown as IncomingMessage)).to.equal(undefined);
    }
    expect(reads()).to.equal(1);
  });
});

describe('http: the mount caches keep no long client text', () => {
  // Each cache is 64 entries per route (or app), keyed by the path as sent: kept, 64 URLs near
  // Node's 16 KB header limit held ~1 MB per route, some 27 MB for 50 routes under `/api/:v`.
  const long = (i: number) => `/t/${`${i}-`.padEnd(8000, 'x')}`;

  it("a route's: a long baseUrl is named, walked each time, and evicts no short one", () => {
    const { counter, routeOf } = tenantApp();
    expect(routeOf('/t/acme')).to.equal('/t/:tenant/items');
    for (let i = 0; i < 100; i++) expect(routeOf(long(i))).to.equal('/t/:tenant/items');
    expect(counter.walks).to.equal(101);
    expect(routeOf(long(0))).to.equal('/t/:tenant/items');
    expect(counter.walks).to.equal(102);
    expect(routeOf('/t/acme')).to.equal('/t/:tenant/items');
    expect(counter.walks).to.equal(102);
  });

  it("path middleware's: a long baseUrl is named, walked each time, and evicts no short one", () => {
    const app = express();
    app.use('/t/:tenant', (_req, res) => {
      res.end();
    });
    const [tenant] = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    if (!tenant) throw new Error('no mount layer');
    const walks = counted(tenant);
    const answered = (baseUrl: string) =>
      expressRouteOf({ app, baseUrl } as unknown as IncomingMessage);
    expect(answered('/t/acme')).to.equal('/t/:tenant');
    for (let i = 0; i < 100; i++) expect(answered(long(i))).to.equal('/t/:tenant');
    expect(walks.calls).to.equal(101);
    expect(answered('/t/acme')).to.equal('/t/:tenant');
    expect(walks.calls).to.equal(101);
  });

  it('passed on by a router mounted twice: a long path is named and evicts no short one', () => {
    const { walks, passedOn } = usersApp('/v/:version');
    expect(passedOn('/v/1/7')).to.equal('/v/:version/:id');
    const once = walks.calls;
    for (let i = 0; i < 100; i++) {
      expect(passedOn(`/v/${i}/${'7'.padEnd(8000, '7')}`)).to.equal('/v/:version/:id');
    }
    const afterLong = walks.calls;
    expect(afterLong).to.be.above(once);
    expect(passedOn('/v/1/7')).to.equal('/v/:version/:id');
    expect(walks.calls).to.equal(afterLong);
  });
});

describe("http: the last request's Express route name is reused for its route and mounts only", () => {
  /** `/items` and `/other` in one router, mounted at `/t/:tenant` and at `/u/:user`. */
  function twiceMounted() {
    const app = express();
    const inner = express.Router();
    inner.get('/items', (_req, res) => {
      res.end();
    });
    inner.get('/other', (_req, res) => {
      res.end();
    });
    app.use('/t/:tenant', inner);
    app.use('/u/:user', inner);
    const [items, other] = (inner.stack as unknown as Layer[]).map((l) => l.route);
    const mounts = (app as unknown as { router: { stack: Layer[] } }).router.stack.filter((l) =>
      Array.isArray(l.handle?.stack),
    );
    const walks = mounts.map(counted);
    const routeOf = (route: unknown, baseUrl: string) =>
      expressRouteOf({ app, route, baseUrl } as unknown as IncomingMessage);
    return { items, other, routeOf, walks: () => walks.reduce((n, w) => n + w.calls, 0) };
  }

  it('one route under two mounts, two routes under one, in turn: each named as alone', () => {
    const { items, other, routeOf } = twiceMounted();
    for (let i = 0; i < 3; i++) {
      expect(routeOf(items, '/t/acme')).to.equal('/t/:tenant/items');
      expect(routeOf(items, '/t/acme')).to.equal('/t/:tenant/items');
      expect(routeOf(items, '/u/ann')).to.equal('/u/:user/items');
      expect(routeOf(other, '/u/ann')).to.equal('/u/:user/other');
      expect(routeOf(other, '/t/acme')).to.equal('/t/:tenant/other');
      expect(routeOf(items, '/t/acme')).to.equal('/t/:tenant/items');
    }
  });

  it('a long baseUrl asked twice in a row is walked twice: the cache keeps no long text', () => {
    const { items, routeOf, walks } = twiceMounted();
    const long = `/t/${'x'.padEnd(8000, 'x')}`;
    expect(routeOf(items, long)).to.equal('/t/:tenant/items');
    const once = walks();
    expect(routeOf(items, long)).to.equal('/t/:tenant/items');
    expect(walks()).to.equal(2 * once);
    expect(routeOf(items, '/t/acme')).to.equal('/t/:tenant/items');
    const short = walks();
    expect(routeOf(items, '/t/acme')).to.equal('/t/:tenant/items');
    expect(walks()).to.equal(short);
  });
});

describe("http: a mounted app's route whose request left the app", () => {
  /**
   * `/err/:id` of an app mounted at `/sub`, as the parent's error handler meets its request:
   * req.app the parent, baseUrl given back, url whole. Its passed-on ids are walked per path:
   * what leads to the app is read off the path, as the parent keeps no link to it.
   */
  function subApp() {
    const app = express();
    const sub = express();
    sub.get('/err/:id', (_req, _res, next) => next(new Error('boom')));
    app.use('/sub', sub);
    const stack = (app as unknown as { router: { stack: Array<Layer & { name?: string }> } }).router
      .stack;
    const mount = stack.find((l) => l.name === 'mounted_app');
    if (!mount) throw new Error('no mounted app');
    const route = (sub as unknown as { router: { stack: Layer[] } }).router.stack[0]?.route;
    return {
      walks: counted(mount),
      left: (url: string) =>
        expressRouteOf({ app, route, baseUrl: '', url } as unknown as IncomingMessage),
    };
  }

  it('is named under its mount, walked once per path, the latest 64 paths kept', () => {
    const { walks, left } = subApp();
    for (let i = 0; i < 200; i++) expect(left(`/sub/err/${i}?q=${i}`)).to.equal('/sub/err/:id');
    expect(walks.calls).to.equal(200);
    for (let i = 200 - 64; i < 200; i++) expect(left(`/sub/err/${i}`)).to.equal('/sub/err/:id');
    expect(walks.calls).to.equal(200);
  });

  it("keeps the route's path where its pattern does not match what is left below the mount", () => {
    const { left } = subApp();
    expect(left('/sub/deeper/err/1')).to.equal('/err/:id');
    expect(left('/elsewhere/err/1')).to.equal('/err/:id');
  });
});

/**
 * One router given to two apps (`a1.use('/:t', r)`, `a2.use('/acme', r)`): its routes are the
 * same objects in both. What the route names per app is as OTel's Express instrumentation names
 * them (run with two servers on 5.3 and 4.22, 2026-12-07).
 */
function sharedRouterApps() {
  const shared = express.Router();
  shared.get('/items', (_req, res) => {
    res.end();
  });
  shared.get('/boom', (_req, _res, next) => next(new Error('boom')));
  const a1 = express();
  a1.use('/:t', shared);
  const a2 = express();
  a2.use('/acme', shared);
  const [items, boom] = (shared.stack as unknown as Layer[]).map((l) => l.route);
  const named = (app: object, route: unknown, baseUrl: string, url: string) =>
    expressRouteOf({ app, route, baseUrl, url } as unknown as IncomingMessage);
  return { shared, a1, a2, items, boom, named };
}

describe('http: a router shared by two apps', () => {
  it("a request its route passed on is named under its own app's mounts, whichever came first", () => {
    const { a1, a2, boom, named } = sharedRouterApps();
    expect(named(a2, boom, '', '/acme/boom')).to.equal('/acme/boom');
    expect(named(a1, boom, '', '/x/boom')).to.equal('/:t/boom');
    expect(named(a1, boom, '', '/acme/boom')).to.equal('/:t/boom');
    expect(named(a2, boom, '', '/acme/boom')).to.equal('/acme/boom');
  });

  it('a request answered in its route, under text both mounts match, takes the first app asked (a limit: README)', () => {
    const { a1, a2, items, named } = sharedRouterApps();
    expect(named(a2, items, '/acme', '/items')).to.equal('/acme/items');
    // OTel names it /:t/items: the cache and the last answer are kept per route, not per app.
    expect(named(a1, items, '/acme', '/items')).to.equal('/acme/items');
    expect(named(a1, items, '/x', '/items')).to.equal('/:t/items');
  });

  it("a passed-on request takes the name of a root mount's answer, asked first (a limit: README)", () => {
    const { shared, a2, boom, named } = sharedRouterApps();
    const a3 = express();
    a3.use(shared);
    expect(named(a3, boom, '', '/boom')).to.equal('/boom');
    // OTel names it /acme/boom: baseUrl '' is the text of a3's mount, and a name is kept per
    // route and baseUrl.
    expect(named(a2, boom, '', '/acme/boom')).to.equal('/boom');
  });
});

/**
 * `/files/:id` passes some requests on with next() to `app.use('/files', …)`, which answers them;
 * `/eh/:id` passes its error to an error handler at `/eh`. As the finish meets them: req.route
 * the route, baseUrl the mount of the layer that answered ('' where the route did).
 */
function filesApp() {
  const app = express();
  app.get('/files/:id', (_req, _res, next) => next());
  app.use('/files', (_req, res) => {
    res.end();
  });
  app.get('/eh/:id', (_req, _res, next) => next(new Error('eh')));
  app.use('/eh', (_err: Error, _req: unknown, res: express.Response, _next: unknown) => {
    res.end();
  });
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const [files, eh] = ['/files/:id', '/eh/:id'].map(
    (path) => stack.find((l) => (l.route as { path?: unknown } | undefined)?.path === path)?.route,
  );
  const middleware = stack.find((l) => l.route === undefined && l.match('/files') !== false);
  if (!files || !eh || !middleware) throw new Error('no routes');
  const named = (route: unknown, baseUrl: string) =>
    expressRouteOf({ app, route, baseUrl, url: '/1' } as unknown as IncomingMessage);
  return { files, eh, walks: counted(middleware), named };
}

describe("http: a route's next() that path middleware answers", () => {
  it("is named by the middleware's mount, as OTel names it, walked once", () => {
    const { files, walks, named } = filesApp();
    for (let i = 0; i < 1000; i++) expect(named(files, '/files')).to.equal('/files');
    expect(walks.calls).to.equal(1);
    // The route's own answer keeps its name; neither walks again.
    expect(named(files, '')).to.equal('/files/:id');
    expect(named(files, '/files')).to.equal('/files');
    expect(walks.calls).to.equal(1);
  });

  it("an error handler at a mount that answers the route's error keeps the route's name", () => {
    const { eh, named } = filesApp();
    expect(named(eh, '/eh')).to.equal('/eh/:id');
  });
});

describe('http: an app given to a router', () => {
  /** `router.use('/sub', given)` in `outer`: each of given's routes, answered under `/sub`. */
  function givenApp() {
    const outer = express();
    const given = express();
    for (const path of ['/a/:id', '/b/:id']) {
      given.get(path, (_req, res) => {
        res.end();
      });
    }
    const router = express.Router();
    router.use('/sub', given);
    outer.use('/r', router);
    const [a, b] = (given as unknown as { router: { stack: Layer[] } }).router.stack
      .map((l) => l.route)
      .filter((r) => r !== undefined);
    const named = (route: unknown, socket: object, baseUrl = '/r/sub') =>
      expressRouteOf({
        app: given,
        route,
        baseUrl,
        socket,
      } as unknown as IncomingMessage);
    return { outer, given, router, a, b, named };
  }

  it("is named under its mounts from the server's listener; a socket that throws is no crash", () => {
    const { outer, a, b, named } = givenApp();
    // HTTP/2's compatibility socket throws once its session's socket is gone.
    const gone = Object.defineProperty({}, 'server', {
      get() {
        throw new Error('ERR_HTTP2_SOCKET_UNBOUND');
      },
    });
    expect(named(a, gone)).to.equal('/a/:id');
    // Not kept: a later walk reads the server.
    const server = new EventEmitter().on('request', outer);
    expect(named(b, { server })).to.equal('/r/sub/b/:id');
  });

  it("is found per server: the app served on a server of its own is not named under another's mounts", () => {
    const { outer, given, a, named } = givenApp();
    const outerServer = new EventEmitter().on('request', outer);
    const ownServer = new EventEmitter().on('request', given);
    expect(named(a, { server: outerServer })).to.equal('/r/sub/a/:id');
    // Express leaves the app's own request baseUrl '' (no mount), as OTel names `/a/:id`.
    expect(named(a, { server: ownServer }, '')).to.equal('/a/:id');
  });

  it("a listener of the server's that throws as it is read is passed over, no crash", () => {
    const { outer, a, named } = givenApp();
    // Another library's listener on the same server, with a getter that throws (a proxy's trap).
    const foreign = Object.defineProperty(() => {}, '_router', {
      get() {
        throw new Error('not readable');
      },
    });
    const server = new EventEmitter().on('request', foreign).on('request', outer);
    expect(named(a, { server })).to.equal('/r/sub/a/:id');
  });

  it('looks through each router once: one used in itself is not walked once per way down', () => {
    const { outer, router, a, named } = givenApp();
    const loop = express.Router();
    for (const at of ['/x', '/y']) loop.use(at, loop);
    // Before the router that holds the app: the look-up meets the loop first.
    const stack = (outer as unknown as { router: { stack: Layer[] } }).router.stack;
    const held = stack.findIndex((l) => l.handle === (router as unknown));
    outer.use('/l', loop);
    stack.splice(held, 0, stack.pop() as Layer);
    let reads = 0;
    for (const layer of (loop as unknown as { stack: Layer[] }).stack) {
      const handle = layer.handle;
      Object.defineProperty(layer, 'handle', {
        get() {
          reads++;
          return handle;
        },
      });
    }
    expect(named(a, { server: new EventEmitter().on('request', outer) })).to.equal('/r/sub/a/:id');
    // Each of the loop's two layers a few reads; walked per way down, 2^16 ways and more.
    expect(reads).to.be.below(20);
  });
});
