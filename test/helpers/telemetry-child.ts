import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
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
  otlpMetricsEnabled = false,
): Promise<T> {
  const script = `
    const { startTelemetry } = await import(${JSON.stringify(TELEMETRY)});
    const telemetry = await startTelemetry({ otlpMetricsEnabled: ${otlpMetricsEnabled} });
    const result = await (async () => { ${body} })();
    await telemetry.shutdown();
    process.stdout.write(JSON.stringify(result));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
  );
  return JSON.parse(stdout) as T;
}
