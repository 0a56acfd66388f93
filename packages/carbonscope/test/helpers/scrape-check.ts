/**
 * A /metrics endpoint checked as Prometheus reads it: scraped with the headers Prometheus
 * sends, its text through `promtool check metrics`, and scraped by a real Prometheus (Debian's
 * package, `bash tools/test-setup.sh`) whose stored series are read back through its HTTP API.
 * Shared by the library's endpoint (register) and the service's.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { launchPrometheus } from './prometheus.js';
import { waitFor } from './wait.js';

/** The Accept header Prometheus 2.x sends (scrape_protocols' default order). */
export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/**
 * The Accept header Prometheus 3 sends by default (3.16, captured from a scrape): the newer
 * formats carry `escaping=` and the weights differ. The endpoints answer it as 2.x's.
 */
export const PROMETHEUS_3_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3';

/** What the endpoints claim: the text format 0.0.4, not OpenMetrics. */
export const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

export interface Scrape {
  status: number;
  contentType: string | null;
  contentEncoding: string | null;
  text: string;
}

/** One scrape with Prometheus's headers (its Accept, 2.x's by default, and Accept-Encoding). */
export async function scrapeAsPrometheus(url: string, accept = PROMETHEUS_ACCEPT): Promise<Scrape> {
  const res = await fetch(url, { headers: { accept, 'accept-encoding': 'gzip' } });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    contentEncoding: res.headers.get('content-encoding'),
    text: await res.text(),
  };
}

/**
 * What `promtool check metrics` says of an exposition: its format errors and its lint findings
 * (naming, HELP, `_total`), one a line; '' when it has nothing to say and exits 0.
 */
export function promtoolFindings(text: string): string {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool: ${run.error.message} (bash tools/test-setup.sh)`);
  const said = `${run.stdout}${run.stderr}`.trim();
  return run.status === 0 ? said : said || `promtool exited ${run.status}`;
}

/** A parsed sample line: its name, labels (unescaped) and value. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const UNESCAPED: Readonly<Record<string, string>> = { n: '\n', '\\': '\\', '"': '"' };

/** The samples of a text-format exposition, label values unescaped as Prometheus reads them. */
export function parseSamples(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '';
    const labels: Record<string, string> = {};
    let at = name.length;
    if (line[at] === '{') {
      const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)",?/y;
      pair.lastIndex = at + 1;
      for (let m = pair.exec(line); m; m = pair.exec(line)) {
        labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c) => UNESCAPED[c] ?? c);
        at = pair.lastIndex;
      }
      at = line.indexOf('} ', at) + 1;
    }
    samples.push({
      name,
      labels,
      value: Number(line.slice(at).trim().replace('+Inf', 'Infinity')),
    });
  }
  return samples;
}

export interface ScrapeTarget {
  health: string;
  lastError: string;
  lastScrape: string;
}

export interface ScrapingPrometheus {
  /** The scrape target's state, once Prometheus has scraped it at least once. */
  target(): Promise<ScrapeTarget>;
  /** An instant query's samples: each series' labels (with __name__) and value. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  log(): string;
  stop(): Promise<void>;
}

const NEVER = '0001-01-01T00:00:00Z';

/**
 * Waits (30 s at most) until Prometheus has scraped its target once, or has exited; throws
 * naming the target's last state when neither happens.
 */
async function scrapedOnce(
  target: () => Promise<ScrapeTarget>,
  proc: ChildProcess,
): Promise<'scraped' | 'exited'> {
  const seen = await waitFor(
    "Prometheus's first scrape of its target",
    async () => (proc.exitCode === null ? await target() : 'exited'),
    { timeoutMs: 30_000, intervalMs: 200, until: (t) => t === 'exited' || t.lastScrape !== NEVER },
  );
  return seen === 'exited' ? 'exited' : 'scraped';
}

/** Prometheus scraping `url` every second (job `target`), ready once it has scraped it once. */
export async function prometheusScraping(url: string): Promise<ScrapingPrometheus> {
  const { host, pathname } = new URL(url);
  const config = `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - { job_name: target, metrics_path: '${pathname}', static_configs: [{ targets: ['${host}'] }] }\n`;
  const { proc, address, log, stop } = await launchPrometheus(() => config);
  const base = `http://${address}`;
  const api = async <T>(path: string): Promise<T> => {
    const body = (await (await fetch(`${base}${path}`)).json()) as { data: T };
    return body.data;
  };
  const target = async (): Promise<ScrapeTarget> => {
    const { activeTargets } = await api<{ activeTargets: ScrapeTarget[] }>('/api/v1/targets');
    const [first] = activeTargets;
    if (!first) throw new Error('Prometheus has no target');
    return first;
  };
  const scraped = await scrapedOnce(target, proc).catch((e: Error) => e.message);
  if (scraped !== 'scraped') {
    await stop();
    throw new Error(`Prometheus did not scrape ${url} (${scraped}):\n${log()}`);
  }
  return {
    target,
    query: async (expr) => {
      const data = await api<{
        result: Array<{ metric: Record<string, string>; value: [number, string] }>;
      }>(`/api/v1/query?${new URLSearchParams({ query: expr })}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    log,
    stop,
  };
}
