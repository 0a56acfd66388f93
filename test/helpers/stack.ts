/**
 * Shared by the stack tests: the committed Grafana dashboards and Prometheus rules as data,
 * Grafana's variable substitution, and the collector's metric-name translation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { projectRoot } from '../../src/paths.js';
import { freePort } from './spawn-server.js';

export const DASHBOARDS_DIR = join(projectRoot, 'grafana', 'dashboards');
export const RULES_FILE = join(projectRoot, 'prometheus', 'rules.yml');
export const README_FILE = join(projectRoot, 'README.md');

/**
 * The PromQL examples of the README: each line of a promql block is one query, an indented
 * line continues the one above, and `#` starts a comment.
 */
export function docQueries(): string[] {
  const text = readFileSync(README_FILE, 'utf8');
  const queries: string[] = [];
  for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = raw.replace(/#.*$/, '').trimEnd();
      if (!line.trim()) continue;
      if (/^\s/.test(line) && queries.length) queries[queries.length - 1] += ` ${line.trim()}`;
      else queries.push(line.trim());
    }
  }
  return queries;
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface DashboardJson {
  title: string;
  panels: Array<{ title: string; targets?: Array<{ refId: string; expr: string }> }>;
  templating: { list: Array<{ name: string; allValue?: string; includeAll?: boolean }> };
}

export function readDashboards(): DashboardJson[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as DashboardJson);
}

/** Every query of every panel of every committed dashboard. */
export function panelQueries(): PanelQuery[] {
  return readDashboards().flatMap((d) =>
    d.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        dashboard: d.title,
        panel: p.title,
        refId: t.refId,
        expr: t.expr,
      })),
    ),
  );
}

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
}

export function readRules(): { recording: RecordingRule[]; alerts: AlertRule[] } {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as {
    groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }>;
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  return {
    recording: rules.flatMap((r) => (r.record ? [{ record: r.record, expr: r.expr }] : [])),
    alerts: rules.flatMap((r) => (r.alert ? [{ alert: r.alert, expr: r.expr }] : [])),
  };
}

export interface GrafanaTimes {
  /** The datasource's scrape interval (Grafana's "Scrape interval" / jsonData.timeInterval). */
  scrapeIntervalSeconds: number;
  /** $__interval: the query step Grafana picks for the panel width and time range. */
  intervalSeconds: number;
  /** $__range: the dashboard's time range. */
  rangeSeconds: number;
}

/**
 * Replaces Grafana's macros and template variables the way Grafana does before it sends a
 * query: $__rate_interval = max($__interval + scrape interval, 4 × scrape interval), durations
 * in seconds; a multi-value variable set to "All" becomes its allValue (.* here).
 */
export function substituteGrafana(
  expr: string,
  times: GrafanaTimes,
  variables: Record<string, string>,
): string {
  const rate = Math.max(
    times.intervalSeconds + times.scrapeIntervalSeconds,
    4 * times.scrapeIntervalSeconds,
  );
  let out = expr
    .replaceAll('$__rate_interval', `${rate}s`)
    .replaceAll('$__interval_ms', String(times.intervalSeconds * 1000))
    .replaceAll('$__interval', `${times.intervalSeconds}s`)
    .replaceAll('$__range_s', String(times.rangeSeconds))
    .replaceAll('$__range', `${times.rangeSeconds}s`);
  for (const [name, value] of Object.entries(variables)) {
    out = out.replaceAll(`\${${name}}`, value).replace(new RegExp(`\\$${name}\\b`, 'g'), value);
  }
  const left = /\$\{?[A-Za-z_]\w*/.exec(out);
  if (left) throw new Error(`unsubstituted Grafana variable ${left[0]} in: ${expr}`);
  return out;
}

/** Each dashboard variable set to "All", as a freshly opened dashboard has it. */
export function allValues(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const d of readDashboards()) {
    for (const v of d.templating.list) {
      if (!v.includeAll || v.allValue === undefined) {
        throw new Error(`variable ${v.name} of ${d.title} needs includeAll with an allValue`);
      }
      values[v.name] = v.allValue;
    }
  }
  return values;
}

const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'without',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'max',
  'min',
  'avg',
  'count',
  'or',
  'and',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'vector',
  'absent',
  'absent_over_time',
  'max_over_time',
  'min_over_time',
  'avg_over_time',
  'le',
  'bool',
  'offset',
  'topk',
  'bottomk',
  'label_values',
  'clamp_min',
  'scalar',
  'time',
]);

