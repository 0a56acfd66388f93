import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { oldNode } from '../helpers/old-node.js';

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

const IMPORTED =
  "import('carbonscope').then(() => console.log('loaded'), (e) => console.log(e.message))";
const REQUIRED =
  "try { require('carbonscope'); console.log('loaded') } catch (e) { console.log(e.message) }";
const PRESENT = "console.log(globalThis[Symbol.for('carbonscope.register-present.v1')] === true)";

/** What register writes where it cannot load: `why`, and the application runs unmetered. */
function unmetered(why: string): string {
  return `carbonscope: error: carbonscope/register: ${why}; the application runs unmetered\n`;
}

// The real binaries, not a faked process.versions: what breaks there is Node's loader itself.
describe('carbonscope on a Node that cannot run all of it', function () {
  this.timeout(120_000);

  // Neither process.getBuiltinModule nor require(esm): carbonscope failed deep inside, with
  // `process.getBuiltinModule is not a function` from node-http.js (import, --import register,
  // the CLI) and Node's own ERR_REQUIRE_ESM (require, -r register), each with a stack.
  describe('Node 18.20.8', () => {
    const needed = 'carbonscope needs Node.js ^20.19.0 || >=22.3.0; this is Node.js v18.20.8';
    let node: string;
    before(() => {
      node = oldNode('18.20.8');
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
      const ended = await onNode(node, ['--input-type=module', '-e', IMPORTED]);
      expect(ended).to.deep.equal({ code: 0, stdout: `${needed}\n`, stderr: '' });
    });

    it('require() throws the version needed', async () => {
      const ended = await onNode(node, ['-e', REQUIRED]);
      expect(ended).to.deep.equal({ code: 0, stdout: `${needed}\n`, stderr: '' });
    });

    for (const flag of ['--import', '--require']) {
      it(`${flag} carbonscope/register: one line, and the application runs unmetered`, async () => {
        const ended = await onNode(node, [flag, 'carbonscope/register', '-e', PRESENT]);
        expect(ended).to.deep.equal({ code: 0, stdout: 'false\n', stderr: unmetered(needed) });
      });
    }
  });

  // process.getBuiltinModule (22.3) without require(esm) (22.12): import, --import register and
  // the CLI ran and metered, and went on doing so; require and -r register cannot.
  describe('Node 22.11.0', () => {
    const requireNeeds =
      "require('carbonscope') needs Node.js ^20.19.0 || >=22.12.0 (require of an ES module); this is Node.js v22.11.0: import it, or start with --import carbonscope/register";
    let node: string;
    before(() => {
      node = oldNode('22.11.0');
    });

    it('the CLI runs the command and reports it', async () => {
      const ended = await onNode(node, ['bin/carbonscope.js', 'run', '--json', '--', 'true']);
      expect(ended.code, ended.stderr).to.equal(0);
      expect(ended.stderr).to.match(/^carbonscope: `true` exited with code 0 after /);
      const report = JSON.parse(ended.stdout);
      expect(report.command).to.equal('run');
      expect(report.exit.exitCode).to.equal(0);
    });

    it('import() loads carbonscope', async () => {
      const ended = await onNode(node, ['--input-type=module', '-e', IMPORTED]);
      expect(ended).to.deep.equal({ code: 0, stdout: 'loaded\n', stderr: '' });
    });

    it('--import carbonscope/register registers, before the application runs', async () => {
      const ended = await onNode(node, ['--import', 'carbonscope/register', '-e', PRESENT]);
      expect(ended).to.deep.equal({ code: 0, stdout: 'true\n', stderr: '' });
    });

    it('require() throws the version it needs, and says to import instead', async () => {
      const ended = await onNode(node, ['-e', REQUIRED]);
      expect(ended).to.deep.equal({ code: 0, stdout: `${requireNeeds}\n`, stderr: '' });
    });

    it('-r carbonscope/register: one line, and the application runs unmetered', async () => {
      const ended = await onNode(node, ['-r', 'carbonscope/register', '-e', PRESENT]);
      expect(ended).to.deep.equal({ code: 0, stdout: 'false\n', stderr: unmetered(requireNeeds) });
    });

    // `--no-addons` turns off the `node-addons` condition, which is how this Node's import finds
    // register's import entry: it gets the require() entry, and register told a user who had
    // started with --import to "start with --import carbonscope/register".
    it('--no-addons --import carbonscope/register: one line that names --no-addons', async () => {
      const ended = await onNode(node, [
        '--no-addons',
        '--import',
        'carbonscope/register',
        '-e',
        PRESENT,
      ]);
      const noAddons =
        'under --no-addons, Node.js v22.11.0 gives an import the require() entry, which needs Node.js ^20.19.0 || >=22.12.0 (require of an ES module): drop --no-addons, or use a later Node.js';
      expect(ended).to.deep.equal({ code: 0, stdout: 'false\n', stderr: unmetered(noAddons) });
    });
  });
});
