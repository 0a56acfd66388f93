import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { warnIfKoaUnreached } from '../../../src/http/frameworks/index.js';
import { tempDirUntilExit } from '../../helpers/temp-dir.js';
import { lineWith, stderrServing, underRegister } from '../../helpers/under-register.js';

const CODE = 'CARBONSCOPE_KOA_UNREACHED';
const warning = (stderr: string) => lineWith(stderr, CODE);

/** The parts of Koa's application the warning recognises its callback by. */
const APP_CLASS = `class Koa {
  createContext(n, s) { return { res: s }; }
  handleRequest(o) { o.res.end('x'); }
  callback() { return (n, s) => { let o = this.createContext(n, s); return this.handleRequest(o, 0); }; }
}`;

/**
 * Writes `files` (path under `root`: content) and returns `root`, as a real path: the one
 * require's cache and the cwd name, where the temporary folder lies under a link (macOS's /var).
 */
function writeTree(dir: string, files: Record<string, string>): string {
  const root = realpathSync(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('http: a Koa carbonscope cannot reach', function () {
  this.timeout(30_000);

  it('is said once, where a bundler inlined Koa (its callback, not the installed koa)', async () => {
    // What esbuild leaves of Koa's app.callback(), minified: the two method names stay.
    const stderr = await stderrServing(APP_CLASS, 'new Koa().callback()');
    expect(stderr.split(CODE).length - 1, stderr).to.equal(1);
    expect(stderr).to.include('--external:koa');
    expect(warning(stderr)).to.include('inlined');
  });

  // A Koa published as ESM only has no CommonJS context module in require's cache to reach:
  // its requests are unmatched as an inlined Koa's are, but keeping it external changes nothing.
  // Its exports may hide package.json too, where require.resolve finds no koa at all.
  for (const hidden of [false, true]) {
    const exports = hidden
      ? { '.': './lib/application.js' }
      : { '.': './lib/application.js', './package.json': './package.json' };
    it(`names an ESM-only koa as the cause, not a bundle (package.json hidden: ${hidden})`, async () => {
      const root = writeTree(tempDirUntilExit('carbonscope-koa-esm-'), {
        'node_modules/koa/package.json': JSON.stringify({ name: 'koa', type: 'module', exports }),
        'node_modules/koa/lib/application.js': `export default ${APP_CLASS}`,
        'node_modules/koa/lib/context.js': 'export default {};',
      });
      const line = warning(
        await stderrServing("import Koa from 'koa';", 'new Koa().callback()', root),
      );
      expect(line).to.include(CODE);
      expect(line).to.include('ESM');
      expect(line).to.include(join(root, 'node_modules', 'koa'));
      expect(line).to.not.include('bundle');
    });
  }

  // A stream's server was asked nothing before 2026-12-06: an inlined Koa on HTTP/2 alone was
  // `unmatched` without a word. Two servers of two streams each: said once.
  it('is said once where the inlined Koa serves on an HTTP/2 server', async () => {
    const script = `import { connect, createServer } from 'node:http2';
const Koa = ${APP_CLASS};
for (let k = 0; k < 2; k++) {
  const server = createServer(new Koa().callback());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = connect('http://127.0.0.1:' + server.address().port);
  for (let i = 0; i < 2; i++) {
    await new Promise((done, fail) => {
      const s = client.request({ ':path': '/users/7' });
      s.on('data', () => {});
      s.on('end', done);
      s.on('error', fail);
      s.end();
    });
  }
  client.close();
  await new Promise((r) => server.close(r));
}
process.exit(0);`;
    const { stderr } = await underRegister(script);
    expect(stderr.split(CODE).length - 1, stderr).to.equal(1);
    expect(warning(stderr)).to.include('inlined');
  });

  // A monorepo: the app's koa lies in its workspace's node_modules, and the process starts from
  // the root, where no koa resolves; the copy the app loaded is named, so is where to start.
  it('names the koa the app loaded where the entry folder and cwd find none', async () => {
    const root = writeTree(tempDirUntilExit('carbonscope-koa-mono-'), {
      'api/node_modules/koa/package.json': JSON.stringify({
        name: 'koa',
        main: 'lib/application.js',
      }),
      'api/node_modules/koa/lib/application.js': `module.exports = ${APP_CLASS}`,
      'api/node_modules/koa/lib/context.js': 'module.exports = {};',
    });
    const prelude = `import { createRequire } from 'node:module';
const Koa = createRequire(${JSON.stringify(join(root, 'api', 'server.js'))})('koa');`;
    const line = warning(await stderrServing(prelude, 'new Koa().callback()', root));
    expect(line).to.include(CODE);
    expect(line).to.include(join(root, 'api', 'node_modules', 'koa'));
    expect(line).to.include(`the cwd (${root})`);
    expect(line).to.not.include('inlined');
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
