// The entry point. Order matters: config is validated first (a bad setting stops here), then
// the OTel SDK starts and registers its instrumentations, and only then is the rest of the
// service imported, so that koa and http are loaded after they can be patched.
import { register } from 'node:module';
import { messageOf, printable } from 'carbonscope';
import { type Config, ConfigError, loadConfig, readDotenv, secretsOf } from './config.js';
import { startTelemetry, type Telemetry, tracingEnabled } from './telemetry/index.js';

// One line on stderr: the text of a setting quoted in it (a models file's) is shown, not run.
function fail(message: string): never {
  process.stderr.write(`carbonscope: ${printable(message)}\n`);
  process.exit(1);
}

function configure(): Config {
  // .env fills in what the environment leaves unset; the OTel SDK reads process.env too.
  for (const [name, value] of Object.entries(readDotenv())) process.env[name] ??= value;
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid setting ${err.message}`);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = configure();
  // The ESM hook lets the instrumentations patch koa and friends; without tracing there are no
  // instrumentations, and the hook would only add a loader thread to every module load.
  if (tracingEnabled(process.env)) {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  }
  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry({
      otlpMetricsEnabled: config.otel.otlpMetricsEnabled,
      koaMiddlewareSpans: config.otel.koaMiddlewareSpans,
      untracedPaths: config.otel.untracedPaths,
      secrets: secretsOf(config, process.env),
    });
  } catch (err) {
    fail(`telemetry could not start: ${messageOf(err)}`);
  }
  const { runService } = await import('./service.js');
  await runService(config, telemetry);
}

main().catch((err: unknown) => {
  // Settings checked against data only the service loads (the LLM models) fail here.
  if (err instanceof ConfigError) fail(`invalid setting ${err.message}`);
  fail(`start-up failed: ${messageOf(err)}`);
});
