import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type express from 'express';
import express4 from 'express4';
import {
  express4Match,
  express4Pattern,
  express4Patterns,
} from '../../../../src/http/frameworks/express4-layers.js';
import { expressRouteOf } from '../../../../src/http/frameworks/index.js';

interface Layer4 {
  regexp: RegExp;
  keys: unknown[];
  route?: unknown;
  handle?: { stack?: unknown };
}

type LayerPath = string | RegExp | (string | RegExp)[];

/** Express 4's own Layer, as its Router.use makes a mount's. */
const Layer = createRequire(import.meta.url)('express4/lib/router/layer.js') as new (
  path: LayerPath,
  options: { sensitive: boolean; strict: boolean; end: boolean },
  fn: () => void,
) => Layer4;

/** Express 4.19's, whose path-to-regexp 0.1.7 wraps an array's RegExp in `(?:…)`. */
const Layer419 = createRequire(import.meta.url)('express419/lib/router/layer.js') as typeof Layer;

function mount(path: LayerPath, sensitive = false, L = Layer): Layer4 {
  return new L(path, { sensitive, strict: false, end: false }, () => undefined);
}

describe("http: an Express 4 mount's template, read back off its RegExp", () => {
  it("is the path the mount was made of, wherever the app's Layer remakes the same RegExp", () => {
    const cases: [LayerPath, string[]][] = [
      ['/api/:version', ['/api/:version']],
      ['/users/', ['/users']],
      ['/', ['']],
      ['/file.:ext', ['/file.:ext']],
      ['/opt/:o?', ['/opt/:o?']],
      ['/dash-:a-:b', ['/dash-:a-:b']],
      ['/star*', ['/star*']],
      ['/cap/:n(\\d+)', ['/cap/:n(\\d+)']],
      ['/ab(cd)?', ['/ab(cd)?']],
      [
        ['/a1', '/a2/:x'],
        ['/a1', '/a2/:x'],
      ],
    ];
    for (const [path, templates] of cases) {
      expect(express4Patterns(mount(path)), String(path)).to.deep.equal(templates);
    }
    expect(express4Patterns(mount('/Api/:v', true))).to.deep.equal(['/Api/:v']);
  });

  it('is the one path of an array of one, whichever path-to-regexp 0.1 made its RegExp', () => {
    // 0.1.7 (Express 4.16 to 4.19) wraps an array's RegExp in `(?:…)`, a single path's never: the
    // one path read off it, rebuilt as a path, not an array, was no proof and left it unread.
    for (const L of [Layer, Layer419]) {
      expect(express4Patterns(mount(['/a/:id'], false, L))).to.deep.equal(['/a/:id']);
      expect(express4Patterns(mount(['/a', '/b/:id'], false, L))).to.deep.equal(['/a', '/b/:id']);
    }
  });

  it("is the app's RegExp where the mount is one, as OTel names it", () => {
    const re = /^\/v\d+/;
    expect(express4Patterns(mount(re))).to.deep.equal([re]);
  });

  it('is unknown, never a guess, where no path remakes the RegExp', () => {
    // A star parameter, a group of the path's own, a RegExp with Express's own lookahead (made of
    // a path or written so?), and a RegExp in an array: the route's path stays alone.
    const cases: LayerPath[] = ['/x/:y*', '/(foo)', /^\/la(?=\/|$)/, ['/a', /^\/b/]];
    for (const path of cases) expect(express4Patterns(mount(path)), String(path)).to.deep.equal([]);
    const stray = { regexp: mount('/x').regexp, keys: [] };
    expect(express4Patterns(stray)).to.deep.equal([]);
  });

  it('is unknown, not thrown, where the layer throws as it is read (in the finish channel)', () => {
    const layer = mount('/x/:id');
    Object.defineProperty(layer, 'keys', {
      get() {
        throw new Error('a getter of its own');
      },
    });
    expect(express4Patterns(layer)).to.deep.equal([]);
    expect(express4Pattern(layer, '/x/1')).to.equal(undefined);
  });

  it('matches nothing, not thrown, where the layer throws as its RegExp is matched', () => {
    // Matched from Node's finish channel too: a throw there is the process's uncaught exception.
    const getter = mount('/x/:id');
    Object.defineProperty(getter, 'regexp', {
      get() {
        throw new Error('a getter of its own');
      },
    });
    const exec = mount('/y/:id');
    exec.regexp.exec = () => {
      throw new Error('an exec of its own');
    };
    for (const layer of [getter, exec]) {
      expect(express4Match(layer, '/x/1')).to.equal(undefined);
      expect(express4Match(layer, '/y/1')).to.equal(undefined);
    }
  });

  it('an array mount is named by the path of it that matched, as Express 5 names one', () => {
    const layer = mount(['/admin', '/staff/:id']);
    expect(express4Match(layer, '/STAFF/7')).to.equal('/STAFF/7');
    expect(express4Pattern(layer, '/STAFF/7')).to.equal('/staff/:id');
    expect(express4Pattern(layer, '/admin')).to.equal('/admin');
  });

  it("matches as Express's match() would, without writing onto the layer", () => {
    const layer = mount('/u/:id') as Layer4 & { path?: unknown; params?: unknown };
    expect(express4Match(layer, '/U/1/more')).to.equal('/U/1');
    expect(express4Match(layer, '/users')).to.equal(undefined);
    // A value that does not decode makes Express skip the layer (its match() throws).
    expect(express4Match(layer, '/u/%E0')).to.equal(undefined);
    expect(layer.path).to.equal(undefined);
    expect(layer.params).to.equal(undefined);
    expect(express4Match(mount('/'), '/anything')).to.equal('');
  });

  it('is read once per layer, whatever the paths matched with it', () => {
    const layer = mount('/t/:tenant');
    const keys = layer.keys;
    let reads = 0;
    Object.defineProperty(layer, 'keys', {
      get() {
        reads++;
        return keys;
      },
    });
    for (let i = 0; i < 1000; i++) expect(express4Pattern(layer, `/t/${i}`)).to.equal('/t/:tenant');
    expect(reads).to.equal(1);
  });
});

