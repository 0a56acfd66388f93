import { execFile } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../../src/paths.js';
import { childEnv } from '../../helpers/child-env.js';
import { underPermission } from '../../helpers/permission-model.js';
import { tempDir } from '../energy/sources/helpers.js';

/** What esbuild leaves of Koa's app.callback(), minified: the two method names the check knows. */
const BUNDLED_KOA = `import { createServer } from 'node:http';
class Koa {
  createContext(n, s) { return { res: s }; }
  handleRequest(o) { o.res.end('x'); }
  callback() { return (n, s) => { let o = this.createContext(n, s); return this.handleRequest(o, 0); }; }
}
const server = createServer(new Koa().callback());
await new Promise((r) => server.listen(0, '127.0.0.1', r));
for (let i = 0; i < 2; i++) console.log(await (await fetch('http://127.0.0.1:' + server.address().port + '/users/7')).text());
server.close();`;

describe("http: a bundled Koa under Node's permission model (the real flags, this Node)", function () {
  this.timeout(30_000);
  let app: ReturnType<typeof tempDir>;
  beforeEach(() => {
    app = tempDir('carbonscope-permission-koa-');
  });
  afterEach(() => app.cleanup());

  it('is said, and the app serves: the look for koa above its folder is no crash', async () => {
    // The app's folder alone is granted: require's paths above it (a parent's node_modules) are
    // refused, and existsSync throws there, which it never does otherwise.
    const root = realpathSync(app.dir);
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(libraryRoot, join(root, 'node_modules', 'carbonscope'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    writeFileSync(join(root, 'app.js'), BUNDLED_KOA);
    const flags = underPermission(`--allow-fs-read=${root}`);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [...flags, '--import', 'carbonscope/register', 'app.js'],
          {
            cwd: root,
            env: childEnv({ ENERGY_SOURCE: 'estimate', OTEL_METRICS_EXPORTER: 'none' }),
            timeout: 20_000,
          },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
        );
      },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.deep.equal(['x', 'x']);
    expect(r.stderr).to.include('CARBONSCOPE_KOA_UNREACHED');
    expect(r.stderr).to.not.include('ERR_ACCESS_DENIED');
  });
});
