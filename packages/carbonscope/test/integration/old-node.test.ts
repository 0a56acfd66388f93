import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { OLD_NODES, oldNode } from '../helpers/old-node.js';

const run = promisify(execFile);

interface Ended {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `args` on `node` in the library's folder, where `carbonscope` names the library itself. */
async function onNode(node: string, args: string[]): Promise<Ended> {
  const env = { ...process.env, OTEL_METRICS_EXPORTER: 'none', NODE_OPTIONS: '' };
  try {
    const { stdout, stderr } = await run(node, args, { cwd: libraryRoot, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Below `engines`, carbonscope failed deep inside: `process.getBuiltinModule is not a function`
// from node-http.js (import, --import register, the CLI's run and monitor) and Node's own
// ERR_REQUIRE_ESM (require, -r register), each with a stack. The real binaries, not a faked
// process.versions: what breaks there is Node's loader itself.
describe('carbonscope on a Node below engines', function () {
  this.timeout(120_000);

  for (const version of OLD_NODES) {
    describe(`Node ${version}`, () => {
      const needed = `carbonscope needs Node.js ^20.19.0 || >=22.12.0; this is Node.js v${version}`;
      let node: string;
      before(() => {
        node = oldNode(version);
      });

      it('the CLI says the version needed in one line and exits 1', async () => {
        const ended = await onNode(node, ['bin/carbonscope.js', 'run', '--', 'true']);
        expect(ended).to.deep.equal({
          code: 1,
          stdout: '',
          stderr: `carbonscope: error: ${needed}\n`,
        });
      });

      it('import() rejects with the version needed', async () => {
        const script =
          "import('carbonscope').then(() => console.log('loaded'), (e) => console.log(e.message))";
        const ended = await onNode(node, ['--input-type=module', '-e', script]);
        expect(ended).to.deep.equal({ code: 0, stdout: `${needed}\n`, stderr: '' });
      });

      it('require() throws the version needed', async () => {
        const script = "try { require('carbonscope') } catch (e) { console.log(e.message) }";
        const ended = await onNode(node, ['-e', script]);
        expect(ended).to.deep.equal({ code: 0, stdout: `${needed}\n`, stderr: '' });
      });

      for (const flag of ['--import', '--require']) {
        it(`${flag} carbonscope/register: one line, and the application runs unmetered`, async () => {
          const ended = await onNode(node, [
            flag,
            'carbonscope/register',
            '-e',
            "console.log('app ran')",
          ]);
          expect(ended).to.deep.equal({
            code: 0,
            stdout: 'app ran\n',
            stderr: `carbonscope: error: carbonscope/register: ${needed}; the application runs unmetered\n`,
          });
        });
      }
    });
  }
});
