import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import { runToEnd } from '../helpers/spawn.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

// A dependency with its own nested copy of carbonscope that imports register, in an application
// started with --import carbonscope/register: two copies, two registers in one process. The
// second started a second SDK on the same Prometheus port ("could not listen … EADDRINUSE").
describe('register loaded by two copies of carbonscope in one process', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('register-two-copies'));
    // The second copy: carbonscope's files, its dependencies those the first one uses (npm's
    // hoisting), as under a dependency's own node_modules.
    const modules = join(dir, 'node_modules');
    const copy = join(modules, 'carbonscope');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(libraryRoot, 'dist', 'src'), join(copy, 'dist', 'src'), { recursive: true });
    cpSync(join(libraryRoot, 'data'), join(copy, 'data'), { recursive: true });
    cpSync(join(libraryRoot, 'package.json'), join(copy, 'package.json'));
    const shared = join(libraryRoot, '..', '..', 'node_modules');
    for (const name of readdirSync(shared)) {
      if (name !== 'carbonscope') symlinkSync(join(shared, name), join(modules, name));
    }
  });
  after(() => cleanup());

  /** The second copy's folder, as a URL for the application's import. */
  const secondCopy = () => pathToFileURL(join(dir, 'node_modules', 'carbonscope', 'dist', 'src'));

  /** `app` under the first copy's register, its estimate at 300 g/kWh, with `env`. */
  const underRegister = (app: string, env: Record<string, string>) =>
    runToEnd(
      process.execPath,
      ['--import', 'carbonscope/register', '--input-type=module', '-e', app],
      childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300', ...env }),
      { cwd: libraryRoot, killAfterMs: 30_000 },
    );

  // Asked of what the second starts, not of a time (its endpoint fails only once it binds): a
  // register that measures waits at the process's end for its last push.
  it('the second stands down: nothing started, nothing said', async () => {
    const second = secondCopy();
    const app = `const before = process.listenerCount('beforeExit');
await import(${JSON.stringify(`${second.href}/register-eager.js`)});
console.log('second register listens at the end', process.listenerCount('beforeExit') > before);
process.exit(0);`;
    const run = await underRegister(app, {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
    });
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.equal('second register listens at the end false\n');
    expect(run.code).to.equal(0);
  });

  // The application's own copy tracks later, in an instance of its own: register's copy tracked
  // every request from the first, yet the second copy's watch, its own, said they were in no
  // figure ("register tracks them once its meter has started").
  it('requests register tracked are no early requests to the second copy', async () => {
    const second = secondCopy();
    const app = `import { createServer } from 'node:http';
const { Carbonscope } = await import(${JSON.stringify(`${second.href}/index.js`)});
const server = createServer((req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/';
for (let i = 0; i < 3; i++) await (await fetch(url)).text();
const own = await Carbonscope.create();
await own.start();
own.trackRequests();
await (await fetch(url)).text();
await own.stop();
server.closeAllConnections();
server.close();`;
    const run = await underRegister(app, { OTEL_METRICS_EXPORTER: 'none' });
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
  });
});
