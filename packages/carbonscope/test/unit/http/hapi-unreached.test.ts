import { cpSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { warnIfHapiUnreached } from '../../../src/http/frameworks/index.js';
import { tempDirUntilExit } from '../../helpers/temp-dir.js';
import { lineWith, stderrServing, underRegister } from '../../helpers/under-register.js';

const CODE = 'CARBONSCOPE_HAPI_UNREACHED';
const warning = (stderr: string) => lineWith(stderr, CODE);

/**
 * What esbuild --minify leaves of hapi's request listener (its core's `_dispatch()`, hapi 20's
 * and 21's) where it inlines @hapi/hapi: the names of the methods it calls and the option it
 * reads stay.
 */
const INLINED = `const Ie = { generate(r, t, s) { return { _execute() { s.end('x'); } }; } };
class Core {
  constructor() { this.root = {}; this.settings = { operations: { cleanStop: false } }; }
  _dispatch(e = {}) {
    return (t, s) => {
      let i = Ie.generate(this.root, t, s, e);
      if (this.settings.operations.cleanStop && t.socket) return;
      i._execute();
    };
  }
}`;

/** Two hapi servers (the `Hapi` the prelude gave), each answering two requests. */
const HAPI_SERVERS = `for (let s = 0; s < 2; s++) {
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  server.route({ method: 'GET', path: '/users/{id}', handler: () => 'u' });
  await server.start();
  for (let i = 0; i < 2; i++) await (await fetch(server.info.uri + '/users/7')).text();
  await server.stop();
}
setTimeout(() => process.exit(0), 50);`;

describe('http: a hapi carbonscope cannot reach', function () {
  this.timeout(30_000);

  // A bundle that inlines hapi names every request `unmatched`: its Request is a copy that
  // carbonscope never wraps. Koa's inlined case said so; hapi's said nothing.
  it('is said once, where a bundler inlined hapi (its listener, not the installed hapi)', async () => {
    const stderr = await stderrServing(INLINED, 'new Core()._dispatch()');
    expect(stderr.split(CODE).length - 1, stderr).to.equal(1);
    const line = warning(stderr);
    expect(line).to.include('a hapi server serves requests');
    expect(line).to.include('--external:@hapi/hapi');
    expect(line).to.include('inlined');
  });

  // A monorepo: the app's hapi (the real one, copied) lies in its workspace's node_modules and
  // the process starts from the root, where no hapi resolves; the copy loaded is named.
  it('names the hapi the app loaded where the entry folder and cwd find none', async () => {
    const root = realpathSync(tempDirUntilExit('carbonscope-hapi-mono-'));
    // hapi's lib/index.js, in @hapi/hapi, in the node_modules that has every @hapi and mime-db.
    const modules = dirname(
      dirname(dirname(dirname(createRequire(import.meta.url).resolve('@hapi/hapi')))),
    );
    const into = join(root, 'api', 'node_modules');
    cpSync(join(modules, '@hapi'), join(into, '@hapi'), { recursive: true });
    cpSync(join(modules, 'mime-db'), join(into, 'mime-db'), { recursive: true });
    const prelude = `import { createRequire } from 'node:module';
const Hapi = createRequire(${JSON.stringify(join(root, 'api', 'server.js'))})('@hapi/hapi');`;
    const { stderr } = await underRegister(`${prelude}\n${HAPI_SERVERS}`, {}, root);
    expect(stderr.split(CODE).length - 1, stderr).to.equal(1);
    const line = warning(stderr);
    expect(line).to.include(join(into, '@hapi', 'hapi'));
    expect(line).to.include(`the cwd (${root})`);
    expect(line).to.not.include('inlined');
  });

  it('is not said for the installed hapi, nor for other servers', async () => {
    const { stderr } = await underRegister(
      `import Hapi from '@hapi/hapi';\n${HAPI_SERVERS}`,
      {},
      undefined,
    );
    expect(stderr).to.not.include(CODE);
    expect(stderr).to.not.include('CarbonscopeWarning');
    expect(await stderrServing('', "(req, res) => res.end('x')")).to.not.include(CODE);
  });

  // The two method names are common words: a job runner's listener may call both.
  it("is not said for a listener that calls generate() and _execute() but is not hapi's", async () => {
    const jobs = `const jobs = { generate(req, res) { return { _execute() { res.end('x'); } }; } };`;
    const listener = '(req, res) => { const job = jobs.generate(req, res); job._execute(); }';
    expect(await stderrServing(jobs, listener)).to.not.include(CODE);
  });

  it('asks nothing of a server that is not an event emitter, and never throws', () => {
    expect(() => warnIfHapiUnreached({} as never)).to.not.throw();
    expect(() => warnIfHapiUnreached({ listeners: 'no' } as never)).to.not.throw();
  });
});
