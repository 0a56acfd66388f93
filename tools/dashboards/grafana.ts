/**
 * Our dashboards' specs (panels, queries, variables) built into Grafana's dashboard model with
 * @grafana/grafana-foundation-sdk, whose builders and types are generated from Grafana's own
 * schemas: a field Grafana does not know, or a value of the wrong kind, fails `tsc`. The specs
 * stay plain data so the stack tests can read every query; the SDK does the JSON.
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizOrientation,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  type DataSourceRef,
  type DynamicConfigValue,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type * as units from '@grafana/grafana-foundation-sdk/units';

/** Fixed uid of the provisioned datasource (grafana/provisioning/datasources/prometheus.yml). */
export const DATASOURCE_UID = 'carbonscope-prometheus';

const datasource: DataSourceRef = { type: 'prometheus', uid: DATASOURCE_UID };

/** A unit id of Grafana's own list (its value formats): `watt`, `joule`, `massg`, `reqps`… */
export type GrafanaUnit = Extract<(typeof units)[keyof typeof units], string>;

/** What a panel's values are in: a unit Grafana knows, or a custom one (`suffix`, `si`). */
export type Unit = GrafanaUnit | `suffix:${string}` | `si:${string}`;

/**
 * Grafana's custom unit drawn after the value: Grafana puts one space between them itself, so
 * `text` starts with none (`suffix: g/s` drew two).
 */
export function suffix(text: string): Unit {
  return `suffix:${text}`;
}

/**
 * Grafana's custom unit scaled with SI prefixes (`si('gCO2e/s')` draws 2.1e-7 as 210 ngCO2e/s),
 * for figures that span decades; `text` starts with no space and no prefix letter (Grafana reads
 * one as the data's own scale).
 */
export function si(text: string): Unit {
  return `si:${text}`;
}

export interface QuerySpec {
  expr: string;
  legend: string;
}

/** Field-config properties for the series of one name (`custom.fillBelowTo`…). */
export interface FieldOverride {
  name: string;
  properties: DynamicConfigValue[];
}

export interface PanelSpec {
  type: 'timeseries' | 'stat';
  title: string;
  description: string;
  unit: Unit;
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

/**
 * Panels chart their queries over time (range queries); stat panels reduce the series. A stat's
 * total over the time range (`$__range`) is one value at its end: an instant query, which a range
 * query would evaluate again at every step, each over the whole range. A time series panel always
 * asks for a range: an instant query gives it one value per series, no line.
 */
function target(q: QuerySpec, i: number, type: PanelSpec['type']): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .refId(REF_IDS[i] ?? `Q${i}`)
    .datasource(datasource)
    .expr(q.expr)
    .legendFormat(q.legend);
  const overRange = type === 'stat' && q.expr.includes('$__range');
  return (overRange ? builder.instant() : builder.range()).editorMode(QueryEditorMode.Code);
}

function statPanel(spec: PanelSpec): StatPanelBuilder {
  return (
    new StatPanelBuilder()
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
      .colorMode(BigValueColorMode.Value)
      .graphMode(BigValueGraphMode.Area)
      .justifyMode(BigValueJustifyMode.Auto)
      .orientation(VizOrientation.Auto)
      .textMode(BigValueTextMode.Auto)
      // The value in the text colour at any size: without thresholds Grafana's default (green, red
      // from 80) drew 80 J, 80 requests/s or 80 instances red, an alarm none of them is.
      .thresholds(
        new ThresholdsConfigBuilder()
          .mode(ThresholdsMode.Absolute)
          .steps([{ value: null, color: 'text' }]),
      )
      .height(spec.height ?? 4)
  );
}

function timeseriesPanel(spec: PanelSpec): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['mean', 'max']),
    )
    .tooltip(
      new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending),
    )
    .drawStyle(GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(spec.stacked ? 30 : 10)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .stacking(
      new StackingConfigBuilder()
        .mode(spec.stacked ? StackingMode.Normal : StackingMode.None)
        .group('A'),
    )
    .height(spec.height ?? 8);
}

function panel(spec: PanelSpec, id: number): StatPanelBuilder | TimeseriesPanelBuilder {
  const builder = spec.type === 'stat' ? statPanel(spec) : timeseriesPanel(spec);
  builder
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(datasource)
    .span(spec.width ?? 12)
    .unit(spec.unit);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  for (const o of spec.overrides ?? []) builder.overrideByName(o.name, o.properties);
  for (const [i, q] of spec.queries.entries()) builder.withTarget(target(q, i, spec.type));
  return builder;
}

function variable(v: QueryVariable): QueryVariableBuilder {
  return (
    new QueryVariableBuilder(v.name)
      .label(v.label)
      .datasource(datasource)
      .definition(v.query)
      .query({ query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 })
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      // "All" becomes one regex rather than a list of every value: short queries, and new
      // label values appear without a refresh. `(?s:.*)`, not `.*`: Prometheus 2's `.` stops at
      // a newline (3's does not), so `.*` left a value holding one out on 2.x only.
      .allValue('(?s:.*)')
      .current({ selected: true, text: ['All'], value: ['$__all'] })
      .hide(VariableHide.DontHide)
  );
}

/**
 * The dashboard model Grafana's file provisioner loads. The builder lays the panels out left to
 * right by their width, wrapping at the grid's 24 columns.
 */
export function dashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(spec.tags)
    .readonly()
    .tooltip(DashboardCursorSync.Crosshair)
    .timezone('browser')
    .refresh('10s')
    .version(1)
    .time({ from: 'now-15m', to: 'now' });
  for (const v of spec.variables) builder.withVariable(variable(v));
  for (const [i, p] of spec.panels.entries()) builder.withPanel(panel(p, i + 1));
  return builder.build();
}

/**
 * Shades the area between two series of one panel (an estimate's min and max); `style` goes on
 * both lines (a dashed band beside a solid one).
 */
export function band(
  lower: string,
  upper: string,
  style: DynamicConfigValue[] = [],
): FieldOverride[] {
  return [
    { name: upper, properties: [{ id: 'custom.fillBelowTo', value: lower }, ...style] },
    { name: lower, properties: [{ id: 'custom.fillOpacity', value: 0 }, ...style] },
  ];
}

/** A dashed line: what a panel draws for figures that are a demonstration, not a measurement. */
export const DASHED: DynamicConfigValue = {
  id: 'custom.lineStyle',
  value: { fill: 'dash', dash: [10, 10] },
};