describe('http: an Express 4 layer changed after it was read', () => {
  it('whose RegExp the app replaced is read again, never named by the path it had', () => {
    const layer = mount('/v2/:w');
    expect(express4Pattern(layer, '/v2/1')).to.equal('/v2/:w');
    const moved = mount('/v3');
    layer.regexp = moved.regexp;
    layer.keys = moved.keys;
    expect(express4Match(layer, '/v3')).to.equal('/v3');
    expect(express4Pattern(layer, '/v3')).to.equal('/v3');
  });
});

describe('http: Express 4 mount templates are cached per route', () => {
  it('walks the mounts once per value, for the 65th value on as for the first', () => {
    const app = (express4 as unknown as typeof express)();
    const tenant = express4.Router();
    tenant.get('/items', (_req, res) => {
      res.end();
    });
    app.use('/t/:tenant', tenant);
    const stack = (app as unknown as { _router: { stack: Layer4[] } })._router.stack;
    const layer = stack.find((l) => Array.isArray(l.handle?.stack));
    if (!layer) throw new Error('no mount layer');
    let walks = 0;
    const exec = layer.regexp.exec.bind(layer.regexp);
    layer.regexp.exec = (text: string) => {
      walks++;
      return exec(text);
    };
    const route = (tenant.stack as unknown as Layer4[])[0]?.route;
    const routeOf = (baseUrl: string) =>
      expressRouteOf({ app, route, baseUrl } as unknown as IncomingMessage);
    for (let i = 0; i < 200; i++) expect(routeOf(`/t/tenant-${i}`)).to.equal('/t/:tenant/items');
    expect(walks).to.equal(200);
    // The latest values are the cache's now: asked again, none is walked.
    for (let i = 200 - 64; i < 200; i++)
      expect(routeOf(`/t/tenant-${i}`)).to.equal('/t/:tenant/items');
    expect(walks).to.equal(200);
  });
});
