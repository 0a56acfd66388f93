/**
 * Typed builders for the small part of Grafana's dashboard JSON model that our dashboards use
 * (time series and stat panels over one Prometheus datasource, query variables). Plain builders
 * rather than @grafana/grafana-foundation-sdk: two panel types do not justify a dependency whose
 * versions follow Grafana's schema releases, and the output here is byte-stable for the
 * regenerate-and-compare test.
 */

/** Fixed uid of the provisioned datasource (grafana/provisioning/datasources/prometheus.yml). */
export const DATASOURCE_UID = 'carbonscope-prometheus';

const datasource = { type: 'prometheus', uid: DATASOURCE_UID } as const;

export interface Target {
  refId: string;
  datasource: typeof datasource;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  editorMode: 'code';
}

export interface QuerySpec {
  expr: string;
  legend: string;
}

export interface FieldOverride {
  matcher: { id: 'byName'; options: string };
  properties: Array<{ id: string; value: unknown }>;
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat';
  title: string;
  description: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: typeof datasource;
  fieldConfig: {
    defaults: Record<string, unknown>;
    overrides: FieldOverride[];
  };
  options: Record<string, unknown>;
  targets: Target[];
}

export interface PanelSpec {
  type: 'timeseries' | 'stat';
  title: string;
  description: string;
  /** A Grafana unit id (`reqps`, `s`, `watt`, `joule`, `massg`) or `suffix:<text>`. */
  unit: string;
  queries: QuerySpec[];
  /** Width in grid columns (24 is the full width); 12 when absent. */
  width?: number;
  height?: number;
  decimals?: number;
  overrides?: FieldOverride[];
  /** Stacked areas (for parts of one whole, such as power by component). */
  stacked?: boolean;
}

export interface QueryVariable {
  name: string;
  label: string;
  /** A `label_values(metric, label)` query. */
  query: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: QueryVariable[];
  panels: PanelSpec[];
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Every panel charts its queries over time (range queries); stat panels reduce the series. */
function targets(queries: QuerySpec[]): Target[] {
  return queries.map((q, i) => ({
    refId: REF_IDS[i] ?? `Q${i}`,
    datasource,
    expr: q.expr,
    legendFormat: q.legend,
    range: true,
    instant: false,
    editorMode: 'code',
  }));
}

function panelOptions(spec: PanelSpec): Record<string, unknown> {
  if (spec.type === 'stat') {
    return {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
    };
  }
  return {
    legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
}

function fieldDefaults(spec: PanelSpec): Record<string, unknown> {
  const defaults: Record<string, unknown> = { unit: spec.unit };
  if (spec.decimals !== undefined) defaults.decimals = spec.decimals;
  if (spec.type === 'timeseries') {
    defaults.custom = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: spec.stacked ? 30 : 10,
      showPoints: 'never',
      spanNulls: false,
      stacking: { mode: spec.stacked ? 'normal' : 'none', group: 'A' },
    };
  }
  return defaults;
}

/** Lays panels out left to right, wrapping at the grid's 24 columns. */
function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((spec, i) => {
    const w = spec.width ?? 12;
    const h = spec.height ?? (spec.type === 'stat' ? 4 : 8);
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h, w, x, y };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return {
      id: i + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      gridPos,
      datasource,
      fieldConfig: { defaults: fieldDefaults(spec), overrides: spec.overrides ?? [] },
      options: panelOptions(spec),
      targets: targets(spec.queries),
    };
  });
}

function variable(v: QueryVariable) {
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource,
    definition: v.query,
    query: { query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    // "All" becomes the regex .* rather than a list of every value: short queries, and new
    // label values appear without a refresh.
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0,
  };
}

/** The dashboard JSON model Grafana's file provisioner loads. */
export function dashboard(spec: DashboardSpec) {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: false,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '10s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-15m', to: 'now' },
    annotations: { list: [] },
    templating: { list: spec.variables.map(variable) },
    panels: layout(spec.panels),
  };
}

export type Dashboard = ReturnType<typeof dashboard>;

/** Shades the area between two series of one panel (an estimate's min and max). */
export function band(lower: string, upper: string): FieldOverride[] {
  return [
    {
      matcher: { id: 'byName', options: upper },
      properties: [{ id: 'custom.fillBelowTo', value: lower }],
    },
    {
      matcher: { id: 'byName', options: lower },
      properties: [{ id: 'custom.fillOpacity', value: 0 }],
    },
  ];
}
