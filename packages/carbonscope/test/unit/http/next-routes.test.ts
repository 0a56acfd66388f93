import { createServer, type IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { setRoute } from '../../../src/http/index.js';
import { namesServed } from '../../helpers/routes-served.js';

/** Where Next (13.4 to 16.5, `next start` and standalone's server.js) keeps a request's meta. */
const NEXT_META = Symbol.for('NextInternalRequestMeta');

/**
 * What Next 16.5's router leaves on the request it served, as read off `next start`: the route
 * it matched (`match.definition.pathname`, Next's route pattern) beside the raw paths it also
 * keeps. A public file or `/_next/static` asset gets meta without a match.
 */
function servedByNext(req: IncomingMessage, pathname: string | undefined): void {
  const raw = req.url ?? '';
  const meta: Record<string, unknown> = { initURL: raw, invokePath: raw };
  if (pathname !== undefined) {
    meta.match = {
      definition: { kind: 'APP_PAGE', page: `${pathname}/page`, pathname },
      params: {},
    };
  }
  (req as IncomingMessage & Record<symbol, unknown>)[NEXT_META] = meta;
}

describe("http: a Next.js request is named by Next's route pattern", () => {
  it('app router pages and route handlers, dynamic and catch-all; an unmatched 404 and a file stay unmatched', async () => {
    const server = createServer((req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/blog/')) servedByNext(req, '/blog/[slug]');
      else if (path.startsWith('/docs/')) servedByNext(req, '/docs/[...all]');
      else if (path.startsWith('/api/items/')) servedByNext(req, '/api/items/[id]');
      else if (path === '/static.txt') servedByNext(req, undefined);
      else {
        // Next's app router renders its not-found page for a path no route matched.
        servedByNext(req, '/_not-found');
        res.statusCode = 404;
      }
      if (path === '/blog/missing') res.statusCode = 404; // notFound() in the matched page
      res.end('ok');
    });
    expect(
      await namesServed(server, [
        '/blog/a',
        '/blog/missing',
        '/docs/x/y/z',
        '/api/items/7',
        '/static.txt',
        `/no/such/${Date.now()}`,
      ]),
    ).to.deep.equal([
      '/blog/[slug] 200',
      '/blog/[slug] 404',
      '/docs/[...all] 200',
      '/api/items/[id] 200',
      'unmatched 200',
      'unmatched 404',
    ]);
  });

  it("pages router: its 404 page is unmatched; the app's own setRoute wins over Next's name", async () => {
    const server = createServer((req, res) => {
      if (req.url === '/named') {
        servedByNext(req, '/api/legacy');
        setRoute(req, '/mine');
      } else {
        servedByNext(req, '/404');
        res.statusCode = 404;
      }
      res.end('ok');
    });
    expect(await namesServed(server, ['/named', '/gone'])).to.deep.equal([
      '/mine 200',
      'unmatched 404',
    ]);
  });

  // Read off a pages-router app: a route's getServerSideProps that throws is rendered by the
  // /_error page, and one that returns notFound leaves no match; Next's router still says which
  // route it invoked (invokeOutput), as the app router's match does for its notFound() and throws.
  it('pages router: a route that throws (500) or returns notFound (404) keeps its route', async () => {
    const server = createServer((req, res) => {
      const K = req as IncomingMessage & Record<symbol, unknown>;
      if (req.url === '/post/boom') {
        servedByNext(req, '/_error');
        (K[NEXT_META] as Record<string, unknown>).invokeOutput = '/post/[id]';
        res.statusCode = 500;
      } else if (req.url === '/post/missing') {
        K[NEXT_META] = { invokePath: req.url, invokeOutput: '/post/[id]' };
        res.statusCode = 404;
      } else {
        // No route: Next renders its 404 page, with no match and no route invoked.
        K[NEXT_META] = { invokePath: '/404' };
        res.statusCode = 404;
      }
      res.end('ok');
    });
    expect(await namesServed(server, ['/post/boom', '/post/missing', '/nope/x'])).to.deep.equal([
      '/post/[id] 500',
      '/post/[id] 404',
      'unmatched 404',
    ]);
  });

  it('meta of another shape names nothing and throws nothing', async () => {
    const odd: unknown[] = [
      null,
      7,
      { match: null },
      { match: { definition: { pathname: 42 } }, invokeOutput: 42 },
      { invokeOutput: '' },
      { invokeOutput: '/_error' },
      // Next's meta is its own, unversioned: a later one that reads lazily must not take the
      // process down (a diagnostics channel's subscriber that throws is an uncaught exception).
      {
        get match(): never {
          throw new Error('a getter of a later Next');
        },
      },
    ];
    let i = 0;
    const server = createServer((req, res) => {
      (req as IncomingMessage & Record<symbol, unknown>)[NEXT_META] = odd[i++];
      res.end('ok');
    });
    expect(await namesServed(server, ['/a', '/b', '/c', '/d', '/e', '/f', '/g'])).to.deep.equal(
      Array(7).fill('unmatched 200'),
    );
  });
});
