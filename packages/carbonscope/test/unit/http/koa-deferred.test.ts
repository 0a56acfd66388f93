import { expect } from 'chai';
import {
  FIRST_SAMPLE,
  lastJson,
  THREE_THEN_ONE_AFTER_A_SAMPLE,
  threeOverHttp2,
  underRegister,
} from '../../helpers/under-register.js';

const SERVE_KOA = 'const server = createServer(koaApp().callback());';

/**
 * A process preloaded with register, from the library's folder (where koa resolves): says
 * whether Koa's context module was loaded before the application loaded koa (with `load`), and
 * the route each request was named by: three, then one after the next sample.
 */
const script = (load: string, serve: string) => `import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/x.js');
const before = Object.keys(require.cache).some((k) => k.endsWith('/koa/lib/context.js'));
${load}
const ROUTE = Symbol.for('carbonscope.http.route');
function koaApp() {
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new Router();
  router.get('/users/:id', (ctx) => { ctx.body = String(ctx.req[ROUTE]); });
  app.use(router.routes());
  return app;
}
${serve}
${THREE_THEN_ONE_AFTER_A_SAMPLE}
console.log(JSON.stringify({ before, named }));
process.exit(0);`;

async function run(load: string, serve = SERVE_KOA): Promise<{ before: boolean; named: string[] }> {
  const { stdout } = await underRegister(script(load, serve), { ENERGY_SAMPLE_INTERVAL_MS: '100' });
  return lastJson(stdout);
}

describe('http: Koa, for an application that has it installed', function () {
  this.timeout(30_000);

  // Loading Koa's context module (21 modules) took 15-19 ms of every start of an application
  // in whose folder koa resolves (a monorepo's hoisted koa), whether it served with Koa or not.
  for (const [how, load] of [
    ['imported (ESM wrapper)', "const { default: Koa } = await import('koa');"],
    ['required', "const Koa = require('koa');"],
  ] as const) {
    it(`loads none of Koa as carbonscope loads, and names the first request once koa is ${how}`, async () => {
      const seen = await run(load);
      expect(seen.before, 'Koa loaded before the application loaded it').to.equal(false);
      expect(seen.named).to.deep.equal(Array(4).fill('/users/:id'));
    });
  }

  // Koa loaded by a server's listener at its first request: the check is made at a server's
  // first request only, and every request of that server was unmatched for the process's life.
  it('names the requests after a sample where a server that already served loads Koa', async () => {
    const lazy = `let listener;
const server = createServer(async (req, res) => {
  if (!listener) {
    ({ default: Koa } = await import('koa'));
    listener = koaApp().callback();
  }
  listener(req, res);
});`;
    const seen = await run('let Koa;', lazy);
    expect(seen.before).to.equal(false);
    expect(seen.named.at(-1)).to.equal('/users/:id');
  });
});

// An HTTP/2 server's streams are tracked apart from node:http's requests, and only a node:http
// server's first request looked for a Koa loaded since carbonscope loaded: a Koa app on
// `http2.createServer(app.callback())` had each request `unmatched` until the first sample
// after Koa loaded (110 of 110 in the first second under register, Node 20 and 24, 2026-12-06).
// Koa is loaded after the meter's first sample, which 60 s of interval keep the last: loaded
// before it, that sample named the routes, and they were named without the fix (Node 24, by hand).
describe('http: Koa on an HTTP/2 server', function () {
  this.timeout(30_000);

  it('names the first requests, not only those after a sample', async () => {
    const serve = `const { createServer: createH2 } = await import('node:http2');
const server = createH2(koaApp().callback());`;
    const h2 = `await new Promise((r) => server.listen(0, '127.0.0.1', r));
${threeOverHttp2("'http://127.0.0.1:' + server.address().port")}
server.close();`;
    const { stdout } = await underRegister(
      script(`${FIRST_SAMPLE}\nconst { default: Koa } = await import('koa');`, serve).replace(
        THREE_THEN_ONE_AFTER_A_SAMPLE,
        h2,
      ),
      { ENERGY_SAMPLE_INTERVAL_MS: '60000' },
    );
    const seen = lastJson<{ named: string[] }>(stdout);
    expect(seen.named).to.deep.equal(Array(3).fill('/users/:id'));
  });
});
