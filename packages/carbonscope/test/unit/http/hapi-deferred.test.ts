import { createRequire } from 'node:module';
import { expect } from 'chai';
import {
  installRouteResolvers,
  nameHapiRoutesIfLoaded,
} from '../../../src/http/frameworks/index.js';
import {
  FIRST_SAMPLE,
  lastJson,
  THREE_THEN_ONE_AFTER_A_SAMPLE,
  threeOverHttp2,
  underRegister,
} from '../../helpers/under-register.js';

/**
 * A process preloaded with register, from the library's folder (where @hapi/hapi resolves): says
 * whether hapi's request module was loaded before the application imported hapi, and the route
 * its first requests were named by.
 */
const SCRIPT = `import { createRequire } from 'node:module';
const cache = createRequire(process.cwd() + '/x.js').cache;
const before = Object.keys(cache).some((k) => k.includes('@hapi'));
const { default: Hapi } = await import('@hapi/hapi');
const server = Hapi.server({ port: 0, host: '127.0.0.1' });
const ROUTE = Symbol.for('carbonscope.http.route');
server.route({ method: 'GET', path: '/users/{id}', handler: (r) => String(r.raw.req[ROUTE]) });
await server.start();
const named = [];
for (let i = 0; i < 3; i++) named.push(await (await fetch(server.info.uri + '/users/' + i)).text());
await server.stop();
console.log(JSON.stringify({ before, named }));
process.exit(0);`;

/**
 * A plain server whose listener loads hapi at its first request and hands it each request: the
 * route each was named by, three at once and one after the next sample.
 */
const LAZY = `import { createServer } from 'node:http';
const ROUTE = Symbol.for('carbonscope.http.route');
let hapi;
const server = createServer(async (req, res) => {
  if (!hapi) {
    const { default: Hapi } = await import('@hapi/hapi');
    hapi = Hapi.server({ autoListen: false });
    hapi.route({ method: 'GET', path: '/users/{id}', handler: (r) => String(r.raw.req[ROUTE]) });
    await hapi.initialize();
  }
  hapi.listener.emit('request', req, res);
});
${THREE_THEN_ONE_AFTER_A_SAMPLE}
console.log(JSON.stringify({ named }));
process.exit(0);`;

/**
 * hapi on an HTTP/2 `listener` (h2c), imported after the meter's first sample (with 60 s of
 * interval, the last one): the route its first three streams were named by.
 */
const HTTP2 = `import { createServer } from 'node:http2';
${FIRST_SAMPLE}
const { default: Hapi } = await import('@hapi/hapi');
const server = Hapi.server({ listener: createServer(), port: 0, host: '127.0.0.1' });
const ROUTE = Symbol.for('carbonscope.http.route');
server.route({ method: 'GET', path: '/users/{id}', handler: (r) => String(r.raw.req[ROUTE]) });
await server.start();
${threeOverHttp2('server.info.uri')}
await server.stop();
console.log(JSON.stringify({ named }));
process.exit(0);`;

/**
 * Routes of one path on two vhosts and one route on none, asked with the vhosts' Host headers and
 * a client's own: the route each request was named by as hapi answered (`none`: a 404).
 */
const VHOSTS = `import { request } from 'node:http';
const { default: Hapi } = await import('@hapi/hapi');
const server = Hapi.server({ port: 0, host: '127.0.0.1' });
const ROUTE = Symbol.for('carbonscope.http.route');
for (const vhost of ['a.example', 'b.example']) {
  server.route({ method: 'GET', path: '/', vhost, handler: () => vhost });
}
server.route({ method: 'GET', path: '/users/{id}', handler: () => 'u' });
const named = [];
server.ext('onPreResponse', (r, h) => { named.push(r.raw.req[ROUTE] ?? 'none'); return h.continue; });
await server.start();
const get = (host, path) => new Promise((done, fail) => {
  const req = request({ host: '127.0.0.1', port: server.info.port, path, headers: { host } }, (res) => {
    res.resume();
    res.on('end', done);
  });
  req.on('error', fail);
  req.end();
});
const hosts = [['a.example', '/'], ['b.example', '/'], ['c.example', '/'], ['c.example', '/users/1'], ['b.example:1/x', '/']];
for (const [host, path] of hosts) await get(host, path);
await server.stop();
console.log(JSON.stringify({ named }));
process.exit(0);`;

