import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { projectRoot } from '../../src/paths.js';

const TELEMETRY = pathToFileURL(join(projectRoot, 'dist', 'src', 'telemetry', 'sdk.js')).href;

/**
 * Starts the app's telemetry in a child process with `env` (and only PATH besides: nothing of
 * the test's own environment; an OTLP reader too with `otlpMetricsEnabled`), runs `body` there with `telemetry` in scope, shuts it down and
 * returns what `body` returned, as JSON. The telemetry registers global providers, which a test
 * process must not keep.
 */
export async function inTelemetryChild<T>(
  env: Record<string, string>,
  body: string,
  options?: string,
): Promise<T> {
  const { stdout } = await telemetryChildOutput(env, body, options);
  return JSON.parse(stdout) as T;
}

/**
 * What such a child writes, stdout and stderr: what the SDK prints of itself, say. `options`
 * is startTelemetry's, as source text.
 */
export async function telemetryChildOutput(
  env: Record<string, string>,
  body: string,
  options = '{ otlpMetricsEnabled: false }',
): Promise<{ stdout: string; stderr: string }> {
  const script = `
    const { startTelemetry } = await import(${JSON.stringify(TELEMETRY)});
    const telemetry = await startTelemetry(${options});
    const result = await (async () => { ${body} })();
    await telemetry.shutdown();
    process.stdout.write(JSON.stringify(result));
  `;
  return promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectRoot,
    env: childEnv(env),
    timeout: 20_000,
  });
}
