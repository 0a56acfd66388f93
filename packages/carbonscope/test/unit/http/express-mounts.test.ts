import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { expressRouteOf } from '../../../src/http/frameworks/index.js';

interface Layer {
  route?: unknown;
  handle?: { stack?: unknown };
  match: (path: string) => unknown;
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
    let reads = 0;
    const app = {};
    Object.defineProperty(app, 'router', {
      get() {
        reads++;
        throw new Error("'app.router' is deprecated!");
      },
    });
    const route = { path: '/items/:id' };
    for (let i = 0; i < 200; i++) {
      const req = { app, route, baseUrl: '', url: `/items/${i}?q=${i}` };
      expect(expressRouteOf(req as unknown as IncomingMessage)).to.equal('/items/:id');
    }
    expect(reads).to.equal(1);
  });
});