/** The mark on a wrapped `_lookup`, as every copy of carbonscope sees it. */
const HAPI_WRAPPED = Symbol.for('carbonscope.hapi-lookup.v1');

async function runScript(script: string, env: Record<string, string> = {}): Promise<unknown> {
  return lastJson((await underRegister(script, env)).stdout);
}

describe('http: hapi, for an application that has it installed', function () {
  this.timeout(30_000);

  // Loading hapi's request module (65 modules) took 56-77 ms of every start of an application
  // with @hapi/hapi in its folder, whether it served with hapi or not (a dependency's).
  it('loads none of hapi as carbonscope loads, and names the routes once the app loads it', async () => {
    const seen = lastJson<{ before: boolean; named: string[] }>(
      (await underRegister(SCRIPT)).stdout,
    );
    expect(seen.before, 'hapi loaded before the application imported it').to.equal(false);
    expect(seen.named).to.deep.equal(['/users/{id}', '/users/{id}', '/users/{id}']);
  });

  // hapi loaded inside a server that already served: its first request was asked about before
  // hapi was there, so only the sample's look names the later ones.
  it('names the requests after a sample where a server that already served loads hapi', async () => {
    const seen = (await runScript(LAZY, { ENERGY_SAMPLE_INTERVAL_MS: '100' })) as {
      named: string[];
    };
    expect(seen.named.at(-1)).to.equal('/users/{id}');
  });

  // Only a node:http server's first request looked for a hapi loaded since carbonscope loaded:
  // on an HTTP/2 listener every request was `unmatched` until the next sample (110 of 110 where
  // hapi loaded after the first, Node 20 and 24, 2026-12-06), and named where it loaded before.
  it('names the first requests of a hapi on an HTTP/2 listener, not only those after a sample', async () => {
    const seen = (await runScript(HTTP2, { ENERGY_SAMPLE_INTERVAL_MS: '60000' })) as {
      named: string[];
    };
    expect(seen.named).to.deep.equal(['/users/{id}', '/users/{id}', '/users/{id}']);
  });

  // A route's vhost is the app's own, but the Host that picks it is the client's: the name stays
  // the path template (semconv's http.route, as OTel's hapi instrumentation names it), so routes
  // of one path on two vhosts share it, and no Host header makes a name of its own.
  it('names a vhost route by its path, whatever Host the client sends', async () => {
    const seen = lastJson<{ named: string[] }>((await underRegister(VHOSTS)).stdout);
    expect(seen.named).to.deep.equal(['/', '/', 'none', '/users/{id}', 'none']);
  });

  it('is wrapped once where two copies of carbonscope load (a dependency brought its own)', async () => {
    const request = createRequire(import.meta.url)('@hapi/hapi/lib/request.js') as {
      prototype: { _lookup: unknown };
    };
    // Installed and looked at now: an earlier file of the same mocha process (request-spans)
    // installed the resolvers before hapi was loaded, and only a sample's or a first request's
    // look wraps it then, which came or not as that file's timers ran (a CI failure).
    installRouteResolvers();
    nameHapiRoutesIfLoaded();
    const once = request.prototype._lookup;
    expect(once, 'wrapped by this copy').to.have.property(HAPI_WRAPPED, true);
    // The same file under another URL: a second module instance, its own state, as a copy's.
    const copy = (await import(
      new URL('../../../src/http/frameworks/hapi.js?copy', import.meta.url).href
    )) as { installHapiRoutes(): void };
    copy.installHapiRoutes();
    expect(request.prototype._lookup).to.equal(once);
  });
});
