import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../src/paths.js';
import { carbonDashboard } from './carbon.js';
import { dashboard } from './grafana.js';
import { serviceDashboard } from './service.js';

export const DASHBOARDS_DIR = join(projectRoot, 'grafana', 'dashboards');

/** File name → JSON text of every dashboard, exactly as committed under grafana/dashboards. */
export function renderDashboards(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, spec] of [
    ['service.json', serviceDashboard],
    ['carbon.json', carbonDashboard],
  ] as const) {
    files.set(file, `${JSON.stringify(dashboard(spec), null, 2)}\n`);
  }
  return files;
}

/** Writes the dashboards; with `check`, only reports the files that differ from the sources. */
export function generate(check: boolean): string[] {
  const stale: string[] = [];
  for (const [file, text] of renderDashboards()) {
    const path = join(DASHBOARDS_DIR, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current === text) continue;
    stale.push(file);
    if (!check) writeFileSync(path, text);
  }
  return stale;
}

// `npm run dashboards` (writes) or `npm run dashboards -- --check` (exit 1 when stale).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  const stale = generate(check);
  if (check && stale.length) {
    process.stderr.write(`stale: ${stale.join(', ')} (run npm run dashboards)\n`);
    process.exit(1);
  }
  process.stdout.write(
    stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}\n` : 'up to date\n',
  );
}
