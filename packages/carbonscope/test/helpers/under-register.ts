import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from './child-env.js';

/**
 * The longest a child may run: the longest test timeout of a test that starts one. A mocha
 * timeout fails the test but leaves its child running, and --exit leaves it behind mocha: a
 * script that never ends (a server left listening) held a process on, for ever.
 */
const CHILD_LIMIT_MS = 60_000;

/** A run of an ESM script in a child Node process; what it printed, once it ended. */
type ScriptRun = (
  script: string,
  env?: Record<string, string>,
  cwd?: string,
  limitMs?: number,
  nodeFlags?: readonly string[],
) => Promise<{ stdout: string; stderr: string }>;

/**
 * Runs an ESM `script` in a process preloaded with register, from the library's folder (where the
 * frameworks under test resolve) unless `cwd` names another, on the estimate source with no
 * exporter; `env` adds to that. Past `limitMs` the child is killed (SIGKILL: one that ran that
 * long is stuck, and a stuck one may not end on SIGTERM) and the call fails with `killed: true`.
 * `nodeFlags` go on Node's command line before the preload (`--cpu-prof`).
 */
export const underRegister: ScriptRun = (script, env, cwd, limitMs, nodeFlags = []) =>
  underNode(script, env, cwd, limitMs, [
    ...nodeFlags,
    '--import',
    join(libraryRoot, 'dist/src/register.js'),
  ]);

/** underRegister's process with no preload: an application that starts carbonscope itself. */
export const underNode: ScriptRun = (
  script,
  env = {},
  cwd = libraryRoot,
  limitMs = CHILD_LIMIT_MS,
  nodeFlags = [],
) =>
  promisify(execFile)(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], {
    cwd,
    timeout: limitMs,
    killSignal: 'SIGKILL',
    env: childEnv({
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      OTEL_METRICS_EXPORTER: 'none',
      ...env,
    }),
  });

/** The line of `stderr` that holds `text`: the whole stderr where none does, for a failure's text. */
export function lineWith(stderr: string, text: string): string {
  return stderr.split('\n').find((line) => line.includes(text)) ?? stderr;
}

/**
 * stderr of a process preloaded with register (underRegister, from `cwd`) whose two servers each
 * answer two requests with `handler`'s listener, after `prelude`: a check made at a server's
 * first request is made twice, and what it says once is said once.
 */
export async function stderrServing(
  prelude: string,
  handler: string,
  cwd?: string,
): Promise<string> {
  const script = `import { createServer } from 'node:http';
${prelude}
for (let s = 0; s < 2; s++) {
  const server = createServer(${handler});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  for (let i = 0; i < 2; i++) await (await fetch('http://127.0.0.1:' + server.address().port + '/users/7')).text();
  server.close();
}
setTimeout(() => process.exit(0), 50);`;
  const { stderr } = await underRegister(script, {}, cwd);
  return stderr;
}

/** The JSON of a script's last line of output (what the scripts above print as they end). */
export function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

/**
 * Script source that waits for the meter's next sample (register's, read through carbonscope's
 * snapshot()): what a sample does with what was loaded or done before this point (a framework
 * a listener loaded, named at the sample's look) is done once it resolves. A fixed wait stood
 * for "a few samples" and came before the sample where the samples ran late.
 */
export const NEXT_SAMPLE = `{
  const { snapshot } = await import('carbonscope');
  const before = snapshot()?.samples ?? 0;
  while ((snapshot()?.samples ?? 0) <= before) await new Promise((r) => setTimeout(r, 10));
}`;

/**
 * Script source that waits for the meter's first sample (100 ms after start, register's): what
 * a script loads after it is found by no sample until the next, an interval later. Loaded
 * before it, a framework was named by that sample, whatever else named it or not: a test of
 * another way it is found passed without that way where the script got there within 100 ms.
 */
export const FIRST_SAMPLE = `{
  const { snapshot } = await import('carbonscope');
  while ((snapshot()?.samples ?? 0) < 1) await new Promise((r) => setTimeout(r, 10));
}`;

/**
 * A script's `server` (a node:http server, not yet listening) started, asked for `/users/0` to
 * `/users/2`, then for `/users/3` after the next sample (NEXT_SAMPLE), and closed: `named` holds
 * the four answers, each the route its request was named by.
 */
export const THREE_THEN_ONE_AFTER_A_SAMPLE = `await new Promise((r) => server.listen(0, '127.0.0.1', r));
const get = async (i) =>
  (await fetch('http://127.0.0.1:' + server.address().port + '/users/' + i)).text();
const named = [];
for (let i = 0; i < 3; i++) named.push(await get(i));
${NEXT_SAMPLE}
named.push(await get(3));
server.close();`;

/**
 * Script source that asks `/users/0` to `/users/2` over one HTTP/2 session to `origin` (a script
 * expression: `'http://127.0.0.1:' + port`), in turn, and closes it: `named` holds the three
 * answers' bodies, each the route its stream was named by.
 */
export const threeOverHttp2 = (
  origin: string,
) => `const client = (await import('node:http2')).connect(${origin});
const get = (i) => new Promise((resolve, reject) => {
  const s = client.request({ ':path': '/users/' + i });
  let body = '';
  s.setEncoding('utf8');
  s.on('data', (c) => (body += c));
  s.on('end', () => resolve(body));
  s.on('error', reject);
  s.end();
});
const named = [];
for (let i = 0; i < 3; i++) named.push(await get(i));
client.close();`;
