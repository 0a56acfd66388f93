import { join } from 'node:path';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from './child-env.js';
import { type Spawned, spawnUntil } from './spawn.js';

const FIXTURE = join(libraryRoot, 'test', 'fixtures', 'register', 'spawns-children.mjs');

/** What GET /figures of spawns-children.mjs answers. */
export interface ChildrenFigures {
  /** Σ over the meter's samples since the fixture subscribed. */
  processCpuSeconds: number;
  childCpuSeconds: number;
  processJoules: number;
  /** /proc/self/stat now: utime + stime, and cutime + cstime (the reaped children's). */
  ownSeconds: number;
  childrenSeconds: number;
  cpuUsageSeconds: number;
  /** The snapshot's: settled operations of each name and their mean joules. */
  operations: Array<{ operation: string; count: number; joules: number }>;
  processJoulesTotal: number;
}

export interface ChildrenApp {
  app: Spawned;
  base: string;
  figures(): Promise<ChildrenFigures>;
}

/**
 * spawns-children.mjs under `--import carbonscope/register`, metered by the estimate and pushing
 * nowhere; `env` adds to that (its loops, its sample interval, the attribution mode).
 */
export async function startChildrenApp(env: Record<string, string>): Promise<ChildrenApp> {
  const app = await spawnUntil(process.execPath, [FIXTURE], {
    cwd: join(FIXTURE, '..'),
    env: childEnv({
      NODE_OPTIONS: '--import carbonscope/register',
      OTEL_METRICS_EXPORTER: 'none',
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      ...env,
    }),
    waitFor: /^listening \d+$/,
  });
  const port = (app.stdout.find((l) => l.startsWith('listening ')) ?? '').split(' ')[1];
  const base = `http://127.0.0.1:${port}`;
  const figures = async () => (await fetch(`${base}/figures`)).json() as Promise<ChildrenFigures>;
  return { app, base, figures };
}
