import { expect } from 'chai';
import { warnIfKoaUnreached } from '../../../src/http/frameworks/index.js';
import { underRegister } from '../../helpers/under-register.js';

const CODE = 'CARBONSCOPE_KOA_UNREACHED';

/**
 * stderr of a process preloaded with register whose two servers each answer two requests with
 * `handler`'s listener; from the library's folder, where the koa carbonscope reaches is found.
 */
async function stderrServing(prelude: string, handler: string): Promise<string> {
  const script = `import { createServer } from 'node:http';
${prelude}
for (let s = 0; s < 2; s++) {
  const server = createServer(${handler});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  for (let i = 0; i < 2; i++) await (await fetch('http://127.0.0.1:' + server.address().port + '/users/7')).text();
  server.close();
}
setTimeout(() => process.exit(0), 50);`;
  const { stderr } = await underRegister(script);
  return stderr;
}

describe('http: a Koa carbonscope cannot reach', function () {
  this.timeout(30_000);

  it('is said once, where a bundler inlined Koa (its callback, not the installed koa)', async () => {
    // What esbuild leaves of Koa's app.callback(), minified: the two method names stay.
    const inlined = `class A {
  createContext(n, s) { return { res: s }; }
  handleRequest(o) { o.res.end('x'); }
  callback() { return (n, s) => { let o = this.createContext(n, s); return this.handleRequest(o, 0); }; }
}`;
    const stderr = await stderrServing(inlined, 'new A().callback()');
    expect(stderr.split(CODE).length - 1, stderr).to.equal(1);
    expect(stderr).to.include('--external:koa');
  });

  it('is not said for the installed koa, nor for other servers', async () => {
    const koa = `import Koa from 'koa';
import Router from '@koa/router';
const app = new Koa();
const router = new Router();
router.get('/users/:id', (ctx) => { ctx.body = 'u'; });
app.use(router.routes());`;
    expect(await stderrServing(koa, 'app.callback()')).to.not.include(CODE);
    expect(await stderrServing('', "(req, res) => res.end('x')")).to.not.include(CODE);
  });

  // The check runs inside the request start's diagnostics channel, where a throw becomes an
  // uncaught exception: the bench's request path, which publishes for a plain object, crashed
  // the process (TypeError: server.listeners is not a function).
  it('asks nothing of a server that is not an event emitter, and never throws', () => {
    expect(() => warnIfKoaUnreached({} as never)).to.not.throw();
    expect(() => warnIfKoaUnreached({ listeners: 'no' } as never)).to.not.throw();
  });
});
