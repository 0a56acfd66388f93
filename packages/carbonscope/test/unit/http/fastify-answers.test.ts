import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { installRouteResolvers } from '../../../src/http/frameworks/index.js';
import { MAX_ROUTE_LENGTH, setRoute } from '../../../src/http/index.js';
import { steadyCarbonscope } from '../energy/scripted.js';

/** One request: method, path, and what it sends. */
type Ask = [method: string, path: string, headers?: Record<string, string>, body?: string];

/**
 * Asks `asks` of `server` in turn with request tracking on; each `served status -> name status`,
 * and how many operations ended beyond one per request (none: each is counted once).
 */
async function servedAndNamed(server: Server, asks: Ask[]) {
  const cs = await steadyCarbonscope();
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests({ servers: [server] });
  try {
    if (!server.listening) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const lines: string[] = [];
    for (const [i, [method, path, headers, body]] of asks.entries()) {
      const res = await fetch(`${base}${path}`, { method, headers, body });
      await res.arrayBuffer();
      for (let t = 0; t < 200 && ended.length <= i; t++) await new Promise((r) => setTimeout(r, 5));
      const f = ended[i];
      lines.push(`${method} ${path} ${res.status} -> ${f?.operation} ${f?.status}`);
    }
    await new Promise((r) => setTimeout(r, 30));
    cs.meter.sampleNow();
    return { lines, extra: ended.length - asks.length, inFlight: cs.trackRequests().inFlight };
  } finally {
    await cs.stop();
  }
}

/** The routes and answers the Fastify cases ask of both lines. */
function fastifyApp(app: FastifyInstance): FastifyInstance {
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-deny']) return reply.code(401).send('no');
  });
  app.get('/users/:id', async () => 'user');
  app.get('/boom/:id', async () => {
    throw new Error('boom');
  });
  app.get('/sync-boom/:id', () => {
    throw new Error('boom');
  });
  app.get('/teapot/:id', async () => {
    throw Object.assign(new Error('teapot'), { statusCode: 418 });
  });
  app.post('/json/:id', async (request) => request.body);
  app.get('/hijack/:id', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(202);
    reply.raw.end('hijacked');
  });
  app.get('/late-hijack/:id', (_request, reply) => {
    reply.hijack();
    setTimeout(() => {
      reply.raw.writeHead(203);
      reply.raw.end('hijacked');
    }, 10);
  });
  app.get('/static/*', async () => 'file');
  app.register(
    async (v1) => {
      v1.get('/items/:item', async () => 'item');
      v1.setNotFoundHandler((_request, reply) => reply.code(404).send('v1: none'));
      v1.register(
        async (inner) => {
          inner.get('/deep/:x', async () => 'deep');
        },
        { prefix: '/inner' },
      );
    },
    { prefix: '/v1' },
  );
  return app;
}

const FASTIFY_ASKS: Ask[] = [
  ['GET', '/users/1'],
  ['GET', '/users/2', { 'x-deny': '1' }],
  ['GET', `/no/such/${Date.now()}`],
  ['DELETE', '/users/1'],
  ['GET', '/boom/1'],
  ['GET', '/sync-boom/1'],
  ['GET', '/teapot/1'],
  ['POST', '/json/1', { 'content-type': 'application/json' }, '{not json'],
  ['GET', '/hijack/1'],
  ['GET', '/late-hijack/1'],
  ['GET', '/static/a/b/c.css'],
  ['GET', '/v1/items/9'],
  ['GET', '/v1/inner/deep/4'],
  ['GET', `/v1/no/such/${Date.now()}`],
];

const FASTIFY_NAMED = [
  '/users/:id 200',
  '/users/:id 401',
  'unmatched 404',
  'unmatched 404',
  '/boom/:id 500',
  '/sync-boom/:id 500',
  '/teapot/:id 418',
  '/json/:id 400',
  '/hijack/:id 202',
  '/late-hijack/:id 203',
  '/static/* 200',
  '/v1/items/:item 200',
  '/v1/inner/deep/:x 200',
  'unmatched 404',
];

describe('http: Fastify and plain node:http answers, each named and counted once', () => {
  const lines: Array<[string, () => FastifyInstance]> = [
    ['5', () => Fastify()],
    ['4', () => Fastify4() as unknown as FastifyInstance],
  ];
  for (const [line, build] of lines) {
    it(`Fastify ${line}: 404s, thrown errors, a hook's reply, hijacks and prefixed plugins`, async () => {
      installRouteResolvers();
      const app = fastifyApp(build());
      await app.ready();
      try {
        const { lines: seen, extra, inFlight } = await servedAndNamed(app.server, FASTIFY_ASKS);
        expect(seen).to.deep.equal(
          FASTIFY_ASKS.map(([method, path], i) => {
            const [name, status] = FASTIFY_NAMED[i].split(' ');
            return `${method} ${path} ${status} -> ${name} ${status}`;
          }),
        );
        expect({ extra, inFlight }).to.deep.equal({ extra: 0, inFlight: 0 });
      } finally {
        await app.close();
      }
    });
  }

  it('plain node:http: a 404, an error answered 500 and a long template, each once', async () => {
    const server = createServer((req, res) => {
      try {
        if (req.url === '/long') setRoute(req, `/${'x'.repeat(2 * MAX_ROUTE_LENGTH)}`);
        else if (req.url?.startsWith('/boom/')) {
          setRoute(req, '/boom/:id');
          throw new Error('boom');
        } else if (req.url?.startsWith('/users/')) setRoute(req, '/users/:id');
        else res.statusCode = 404;
        res.end('ok');
      } catch {
        res.statusCode = 500;
        res.end('error');
      }
    });
    const asks: Ask[] = [
      ['GET', '/users/1'],
      ['GET', `/random/${Math.random()}`],
      ['GET', '/boom/7'],
      ['GET', '/long'],
    ];
    try {
      const { lines: seen, extra, inFlight } = await servedAndNamed(server, asks);
      expect(seen.slice(0, 3)).to.deep.equal([
        'GET /users/1 200 -> /users/:id 200',
        `GET ${asks[1][1]} 404 -> unmatched 404`,
        'GET /boom/7 500 -> /boom/:id 500',
      ]);
      // Cut to the operation label's bound, not a series per length.
      expect(seen[3]).to.match(/^GET \/long 200 -> \/x+ 200$/);
      expect(seen[3].length).to.be.below(40 + MAX_ROUTE_LENGTH);
      expect({ extra, inFlight }).to.deep.equal({ extra: 0, inFlight: 0 });
    } finally {
      server.close();
    }
  });
});
