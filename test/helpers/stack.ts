/**
 * Shared by the stack tests: the committed Grafana dashboards and Prometheus rules as data,
 * Grafana's variable substitution, and the names and labels a PromQL expression reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/paths.js';

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
  /** Its series' name in the legend (`{{http_route}}`), empty when Grafana names them. */
  legend: string;
}

interface DashboardJson {
  title: string;
  panels: Array<{
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    options?: { colorMode?: string; graphMode?: string };
    fieldConfig: {
      defaults: {
        color?: { mode: string; fixedColor?: string };
        unit?: string;
        decimals?: number;
        thresholds?: { mode: string; steps: Array<{ value: number | null; color: string }> };
      };
    };
    targets?: Array<{
      refId: string;
      expr: string;
      legendFormat?: string;
      instant?: boolean;
      range?: boolean;
    }>;
  }>;
  templating: {
    list?: Array<{
      name: string;
      allValue?: string;
      includeAll?: boolean;
      query?: string | { query?: string };
    }>;
  };
}

/** The label names a Grafana legend shows: `{{http_route}}` → http_route. */
export function legendLabels(legend: string): string[] {
  return [...legend.matchAll(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g)].map((m) => m[1] ?? '');
}

export interface VariableQuery {
  dashboard: string;
  name: string;
  query: string;
  metric: string;
  label: string;
}

/** Every dashboard variable, which must be a `label_values(metric, label)` query. */
export function variableQueries(): VariableQuery[] {
  return readDashboards().flatMap((d) =>
    (d.templating.list ?? []).map((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\(\s*([^,]+?)\s*,\s*(\w+)\s*\)$/.exec(query);
      if (!m?.[1] || !m[2]) throw new Error(`variable ${v.name} of ${d.title}: ${query}`);
      return { dashboard: d.title, name: v.name, query, metric: m[1], label: m[2] };
    }),
  );
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
        legend: t.legendFormat ?? '',
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
 * in seconds; a multi-value variable set to "All" becomes its allValue (`(?s:.*)` here).
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
    for (const v of d.templating.list ?? []) {
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
  'present_over_time',
  'group',
  'changes',
  'max_over_time',
  'min_over_time',
  'avg_over_time',
  'le',
  'bool',
  'offset',
  'topk',
  'bottomk',
  'label_values',
  'label_replace',
  'clamp_min',
  'scalar',
  'time',
]);

/**
 * The series names a PromQL expression selects, as written (`x_bucket`, `x_count`): identifiers
 * outside label matchers and strings that are not functions, keywords, grouping labels, offsets
 * or recording rules (which contain colons).
 */
export function seriesNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?\$?\w+/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const word = m[0];
    if (PROMQL_WORDS.has(word) || word.includes(':') || /^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** The metric names a PromQL expression reads: its series names, a histogram's by its own name. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(seriesNamesIn(expr).map((n) => n.replace(/_(bucket|sum|count)$/, '')))].sort();
}

/**
 * The label names a PromQL expression reads: those its selectors match on and those its
 * aggregations and vector matches group by (`by`, `without`, `on`, `ignoring`, `group_left`…).
 */
export function labelNamesIn(expr: string): string[] {
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set<string>();
  for (const selector of unquoted.matchAll(/\{([^}]*)\}/g)) {
    for (const m of (selector[1] ?? '').matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
      names.add(m[1] ?? '');
    }
  }
  const grouping = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
  for (const m of unquoted.matchAll(grouping)) {
    for (const name of (m[1] ?? '').split(',')) if (name.trim()) names.add(name.trim());
  }
  names.delete('le');
  return [...names].sort();
}
