import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { METRICS, prometheusName } from 'carbonscope';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { APP_METRICS } from '../../../src/metrics.js';
import { projectRoot } from '../../../src/paths.js';
import { carbonDashboard } from '../../../tools/dashboards/carbon.js';
import { renderDashboards } from '../../../tools/dashboards/generate.js';
import { DATASOURCE_UID, dashboard } from '../../../tools/dashboards/grafana.js';
import {
  HOST_LABEL,
  PROM,
  RUNNING_APPS,
  RUNNING_APPS_EXPR,
  RUNNING_APPS_MAX_PUSH_SECONDS,
} from '../../../tools/dashboards/names.js';
import { BEFORE_THE_APP } from '../../../tools/dashboards/service.js';
import {
  allValues,
  DASHBOARDS_DIR,
  docQueries,
  legendLabels,
  metricNamesIn,
  panelQueries,
  RULES_FILE,
  readDashboards,
  readRules,
  substituteGrafana,
  variableQueries,
} from '../../helpers/stack.js';

/** Grafana 12.2's SI prefixes (valueFormats' SI_PREFIXES; micro read as NFKD). */
const SI_PREFIXES = 'fpn\u00b5mkMGTPEZY'.normalize('NFKD');

/** Each metric's unit in the metric table (UCUM: g, J, W, {prediction}), by Prometheus name. */
const UNIT_OF = new Map(
  Object.values({ ...METRICS, ...APP_METRICS }).map((m) => [prometheusName(m), m.unit]),
);

/** The metric table's Prometheus names: the only names a dashboard or rule may read. */
const TABLE_METRICS = Object.values(PROM);

/** Runs promtool in a scratch directory holding `files`; its output, or what it said failing. */
function promtool(args: string[], files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'carbonscope-promtool-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), stringify(content));
    }
    return execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * promtool's unit test of panel queries against `input_series` scraped every 15 s: its output,
 * which says SUCCESS when every expected sample came out.
 */
function queriesTest(input_series: unknown[], promql_expr_test: unknown[]): string {
  return promtool(['test', 'rules', 'test.yml'], {
    'test.yml': {
      // The panels read the running apps from their recording rule.
      rule_files: [RULES_FILE],
      evaluation_interval: '15s',
      tests: [{ interval: '15s', input_series, promql_expr_test }],
    },
  });
}

interface NamedQuery {
  name: string;
  expr: string;
}

/** `expr` with each string literal emptied: a `/` in a matcher (`=~"/(?s:.*)"`) is no division. */
function outsideStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

/**
 * Every panel query (Grafana's substitutions made), recording rule and README example in which
 * `pattern` matches outside string literals.
 */
function queriesMatching(pattern: RegExp): NamedQuery[] {
  const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
  return [
    ...panelQueries().map((q) => ({
      name: `${q.panel} (${q.refId})`,
      expr: substituteGrafana(q.expr, times, allValues()),
    })),
    ...readRules().recording.map((r) => ({ name: r.record, expr: r.expr })),
    ...docQueries().map((expr) => ({ name: expr, expr })),
  ].filter((q) => pattern.test(outsideStrings(q.expr)));
}

/** The histograms the ratios and quantiles read, each with every counter they read of it. */
function quietHistograms(values: string): Array<{ series: string; values: string }> {
  const histogram = (name: string, labels: string) => [
    ...['_sum', '_count'].map((end) => ({ series: `${name}${end}{${labels}}`, values })),
    ...['0.1', '+Inf'].map((le) => ({ series: `${name}_bucket{${labels}, le="${le}"}`, values })),
  ];
  return [
    ...['200', '500'].flatMap((code) =>
      histogram(PROM.httpDuration, `http_route="/a", http_response_status_code="${code}"`),
    ),
    ...histogram(PROM.inferenceDuration, 'carbonscope_model="m"'),
    ...['usage', 'embodied'].flatMap((phase) =>
      ['/a', 'inference'].flatMap((op) =>
        histogram(
          PROM.operationEmissions,
          `carbonscope_operation="${op}", carbonscope_phase="${phase}"`,
        ),
      ),
    ),
    ...['/a', 'inference'].flatMap((op) =>
      histogram(PROM.operationEnergy, `carbonscope_operation="${op}"`),
    ),
  ];
}

/**
 * The names of the queries that give NaN once every counter they read stands still, or nothing
 * while it moves: each moves for 5 min (20 scrapes), then stands still for 10. Each is tried, so
 * a failure names them all.
 */
function givingNaNWhenQuiet(queries: NamedQuery[]): string[] {
  const input_series = quietHistograms('0+1x20 20x40');
  return queries
    .filter(({ expr }) => {
      try {
        return !queriesTest(input_series, [
          {
            expr: `clamp_max(count(${expr}), 1)`,
            eval_time: '4m',
            exp_samples: [{ labels: '{}', value: 1 }],
          },
          { expr, eval_time: '14m', exp_samples: [] },
        ]).includes('SUCCESS');
      } catch {
        return true;
      }
    })
    .map((q) => q.name);
}