/**
 * The metric names a PromQL expression reads: identifiers outside label matchers and strings
 * that are not functions, keywords, grouping labels or recording rules (which contain colons).
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const word = m[0];
    if (PROMQL_WORDS.has(word) || word.includes(':') || /^\d/.test(word)) continue;
    names.add(word.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names].sort();
}

// --- The collector's name translation -------------------------------------------------------
// A port of prometheus/otlptranslator's normalizeName (the collector's prometheus exporter with
// translation_strategy UnderscoreEscapingWithSuffixes), kept to the parts our names touch.

const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};
const PER_UNIT_WORDS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

export type OtlpType = 'counter' | 'gauge' | 'histogram' | 'updowncounter';

function clean(unit: string): string {
  return unit.replace(/[^A-Za-z0-9:]+/g, '_').replace(/^_+|_+$/g, '');
}

/** The name the collector's prometheus exporter gives an OTLP metric (name, unit, type). */
export function collectorMetricName(name: string, unit: string, type: OtlpType): string {
  const tokens = name.split(/[^A-Za-z0-9:]+/).filter(Boolean);
  const [mainRaw = '', perRaw] = unit.split(/\/(.*)/s, 2);
  let main = '';
  let per = '';
  const mainTrim = mainRaw.trim();
  if (mainTrim && !/[{}]/.test(mainTrim)) main = UNIT_WORDS[mainTrim] ?? mainTrim;
  if (perRaw?.trim() && !/[{}]/.test(perRaw.trim())) {
    per = `per_${PER_UNIT_WORDS[perRaw.trim()] ?? perRaw.trim()}`;
  }
  main = clean(main);
  per = clean(per);
  // The exporter compares each suffix with single name tokens, so "per_second" never matches.
  if (tokens.includes(main)) main = '';
  if (per === 'per' || tokens.includes(per)) per = '';
  if (main) tokens.push(main);
  if (per) tokens.push(per);
  let out = tokens;
  if (type === 'counter') out = [...out.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') out = [...out.filter((t) => t !== 'ratio'), 'ratio'];
  return out.join('_');
}

export interface ExposedFamily {
  /** The name in the exposition (`requests_total`, `request_latency_seconds`). */
  name: string;
  type: string;
  unit: string;
}

/** Families of a Prometheus text exposition with their TYPE and UNIT comments. */
export function exposedFamilies(text: string): ExposedFamily[] {
  const families = new Map<string, ExposedFamily>();
  for (const line of text.split('\n')) {
    const m = /^# (TYPE|UNIT) (\S+) ?(.*)$/.exec(line);
    if (!m) continue;
    const [, kind, name = '', value = ''] = m;
    const family = families.get(name) ?? { name, type: 'untyped', unit: '' };
    if (kind === 'TYPE') family.type = value;
    else family.unit = value;
    families.set(name, family);
  }
  return [...families.values()];
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The Prometheus HTTP API, instant queries only. */
export class PrometheusClient {
  constructor(readonly url: string) {}

  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const res = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Sample[] };
    };
    if (body.status !== 'success') throw new Error(`${body.error ?? res.status}: ${expr}`);
    expect(body.data?.resultType, expr).to.equal('vector');
    return body.data?.result ?? [];
  }
}

/** Polls `check` until it holds, or fails naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface RunningPrometheus {
  process: ChildProcess;
  client: PrometheusClient;
  /** Its stderr so far, for a failing test to print. */
  log: string[];
}

/**
 * Debian's prometheus on a free loopback port, with `dir/prometheus.yml` and its data in
 * `dir/data`; resolves once it is ready, or fails naming what is missing.
 */
export async function startPrometheus(dir: string): Promise<RunningPrometheus> {
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (c: string) => log.push(c));
  const missing = once(child, 'error').then(([err]) => {
    throw new Error(`Debian's prometheus is needed for this test: ${(err as Error).message}`);
  });
  const client = new PrometheusClient(`http://127.0.0.1:${port}`);
  await Promise.race([
    missing,
    waitFor('Prometheus to be ready', async () => (await fetch(`${client.url}/-/ready`)).ok),
  ]);
  return { process: child, client, log };
}

/** Stops a Prometheus started by startPrometheus. */
export async function stopPrometheus(running: RunningPrometheus | undefined): Promise<void> {
  if (!running) return;
  running.process.kill('SIGTERM');
  if (running.process.exitCode === null) await once(running.process, 'exit');
}
