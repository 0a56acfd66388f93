import { dirname, join } from 'node:path';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from './child-env.js';
import { type Spawned, spawnUntil } from './spawn.js';
import { waitFor } from './wait.js';

/** A plain node:http service naming its routes with setRoute; see its comment for ON_SIGTERM. */
export const REGISTER_SERVER = join(libraryRoot, 'test', 'fixtures', 'register', 'server.js');

export interface RegisterApp extends Spawned {
  base: string;
}

/**
 * `node --import carbonscope/register server.js` (REGISTER_SERVER), resolved as a user's would
 * be (the package by its name, here from inside it), pushing OTLP to `otlpUrl` as the standard
 * variables say, `imports` loaded after register; resolves once register has said `ready`. The
 * protocol is left unset: the spec's default, http/protobuf.
 */
export async function startRegisterApp(
  otlpUrl: string,
  env: Record<string, string> = {},
  imports: string[] = [],
  ready = "metrics exported by carbonscope's own SDK: otlp",
): Promise<RegisterApp> {
  const args = ['--import', 'carbonscope/register', ...imports.flatMap((i) => ['--import', i])];
  const app = await spawnUntil(process.execPath, [...args, REGISTER_SERVER], {
    cwd: dirname(REGISTER_SERVER),
    env: childEnv({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_SERVICE_NAME: 'some-name',
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      ENERGY_SAMPLE_INTERVAL_MS: '200',
      // Every operation served gets a share of the energy, whenever the samples fall: the
      // default, `calibrated`, opens a window at the first sample, and where it closed between
      // the test's requests, a route it measured claimed the next interval's CPU whole and a
      // route it had not seen (`/hello`) got 0 J, as the README says it may (its guess is
      // capped at what the interval has left). Attribution is not what these tests test.
      ENERGY_OPERATION_ATTRIBUTION: 'wall',
      // For the line that says register has started its SDK.
      CARBONSCOPE_LOG_LEVEL: 'info',
      ...env,
    }),
    waitFor: /^listening \d+$/,
  });
  const port = /^listening (\d+)$/.exec(app.stdout.find((l) => l.startsWith('listening')) ?? '');
  // register starts beside the application and tracks requests once it has: as a user's
  // traffic would, the test's comes after (the examples test waits for the metrics likewise).
  await waitFor(
    `register to say ${ready}`,
    () => app.stderr.some((l) => l.includes(ready)),
    15_000,
  ).catch(() => {
    throw new Error(`register did not say "${ready}": ${app.stderr.join('\n')}`);
  });
  return { ...app, base: `http://127.0.0.1:${port?.[1]}` };
}