describe('stack: Grafana dashboards as code', () => {
  it('regenerating from tools/dashboards gives exactly the committed JSON', () => {
    const rendered = renderDashboards();
    expect([...rendered.keys()].sort()).to.deep.equal(['carbon.json', 'service.json']);
    for (const [file, text] of rendered) {
      const committed = readFileSync(join(DASHBOARDS_DIR, file), 'utf8');
      expect(committed === text, `${file} is stale: run npm run dashboards`).to.equal(true);
    }
  });

  it('every panel and variable uses the provisioned datasource by its fixed uid', () => {
    const provisioned = parse(
      readFileSync(
        join(projectRoot, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
        'utf8',
      ),
    ) as { datasources: Array<{ uid: string; type: string; url: string }> };
    const [ds] = provisioned.datasources;
    expect(ds?.uid).to.equal(DATASOURCE_UID);
    expect(ds?.type).to.equal('prometheus');
    expect(ds?.url).to.equal('http://prometheus:9090');
    const json = readDashboards().map((d) => JSON.stringify(d));
    for (const text of json) {
      const uids = [...text.matchAll(/"uid":\s*"([^"]+)"/g)].map((m) => m[1]);
      const datasourceUids = uids.filter(
        (u) => !u?.startsWith('carbonscope-') || u === DATASOURCE_UID,
      );
      expect(new Set(datasourceUids)).to.deep.equal(new Set([DATASOURCE_UID]));
    }
  });

  // Grafana draws `suffix:<text>` as the value, one space, then <text> as written: a unit id
  // it does not know is drawn as a suffix too, so a typo shows as text rather than failing.
  // "suffix: gCO2e/s" drew "0.00210  gCO2e/s", two spaces (formatted by @grafana/data 12.2).
  it('gives every panel a unit id Grafana knows, or a custom suffix it draws as written', () => {
    const known = new Set<string>(Object.values(units).filter((u) => typeof u === 'string'));
    // The SDK's list is Grafana's own (12.2.0's getValueFormats: the same 272 ids).
    expect(known.size).to.be.at.least(250);
    const panels = readDashboards().flatMap((d) => d.panels.map((p) => ({ d, p })));
    expect(panels.length).to.be.at.least(25);
    for (const { d, p } of panels) {
      const unit = p.fieldConfig.defaults.unit ?? '';
      const where = `${d.title} / ${p.title}: ${JSON.stringify(unit)}`;
      if (/^(suffix|si):/.test(unit)) expect(unit, where).to.match(/^(suffix|si):\S/);
      else expect(known.has(unit), where).to.equal(true);
      // Grafana reads an si: unit's first letter, if an SI prefix, as the data's own scale:
      // 'si:predictions/s' drew 2.1 as '2.10 fredictions/s' (formatted by @grafana/data 12.2).
      if (unit.startsWith('si:')) {
        expect(SI_PREFIXES.includes(unit.charAt(3).normalize('NFKD')), where).to.equal(false);
      }
    }
  });

  // Grams and joules span decades on one panel: the service's emission rates ran from 2e-8 to
  // 8e-3 gCO2e/s. A suffix unit is drawn in fixed or e-notation ("2.12e-7 gCO2e/s" in a legend);
  // Grafana's watt, joule and massg and an si: unit scale with SI prefixes ("212 ngCO2e/s").
  it('draws every panel of grams, joules or watts with SI prefixes', () => {
    const scaling = new Set<string>([units.Watt, units.Joule, units.Gram]);
    const panels = readDashboards().flatMap((d) => d.panels);
    let checked = 0;
    for (const p of panels) {
      const exprs = (p.targets ?? []).map((t) => t.expr).join('\n');
      // A recording rule named level:metric:rate… is a rate of that metric.
      const rated = [...exprs.matchAll(/\b[a-z_]+:([a-z_0-9]+):rate\w*\b/g)].map((m) => m[1] ?? '');
      const read = [...metricNamesIn(exprs), ...rated].map((n) => UNIT_OF.get(n) ?? '');
      if (!read.some((u) => ['g', 'g/s', 'J', 'W'].includes(u))) continue;
      checked++;
      const unit = p.fieldConfig.defaults.unit ?? '';
      const ok = scaling.has(unit) || /^si:\S/.test(unit);
      expect(ok, `${p.title}: ${unit}`).to.equal(true);
    }
    expect(checked).to.be.at.least(14);
  });

  // A counter of things ({prediction}, {token}) charted per second: Grafana's reqps drew the
  // predictions as "0.667 req/s", requests they are not.
  it('names what a panel counts when it charts a count of things', () => {
    let checked = 0;
    for (const p of readDashboards().flatMap((d) => d.panels)) {
      const exprs = (p.targets ?? []).map((t) => t.expr).join('\n');
      const things = metricNamesIn(exprs)
        .map((n) => /^\{(\w+)\}$/.exec(UNIT_OF.get(n) ?? '')?.[1])
        .filter((t) => t !== undefined);
      for (const thing of things) {
        checked++;
        expect(p.fieldConfig.defaults.unit, p.title).to.match(new RegExp(`^suffix:${thing}s?/s$`));
      }
    }
    expect(checked).to.be.at.least(2);
  });

  // rate() of joules is watts, of grams g/s, of tokens tokens/s: a panel of it charts how fast
  // energy is used, CO2e emitted or tokens spent, not an amount, and its title says so ("LLM
  // energy" over "3 mW" read as a quantity of energy in a unit of power, "LLM tokens" over
  // "20 tokens/s" as a count of tokens).
  it('titles a panel of a joule, gram or token rate as a rate or power, never as an amount', () => {
    const amounts = new Set(['J', 'g', '{token}']);
    const titled: string[] = [];
    for (const p of readDashboards().flatMap((d) => d.panels)) {
      const exprs = (p.targets ?? []).map((t) => t.expr);
      const rates = exprs.some((e) =>
        metricNamesIn(e).some((n) => amounts.has(UNIT_OF.get(n) ?? '') && /\brate\(/.test(e)),
      );
      const unit = p.fieldConfig.defaults.unit ?? '';
      if (rates && (unit === 'watt' || unit.endsWith('/s'))) titled.push(p.title);
    }
    expect(titled).to.include('Energy use rate').and.to.have.length.of.at.least(3);
    expect(titled.filter((t) => !/\b(rate|power)\b/i.test(t))).to.deep.equal([]);
  });

  // A total over the time range is one value at its end. As a range query Grafana evaluated it
  // at every step, each over the whole range: on 7 days of data (2 apps, 15 s scrape, 900 s
  // step) the emissions total read 108.6 M samples in 179-301 ms, the instant query 0.32 M in
  // 35 ms, and the stat's sparkline drew a sliding 7-day window, not the range's energy.
  it('asks for a total over the time range once, as an instant query', () => {
    const overRange = readDashboards().flatMap((d) =>
      d.panels
        .filter((p) => p.type === 'stat')
        .flatMap((p) =>
          (p.targets ?? [])
            .filter((t) => t.expr.includes('$__range'))
            .map((t) => ({ where: `${p.title} (${t.refId})`, t })),
        ),
    );
    expect(overRange.length).to.be.at.least(3);
    for (const { where, t } of overRange) {
      expect({ instant: t.instant, range: t.range }, where).to.deep.equal({
        instant: true,
        range: false,
      });
    }
  });

  // An instant query gives Grafana's time series panel one value per series: no line to draw.
  it('asks for a range in a time series panel, even of a query over the time range', () => {
    const spec = {
      type: 'timeseries' as const,
      title: 'Energy over the range, by time',
      description: '',
      unit: 'joule' as const,
      queries: [{ expr: `increase(${PROM.hostEnergy}[$__range])`, legend: 'host' }],
    };
    const built = dashboard({ ...carbonDashboard, panels: [spec] }) as unknown as {
      panels: Array<{ targets: Array<{ instant?: boolean; range?: boolean }> }>;
    };
    const t = built.panels[0]?.targets[0];
    expect({ instant: t?.instant, range: t?.range }).to.deep.equal({ instant: false, range: true });
    const series = readDashboards().flatMap((d) => d.panels.filter((p) => p.type !== 'stat'));
    for (const p of series) {
      for (const q of p.targets ?? []) expect(q.range, `${p.title} (${q.refId})`).to.equal(true);
    }
  });

  // How Grafana 12.2 colours a stat's value, read in its source: colorMode 'none' draws it in the
  // text colour; otherwise the field's colour scheme does, thresholds when the panel sets none
  // (getFieldColorModeForField), and thresholds the panel leaves out are the standard option's
  // default, green then red from 80 (PanelPlugin.fieldConfigDefaults). The host's energy over
  // 15 min (606 J after 40 s of the real service), a request rate of 80/s or 80 instances were
  // drawn red, an alarm that means nothing here.
  it('colours no stat value by a threshold it did not choose', () => {
    const grafanaDefault = [
      { value: null, color: 'green' },
      { value: 80, color: 'red' },
    ];
    const stats = readDashboards().flatMap((d) => d.panels.filter((p) => p.type === 'stat'));
    expect(stats.length).to.be.at.least(7);
    for (const p of stats) {
      if (p.options?.colorMode === 'none') continue;
      const scheme = p.fieldConfig.defaults.color?.mode ?? 'thresholds';
      // A fixed colour or a palette (by series) draws every value alike; a continuous scheme
      // changes with the value as thresholds do.
      if (scheme !== 'thresholds' && !scheme.startsWith('continuous-')) continue;
      expect(scheme, p.title).to.equal('thresholds');
      const steps = p.fieldConfig.defaults.thresholds?.steps ?? grafanaDefault;
      expect(steps, `${p.title}: one colour at every value`).to.have.lengthOf(1);
    }
  });

  it('has the Service and Carbon panels the issue asks for', () => {
    const panels = new Map(readDashboards().map((d) => [d.title, d.panels.map((p) => p.title)]));
    expect(panels.get('carbonscope · Service')).to.include.members([
      'Request rate by route',
      'Errors by route',
      'Latency quantiles by route',
    ]);
    expect(panels.get('carbonscope · Carbon')).to.include.members([
      'Power by component and source',
      'Energy use rate',
      'Emissions rate',
      'Grid carbon intensity and its source',
      'Energy per request by route',
      'SCI per request',
      'E × I per request by route',
      'M per request by route',
      'SCI per request by route',
      'Inference energy',
      'LLM energy rate (min–max)',
      'LLM GWP rate (min–max)',
      'LLM token rate',
    ]);
  });

  it('reads only metrics of the metric table, and recording rules that exist', () => {
    const { recording } = readRules();
    const records = new Set(recording.map((r) => r.record));
    const exprs = [...panelQueries().map((q) => q.expr), ...recording.map((r) => r.expr)];
    for (const expr of exprs) {
      for (const name of metricNamesIn(expr)) {
        expect(TABLE_METRICS, `${name} in ${expr}`).to.include(name);
      }
      for (const m of expr.matchAll(/\b[a-z_]+:[a-z_0-9]+:[a-z_0-9]+\b/g)) {
        expect(records, `recording rule ${m[0]}`).to.include(m[0]);
      }
    }
  });

  // rate() and increase() need two samples in their window, and a scrape can be late or
  // missed: a window under 4 scrape intervals (Grafana's own floor for $__rate_interval) draws
  // gaps. Panels use $__rate_interval; rules and the README's examples write their windows.
  it('gives every counter window in rules and README examples at least 4 scrape intervals', () => {
    const prom = parse(readFileSync(join(projectRoot, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      global: { scrape_interval: string };
    };
    const seconds = (d: string) =>
      Number.parseInt(d, 10) * ({ s: 1, m: 60, h: 3600 }[d.replace(/^\d+/, '')] ?? Number.NaN);
    const floor = 4 * seconds(prom.global.scrape_interval);
    const { recording, alerts } = readRules();
    const exprs = [...recording, ...alerts].map((r) => r.expr).concat(docQueries());
    const windows = exprs.flatMap((e) =>
      [...e.matchAll(/\b(?:rate|increase|changes)\((?:[^()[]|\([^()]*\))*\[(\d+[smh])\]/g)].map(
        (m) => ({ expr: e, window: m[1] ?? '' }),
      ),
    );
    expect(windows.length).to.be.greaterThan(10);
    for (const { expr, window } of windows) {
      expect(seconds(window), `${window} in ${expr}`).to.be.at.least(floor);
    }
    for (const q of panelQueries()) {
      for (const m of q.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/\[([^\]]+)\]/g)) {
        expect(m[1], `${q.dashboard} / ${q.panel}`).to.be.oneOf(['$__rate_interval', '$__range']);
      }
    }
  });

  it('leaves no Grafana variable unresolved once substituted', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const values = allValues();
    for (const q of panelQueries()) {
      const expr = substituteGrafana(q.expr, times, values);
      expect(expr).not.to.include('$');
    }
    expect(
      substituteGrafana('rate(x{e=~"$endpoint"}[$__rate_interval])', times, { endpoint: '.*' }),
    ).to.equal('rate(x{e=~".*"}[60s])');
    expect(() => substituteGrafana('x{a="$nope"}', times, {})).to.throw(/\$nope/);
  });

  it('names the route of answers given before the app, which have none, wherever a legend shows routes', () => {
    const queries = panelQueries().filter((q) => q.legend.includes('{{http_route}}'));
    expect(new Set(queries.map((q) => q.panel))).to.include.members([
      'Request rate by route',
      'Errors by route',
      'Latency quantiles by route',
      'Average latency by route',
      'Latency p95 by route (1 m)',
    ]);
    const named = `, "http_route", "${BEFORE_THE_APP}", "http_route", "")`;
    for (const q of queries) {
      const ok = q.expr.startsWith('label_replace(') && q.expr.endsWith(named);
      expect(ok, `${q.dashboard} / ${q.panel}: ${q.expr}`).to.equal(true);
    }
  });

  it('every panel query is PromQL that promtool accepts, Grafana variables substituted', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const values = allValues();
    const rules = panelQueries().map((q, i) => ({
      record: `panel:query:${i}`,
      expr: substituteGrafana(q.expr, times, values),
    }));
    const out = promtool(['check', 'rules', 'panels.yml'], {
      'panels.yml': { groups: [{ name: 'panels', rules }] },
    });
    expect(out).to.include(`SUCCESS: ${rules.length} rules found`);
  });

  it('Prometheus shows the answers before the app as a route of that name', () => {
    const rate = panelQueries().find((q) => q.panel === 'Request rate by route');
    if (!rate) throw new Error('no Request rate by route panel');
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const expr = substituteGrafana(rate.expr, times, allValues());
    // One request a second on /chat, and one answer a second before the app (no http_route).
    const requests = `${PROM.httpDuration}_count`;
    const status = 'http_response_status_code';
    const out = queriesTest(
      [
        { series: `${requests}{http_route="/chat", ${status}="200"}`, values: '0+15x40' },
        { series: `${requests}{${status}="400"}`, values: '0+15x40' },
      ],
      [
        {
          expr,
          eval_time: '5m',
          exp_samples: [
            { labels: '{http_route="/chat"}', value: 1 },
            { labels: `{http_route="${BEFORE_THE_APP}"}`, value: 1 },
          ],
        },
      ],
    );
    expect(out).to.include('SUCCESS');
  });

  // A route template or operation name may hold a newline (setRoute, track). Prometheus 2's
  // regex `.` stops at one, 3's does not: `.*` (Route = All) and `/.*` left such a route out of
  // the per-route panels on 2.x and showed it on 3.
  it('shows a route whose name holds a newline on the per-route panels, as any route', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const expr = (panel: string) => {
      const q = panelQueries().find((p) => p.panel === panel);
      if (!q) throw new Error(`no ${panel} panel`);
      return substituteGrafana(q.expr, times, allValues());
    };
    const route = '/a\\nb';
    const op = `carbonscope_operation="${route}"`;
    const out = queriesTest(
      [
        { series: `${PROM.httpDuration}_count{http_route="${route}"}`, values: '0+15x40' },
        {
          series: `${PROM.operationEnergy}_sum{${op}, carbonscope_estimated="true"}`,
          values: '0+30x40',
        },
        {
          series: `${PROM.operationEnergy}_count{${op}, carbonscope_estimated="true"}`,
          values: '0+15x40',
        },
      ],
      [
        {
          expr: expr('Request rate by route'),
          eval_time: '5m',
          exp_samples: [{ labels: `{http_route="${route}"}`, value: 1 }],
        },
        {
          expr: expr('Energy per request by route'),
          eval_time: '5m',
          exp_samples: [{ labels: `{${op}}`, value: 2 }],
        },
      ],
    );
    expect(out).to.include('SUCCESS');
  });

  // Behind the Collector a stopped app's last values are exported on for metric_expiration
  // (5 min), frozen; an idle app has served no request, so it has no request series at all.
  it('counts the instances that run, not one stopped minutes ago, nor misses an idle one', () => {
    const q = panelQueries().find((p) => p.panel === 'Instances');
    if (!q) throw new Error('no Instances panel');
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const at = 'job="otel-collector", instance="otel-collector:8889"';
    const energy = (id: string) =>
      `${PROM.hostEnergy}{${at}, service_instance_id="${id}", hw_id="host", carbonscope_power_source="estimate"}`;
    const requests = (id: string) =>
      `${PROM.httpDuration}_count{${at}, service_instance_id="${id}", http_route="/healthz"}`;
    const out = queriesTest(
      [
        // "a" served requests and stopped at 10 min; "b", "c" and "d" run, "c" and "d" idle.
        { series: energy('a'), values: '0+5x40 200x20' },
        { series: requests('a'), values: '0+15x40 600x20' },
        { series: energy('b'), values: '0+5x60' },
        { series: requests('b'), values: '0+15x60' },
        { series: energy('c'), values: '0+5x60' },
        { series: energy('d'), values: '0+5x60' },
      ],
      [
        {
          expr: substituteGrafana(q.expr, times, allValues()),
          eval_time: '13m',
          exp_samples: [{ labels: '{}', value: 3 }],
        },
      ],
    );
    expect(out).to.include('SUCCESS');
  });

  // The gauges' panels add up the apps: one stopped minutes ago behind the Collector (its last
  // values exported on, frozen, for metric_expiration) must not count twice the app that
  // replaced it, as a restart would have it for 5 min.
  it('adds up the power and emission gauges of running apps only', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const query = (title: string) => {
      const q = panelQueries().find((p) => p.panel === title && p.refId === 'A');
      if (!q) throw new Error(`no ${title}`);
      return substituteGrafana(q.expr, times, allValues());
    };
    const at = (id: string) =>
      `job="otel-collector", instance="otel-collector:8889", service_instance_id="${id}"`;
    const cpu =
      'hw_type="cpu", hw_id="cpu", carbonscope_power_source="estimate", carbonscope_estimated="true"';
    const rate = 'carbonscope_scope="host", carbonscope_phase="usage", carbonscope_grid_zone="DE"';
    // "a" stopped at 10 min; "b" replaced it at 9 min. Energy: the counter of a running app.
    const app = (id: string, live: string) => [
      { series: `${PROM.hostEnergy}{${at(id)}, hw_id="host"}`, values: live },
      { series: `${PROM.power}{${at(id)}, ${cpu}}`, values: '40x60' },
      { series: `${PROM.emissionRate}{${at(id)}, ${rate}}`, values: '0.001x60' },
    ];
    const out = queriesTest(
      [...app('a', '0+5x40 200x20'), ...app('b', '_x36 0+5x24')],
      // Within 2 min of a's last push, as RUNNING_APPS says.
      ['12m', '13m'].flatMap((eval_time) => [
        {
          expr: query('Power by component and source'),
          eval_time,
          exp_samples: [{ labels: `{${cpu}}`, value: 40 }],
        },
        {
          expr: query('Emissions rate'),
          eval_time,
          exp_samples: [{ labels: `{${rate}}`, value: 0.001 }],
        },
      ]),
    );
    expect(out).to.include('SUCCESS');
  });

  // Every replica reports its whole host: two pods on one node counted the node twice. One of
  // each carbonscope_host is kept; an app where nothing names the host counts as its own.
  it('counts each host once, however many replicas on it report it', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const query = (title: string) => {
      const q = panelQueries().find((p) => p.panel === title && p.refId === 'A');
      if (!q) throw new Error(`no ${title}`);
      return substituteGrafana(q.expr, times, allValues());
    };
    const cpu =
      'hw_type="cpu", hw_id="cpu", carbonscope_power_source="estimate", carbonscope_estimated="true"';
    const app = (id: string, host: string | undefined) => {
      const at = `job="otel-collector", instance="otel-collector:8889", service_instance_id="${id}"${host ? `, ${HOST_LABEL}="${host}"` : ''}`;
      return [
        {
          series: `${PROM.hostEnergy}{${at}, hw_id="host", carbonscope_power_source="estimate"}`,
          values: '0+600x60',
        },
        { series: `${PROM.power}{${at}, ${cpu}}`, values: '40x60' },
      ];
    };
    const power = (apps: ReturnType<typeof app>[], watts: number) =>
      queriesTest(apps.flat(), [
        {
          expr: query('Power by component and source'),
          eval_time: '10m',
          exp_samples: [{ labels: `{${cpu}}`, value: watts }],
        },
        {
          expr: query('Energy use rate'),
          eval_time: '10m',
          exp_samples: [{ labels: '{carbonscope_power_source="estimate"}', value: watts }],
        },
      ]);
    expect(power([app('a', 'node-1'), app('b', 'node-1')], 40), 'one host').to.include('SUCCESS');
    expect(power([app('a', 'node-1'), app('b', 'node-2')], 80), 'two hosts').to.include('SUCCESS');
    expect(
      power([app('a', 'node-1'), app('b', 'node-1'), app('c', undefined)], 80),
      'unnamed',
    ).to.include('SUCCESS');
  });

  it("counts each host once in the README examples' sums of host series", () => {
    const examples = docQueries().filter((q) => q.includes(HOST_LABEL));
    expect(examples.length).to.be.at.least(5);
    const labels =
      'hw_type="cpu", hw_id="cpu", carbonscope_power_source="estimate", carbonscope_scope="host", carbonscope_grid_zone="DE"';
    // a and b on one node, c where nothing names the host: two hosts, 40 W (or 40 g/s) each.
    const app = (id: string, host: string) => {
      const at = `job="otel-collector", instance="otel-collector:8889", service_instance_id="${id}"${host ? `, ${HOST_LABEL}="${host}"` : ''}`;
      return [
        { series: `${PROM.hostEnergy}{${at}, ${labels}}`, values: '0+600x60' },
        ...[PROM.hostPower, PROM.power].map((g) => ({
          series: `${g}{${at}, ${labels}}`,
          values: '40x60',
        })),
        ...['usage', 'embodied'].map((phase) => ({
          series: `${PROM.emissionRate}{${at}, ${labels}, carbonscope_phase="${phase}"}`,
          values: '40x60',
        })),
      ];
    };
    const out = promtool(['test', 'rules', 'test.yml'], {
      'test.yml': {
        rule_files: [RULES_FILE],
        evaluation_interval: '15s',
        tests: [
          {
            interval: '15s',
            input_series: [...app('a', 'node-1'), ...app('b', 'node-1'), ...app('c', '')],
            promql_expr_test: examples.map((expr) => ({
              expr: `sum(${expr})`,
              eval_time: '10m',
              exp_samples: [{ labels: '{}', value: 80 }],
            })),
          },
        ],
      },
    });
    expect(out).to.include('SUCCESS');
  });

  // The OTel SDK pushes every 60 s unless told (OTEL_METRIC_EXPORT_INTERVAL), and the Collector
  // exports what it got last until the next push: Prometheus, scraping every 15 s, sees the
  // counter step once a minute, or 75 s apart when the Collector's batching (up to 5 s) puts a
  // push past a scrape. A running app must count at every scrape.
  it('counts an app behind the Collector at every scrape while it pushes every 60 s', () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const query = (title: string) => {
      const q = panelQueries().find((p) => p.panel === title && p.refId === 'A');
      if (!q) throw new Error(`no ${title}`);
      return substituteGrafana(q.expr, times, allValues());
    };
    const at = 'job="otel-collector", instance="otel-collector:8889", service_instance_id="a"';
    const cpu =
      'hw_type="cpu", hw_id="cpu", carbonscope_power_source="estimate", carbonscope_estimated="true"';
    // 20 pushes, each scraped 4 times; the tenth is seen a scrape late, 75 s after the ninth.
    const scrapesOf = (i: number) => (i === 9 ? 5 : i === 10 ? 3 : 4);
    const steps = Array.from({ length: 20 }, (_, i) =>
      Array(scrapesOf(i))
        .fill(i * 60)
        .join(' '),
    );
    const input = [
      { series: `${PROM.hostEnergy}{${at}, hw_id="host"}`, values: steps.join(' ') },
      { series: `${PROM.power}{${at}, ${cpu}}`, values: '40x80' },
    ];
    const evalTimes = ['10m', '10m15s', '10m30s', '10m45s'];
    const out = queriesTest(
      input,
      evalTimes.flatMap((eval_time) => [
        { expr: query('Instances'), eval_time, exp_samples: [{ labels: '{}', value: 1 }] },
        {
          expr: query('Power by component and source'),
          eval_time,
          exp_samples: [{ labels: `{${cpu}}`, value: 40 }],
        },
      ]),
    );
    expect(out).to.include('SUCCESS');
  });

  // The panels of running apps computed the test twice per query (each host's part, then the
  // rest), and NoDataFromApp read 6 h of every host energy series at each evaluation: each
  // reads the recording rule instead, which Prometheus evaluates once for all of them.
  it('takes the running apps from their recording rule in every panel and alert', () => {
    const rule = 'instance_service_instance_id:hw_host_energy_joules_total:moved_2m';
    const energy = PROM.hostEnergy;
    const { alerts } = readRules();
    const readers = [
      ...panelQueries().map((q) => ({ name: `${q.panel} (${q.refId})`, expr: q.expr })),
      ...alerts.map((a) => ({ name: a.alert, expr: a.expr })),
    ];
    for (const { name, expr } of readers) {
      expect(expr, name).not.to.include(`changes(${energy}`);
      expect(expr, name).not.to.match(new RegExp(`${energy}(\\{[^}]*\\})?\\[6h\\]`));
    }
    const readingRule = readers.filter((r) => r.expr.includes(rule)).map((r) => r.name);
    expect(readingRule).to.include.members([
      'Instances (A)',
      'Power by component and source (A)',
      'Power by component and source (B)',
      'Emissions rate (A)',
      'EmissionsAboveBudget',
      'NoDataFromApp',
    ]);
  });

  // The panels, the alerts and the README's examples take the running apps from a recording
  // rule, whose expression is written once, in tools/dashboards.
  it('records the running apps for the panels, the alerts and the README', () => {
    const rule = readRules().recording.find(
      (r) => r.record === 'instance_service_instance_id:hw_host_energy_joules_total:moved_2m',
    );
    expect(rule?.expr.trim()).to.equal(RUNNING_APPS_EXPR);
  });

  // The README's sums of gauges over apps: behind the Collector a stopped app's last values
  // are exported on, frozen, for 5 min, and counted twice the app that replaced it.
  it("adds up the README examples' gauges of running apps only", () => {
    const gauges = [PROM.hostPower, PROM.power, PROM.processPower, PROM.emissionRate];
    const examples = docQueries().filter(
      (q) => q.startsWith('sum') && gauges.some((g) => metricNamesIn(q).includes(g)),
    );
    expect(examples.length).to.be.at.least(4);
    const at = (id: string) =>
      `job="otel-collector", instance="otel-collector:8889", service_instance_id="${id}"`;
    const labels =
      'hw_type="cpu", hw_id="cpu", carbonscope_scope="host", carbonscope_grid_zone="DE"';
    // "a" stopped at 10 min (exported on, frozen, until 15 min); "b" replaced it at 9 min.
    const app = (id: string, live: string, gaugeValues: string) => [
      { series: `${PROM.hostEnergy}{${at(id)}, hw_id="host"}`, values: live },
      ...[PROM.hostPower, PROM.power, PROM.processPower].map((g) => ({
        series: `${g}{${at(id)}, ${labels}}`,
        values: gaugeValues,
      })),
      ...['usage', 'embodied'].map((phase) => ({
        series: `${PROM.emissionRate}{${at(id)}, ${labels}, carbonscope_phase="${phase}"}`,
        values: gaugeValues,
      })),
    ];
    const out = promtool(['test', 'rules', 'test.yml'], {
      'test.yml': {
        rule_files: [RULES_FILE],
        evaluation_interval: '15s',
        tests: [
          {
            interval: '15s',
            input_series: [
              ...app('a', '0+5x40 200x20', '1x60'),
              ...app('b', '_x36 0+5x24', '_x36 1x24'),
            ],
            promql_expr_test: ['12m', '13m'].flatMap((eval_time) =>
              examples.map((expr) => ({
                expr: `sum(${expr})`,
                eval_time,
                exp_samples: [{ labels: '{}', value: 1 }],
              })),
            ),
          },
        ],
      },
    });
    expect(out).to.include('SUCCESS');
  });

  // A push is seen at the first scrape at least 5 s (the Collector's batch) after it.
  const pushedEvery = (seconds: number, delays: number[]) => {
    const seen = Array.from(
      { length: 20 },
      (_, i) => i * seconds + (delays[i % delays.length] ?? 0),
    );
    return Array.from({ length: 100 }, (_, k) => seen.filter((t) => t <= 15 * k).length).join(' ');
  };
  const runningAt = (values: string, evalTimes: string[], value: number | undefined) => {
    const at = 'job="otel-collector", instance="otel-collector:8889", service_instance_id="a"';
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const expr = substituteGrafana(`count(${RUNNING_APPS})`, times, {});
    return queriesTest(
      [{ series: `${PROM.hostEnergy}{${at}, hw_id="host"}`, values }],
      evalTimes.map((eval_time) => ({
        expr,
        eval_time,
        exp_samples: value === undefined ? [] : [{ labels: '{}', value }],
      })),
    );
  };

  it(`sees an app that pushes every ${RUNNING_APPS_MAX_PUSH_SECONDS} s at every scrape, the limit the README states`, () => {
    // At each scrape and just before the next: Grafana's steps fall between scrapes.
    const evalTimes = Array.from({ length: 41 }, (_, k) => [
      `${300 + 15 * k}s`,
      `${314 + 15 * k}s`,
    ]).flat();
    const values = pushedEvery(RUNNING_APPS_MAX_PUSH_SECONDS, [5, 0, 5, 1]);
    expect(runningAt(values, evalTimes, 1)).to.include('SUCCESS');
    // Past the limit, between two pushes 150 s apart (at 300 s and 450 s), the app is gone.
    expect(runningAt(pushedEvery(150, [0]), ['435s'], undefined)).to.include('SUCCESS');
  });

  it("Prometheus draws the bundled mock's LLM figures apart from the providers', as their own band", () => {
    const times = { scrapeIntervalSeconds: 15, intervalSeconds: 15, rangeSeconds: 900 };
    const model = 'gen_ai_request_model="gpt-4o"';
    const energy = `${PROM.llmEnergy}{${model}, carbonscope_phase="usage", carbonscope_estimated="true"`;
    const tokens = `${PROM.llmTokens}_sum{${model}, gen_ai_token_type="output"`;
    // A provider's series carry no carbonscope_mock; the mock's carry "true". J/s and tokens/s:
    // 2 and 20 from the provider, 5 and 50 from the mock.
    const input_series = [
      { series: `${energy}, carbonscope_bound="min"}`, values: '0+30x40' },
      { series: `${energy}, carbonscope_bound="min", carbonscope_mock="true"}`, values: '0+75x40' },
      { series: `${tokens}}`, values: '0+300x40' },
      { series: `${tokens}, carbonscope_mock="true"}`, values: '0+750x40' },
    ];
    const query = (title: string, refId: string) => {
      const q = panelQueries().find((p) => p.panel === title && p.refId === refId);
      if (!q) throw new Error(`no ${title} / ${refId}`);
      return substituteGrafana(q.expr, times, allValues());
    };
    const out = queriesTest(input_series, [
      {
        expr: query('LLM energy rate (min–max)', 'A'),
        eval_time: '5m',
        exp_samples: [
          { labels: '{answered_by="provider"}', value: 2 },
          { labels: '{answered_by="mock", carbonscope_mock="true"}', value: 5 },
        ],
      },
      {
        expr: query('LLM token rate', 'A'),
        eval_time: '5m',
        exp_samples: [
          {
            labels: `{answered_by="provider", ${model}, gen_ai_token_type="output"}`,
            value: 20,
          },
          {
            labels: `{answered_by="mock", carbonscope_mock="true", ${model}, gen_ai_token_type="output"}`,
            value: 50,
          },
        ],
      },
    ]);
    expect(out).to.include('SUCCESS');
    // Each band's shading joins the series its legends name: the providers' and the mock's.
    for (const title of ['LLM energy rate (min–max)', 'LLM GWP rate (min–max)']) {
      const p = carbonDashboard.panels.find((q) => q.title === title);
      expect(
        p?.queries.map((q) => q.legend),
        title,
      ).to.deep.equal(['{{answered_by}} min', '{{answered_by}} max']);
      const shaded = (p?.overrides ?? []).map((o) => o.name).sort();
      expect(shaded, title).to.deep.equal(['mock max', 'mock min', 'provider max', 'provider min']);
    }
  });

  // A ratio of rates is 0/0, NaN, over a window in which nothing counted: a route not asked
  // for a minute, an idle app, one stopped behind the Collector (exported on, frozen); so is
  // histogram_quantile of buckets whose rates are all 0. Grafana shows a stat's NaN as "NaN"
  // and a legend's mean of it as NaN; a guarded query has no sample.
  const quiet = [
    {
      what: 'divides by no rate that can be zero',
      // Any `/` operator, spaced or not (`a/b`, `a /b`).
      pattern: /\//,
      some: ['Server errors (A)', 'SCI per request (A)', 'Energy per request by route (A)'],
    },
    {
      what: 'gives no quantile of buckets that did not move',
      pattern: /histogram_quantile/,
      some: [
        'Latency p95 (A)',
        'Inference latency (B)',
        'http_route:http_server_request_duration_seconds:p95_1m',
      ],
    },
  ];
  for (const { what, pattern, some } of quiet) {
    it(`${what}: a quiet window gives no sample, never NaN`, () => {
      const queries = queriesMatching(pattern);
      expect(queries.map((q) => q.name)).to.include.members(some);
      expect(givingNaNWhenQuiet(queries)).to.deep.equal([]);
    });
  }

  it('finds the labels of a legend and the metric and label of each variable', () => {
    expect(legendLabels('p95 {{http_route}} ({{ answered_by }})')).to.deep.equal([
      'http_route',
      'answered_by',
    ]);
    expect(variableQueries().map((v) => [v.name, v.metric, v.label])).to.deep.equal([
      ['route', `${PROM.httpDuration}_count`, 'http_route'],
    ]);
  });

  it('finds the metric names of a PromQL expression', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{http_route=~"/a|b"}[5m]))) / on (x) http_route:http_server_request_duration_seconds_count:rate1m',
      ),
    ).to.deep.equal(['http_server_request_duration_seconds']);
  });
});
