import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { RULES_FILE } from '../../helpers/stack.js';

interface Alert {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function alertRule(name: string): Alert {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Alert[] }> };
  const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === name);
  if (!rule) throw new Error(`no alert ${name} in ${RULES_FILE}`);
  return rule;
}

/** The alert_rule_test entry of `rule`: the alerts expected of it at `evalTime`. */
const alertsAt = (rule: Alert) => (evalTime: string, alerts: unknown[]) => ({
  eval_time: evalTime,
  alertname: rule.alert,
  exp_alerts: alerts,
});

/** promtool test rules on rules.yml with `test`; its output, or what it said failing. */
function promtoolTest(test: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'carbonscope-alerts-'));
  try {
    const file = join(dir, 'test.yml');
    writeFileSync(
      file,
      stringify({ rule_files: [RULES_FILE], evaluation_interval: '15s', tests: [test] }),
    );
    return execFileSync('promtool', ['test', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${stdout ?? ''}${stderr ?? ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Series as Prometheus scrapes them every 15 s (the compose stack's interval); the app stops
// at 10 min. Through the Collector its last values are exported on for metric_expiration
// (5 min, otel-collector/config.yaml); a direct scrape of /metrics finds nothing at once.
const MOVING = '0+1x40'; // 0 to 10 min, a new value at every scrape
const PATHS = {
  'through the Collector': `${MOVING} 40x20 _x60`,
  'on a direct scrape of /metrics': `${MOVING} _x80`,
};
const APP_SERIES = [
  'hw_host_energy_joules_total{hw_id="host", carbonscope_power_source="estimate"}',
  'http_server_request_duration_seconds_count{http_route="/healthz"}',
];

describe('stack: when NoDataFromApp fires (promtool test rules)', () => {
  const rule = alertRule('NoDataFromApp');
  const firing = [{ exp_labels: rule.labels, exp_annotations: rule.annotations }];
  const at = alertsAt(rule);

  for (const [path, values] of Object.entries(PATHS)) {
    // Behind the Collector it fired at 21 min, 11 min after the app stopped, not 5 or 6.
    it(`fires 6 min after the app stops, ${path}, and stays firing`, () => {
      const out = promtoolTest({
        interval: '15s',
        input_series: APP_SERIES.map((series) => ({ series, values })),
        alert_rule_test: [
          at('10m', []),
          at('15m30s', []),
          at('16m', firing),
          // Past the Collector's expiration and after: the alert does not blink.
          at('20m15s', firing),
          at('30m', firing),
        ],
      });
      expect(out).to.include('SUCCESS');
    });
  }

  // Behind one Collector services differ only by service_name (a direct scrape: by job). One
  // that went silent was hidden while another still reported: the rule summed over them.
  const service = (name: string, id: string) =>
    `hw_host_energy_joules_total{job="otel-collector", service_name="${name}", service_instance_id="${id}", hw_id="host", carbonscope_power_source="estimate"}`;

  it('fires for one service that stops while another still reports', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: service('api', 'a'), values: PATHS['through the Collector'] },
        { series: service('worker', 'w'), values: '0+1x160' },
      ],
      alert_rule_test: [
        at('15m30s', []),
        at('16m', [
          {
            exp_labels: { ...rule.labels, job: 'otel-collector', service_name: 'api' },
            exp_annotations: rule.annotations,
          },
        ]),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet over a rolling restart and for a service that has just started', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // a stops at 10 min (frozen behind the Collector), b replaces it at once.
        { series: service('api', 'a'), values: PATHS['through the Collector'] },
        { series: service('api', 'b'), values: '_x40 0+1x80' },
        // A new service whose second push comes 90 s after its first (the SDK's 60 s plus a
        // late batch) is not silent: it has not been seen for 5 min yet.
        { series: service('worker', 'w'), values: '_x60 0x6 1+1x60' },
      ],
      alert_rule_test: [at('12m', []), at('16m', []), at('20m', []), at('25m', [])],
    });
    expect(out).to.include('SUCCESS');
  });

  // Read from the running apps alone, a service seen but never moving was no silent service,
  // and a stack whose first app had not moved yet (pushes 60 s apart) was a stack without data.
  it('fires for a service whose counter never moved, beside one that runs', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: service('api', 'a'), values: '0+1x40' },
        { series: service('worker', 'w'), values: '5x40' },
      ],
      alert_rule_test: [
        at('6m15s', [
          {
            exp_labels: { ...rule.labels, job: 'otel-collector', service_name: 'worker' },
            exp_annotations: rule.annotations,
          },
        ]),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it("stays quiet on a new stack whose app's second push comes 60 s after its first", () => {
    const out = promtoolTest({
      interval: '15s',
      // Seen from 45 s; the SDK's default interval moves the counter at 1m45s.
      input_series: [{ series: service('api', 'a'), values: '_x3 0x4 1x4 2x4 3x4 4x4' }],
      alert_rule_test: [at('1m', []), at('1m30s', []), at('2m', [])],
    });
    expect(out).to.include('SUCCESS');
  });

  it('fires for a stack where no app ever reported', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [{ series: 'up{job="otel-collector"}', values: '1x40' }],
      alert_rule_test: [at('30s', []), at('1m', firing)],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet while the app runs, however idle (no requests at all)', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [{ series: APP_SERIES[0], values: '0+1x120' }],
      alert_rule_test: [at('20m', []), at('30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});

// The gauge as the service exports it per zone: its source is a label, so a switch ends one
// series and starts another. Electricity Maps for 30 min, then the annual average (an outage
// past GRID_STALE_MAX_AGE_SECONDS, or a revoked key), 15 s apart.
const LIVE =
  'carbonscope_grid_carbon_intensity{carbonscope_grid_zone="DE", carbonscope_grid_source="electricity-maps"}';
const AVERAGE =
  'carbonscope_grid_carbon_intensity{carbonscope_grid_zone="DE", carbonscope_grid_source="annual-average"}';

describe('stack: when GridIntensityDegradedToFallback fires (promtool test rules)', () => {
  const rule = alertRule('GridIntensityDegradedToFallback');
  const labels = {
    ...rule.labels,
    carbonscope_grid_zone: 'DE',
    carbonscope_grid_source: 'annual-average',
  };
  const annotations = {
    summary: 'Grid intensity for DE fell back to annual-average',
    description: (rule.annotations.description ?? '').replace(
      '{{ $labels.carbonscope_grid_source }}',
      'annual-average',
    ),
  };
  const at = alertsAt(rule);

  it('fires 15 min after live values give way to the average, until 6 h after the last live one', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: LIVE, values: '320x119 _x1600' },
        { series: AVERAGE, values: '_x120 342x1600' },
      ],
      alert_rule_test: [
        at('29m', []),
        at('44m45s', []),
        at('45m15s', [{ exp_labels: labels, exp_annotations: annotations }]),
        at('6h', [{ exp_labels: labels, exp_annotations: annotations }]),
        // The last live value is 6 h old: nothing says the zone ever had better.
        at('6h50m', []),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet for a stack on the average from the start (no API key)', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [{ series: AVERAGE, values: '342x400' }],
      alert_rule_test: [at('30m', []), at('1h30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});

// hw_host_power_watts as Prometheus stores it, every 15 s. Behind the Collector every replica
// has the scrape's job and instance and its own service_instance_id, a new one at each start; a
// direct scrape names a replica by its instance (on Kubernetes, the pod's address: new at each
// start too). RAPL gives 40 W; the estimate 25 W; a source given up stays at 0 W.
const COLLECTOR = 'job="otel-collector", instance="otel-collector:8889"';
/** A replica of `service` behind the Collector, told apart by its service.instance.id. */
const replica = (service: string, id: string) =>
  `${COLLECTOR}, service_name="${service}", service_instance_id="${id}"`;
const hostPower = (identity: string, source: 'rapl' | 'estimate') =>
  `hw_host_power_watts{${identity}, hw_id="host", carbonscope_power_source="${source}", carbonscope_estimated="${source === 'estimate'}"}`;

describe('stack: when MeterOnEstimateWhenRaplExpected fires (promtool test rules)', () => {
  const rule = alertRule('MeterOnEstimateWhenRaplExpected');
  const at = alertsAt(rule);
  const firing = (labels: Record<string, string>) => [
    { exp_labels: { ...rule.labels, ...labels }, exp_annotations: rule.annotations },
  ];

  it('fires 5 min after RAPL gives way to the estimate in a running replica', () => {
    const id = `${COLLECTOR}, service_instance_id="a"`;
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: hostPower(id, 'rapl'), values: '40x119 0x200' },
        { series: hostPower(id, 'estimate'), values: '_x120 25x200' },
      ],
      alert_rule_test: [
        at('29m', []),
        at('34m45s', []),
        at(
          '35m15s',
          firing({
            job: 'otel-collector',
            instance: 'otel-collector:8889',
            service_instance_id: 'a',
          }),
        ),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  // The README's case: a reboot makes energy_uj root-only again, and the app, started anew at
  // 30 min, has a new service_instance_id (a new pod address on a direct scrape). Through the
  // Collector the old replica's last RAPL value is exported on for metric_expiration (5 min).
  // Grouped by replica only, this never fired: no replica had both series.
  it('fires when a restarted app finds RAPL unreadable, though its identity is new', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // Exported until 34m45s; when the Collector drops it, the next scrape marks it stale.
        {
          series: hostPower(`${COLLECTOR}, service_instance_id="a"`, 'rapl'),
          values: '40x139 stale',
        },
        {
          series: hostPower(`${COLLECTOR}, service_instance_id="b"`, 'estimate'),
          values: '_x121 25x400',
        },
      ],
      alert_rule_test: [
        // No RAPL reading from 35m; then the `for`.
        at('39m45s', []),
        at('40m15s', firing({ job: 'otel-collector' })),
        at('2h', firing({ job: 'otel-collector' })),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet for a replica that never had RAPL while another replica reads it', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: hostPower(`${COLLECTOR}, service_instance_id="a"`, 'rapl'), values: '40x400' },
        {
          series: hostPower(`${COLLECTOR}, service_instance_id="b"`, 'estimate'),
          values: '25x400',
        },
      ],
      alert_rule_test: [at('30m', []), at('1h30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});

// Behind one Collector every service shares the scrape's job and instance: only service_name
// (the Collector's exported_job) tells two services apart. `stale` is the marker Prometheus
// writes when the Collector stops exporting a series (metric_expiration, 5 min after the stop).
describe('stack: MeterOnEstimateWhenRaplExpected with two services behind one Collector', () => {
  const rule = alertRule('MeterOnEstimateWhenRaplExpected');
  const at = alertsAt(rule);

  it('stays quiet for a service that never had RAPL when another service stops', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // api reads RAPL on its host; it stops at 30 min (exported on until 35 min).
        { series: hostPower(replica('api', 'a'), 'rapl'), values: '40x139 stale' },
        // worker runs on a host without RAPL all along.
        { series: hostPower(replica('worker', 'w'), 'estimate'), values: '25x400' },
      ],
      alert_rule_test: [at('45m', []), at('1h30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet when a service restarts and reads RAPL again, or the Collector restarts', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // The Collector restarts at 20 min: every series is gone for a minute, then back.
        { series: hostPower(replica('api', 'a'), 'rapl'), values: '40x79 stale _x3 40x39 stale' },
        { series: hostPower(replica('api', 'b'), 'rapl'), values: '_x121 40x400' },
        { series: hostPower(replica('worker', 'w'), 'estimate'), values: '25x79 stale _x3 25x400' },
      ],
      alert_rule_test: [at('25m', []), at('45m', []), at('1h30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });

  it("fires for a restarted service whose RAPL is gone though another service's is read", () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: hostPower(replica('api', 'a'), 'rapl'), values: '40x400' },
        // worker read RAPL until its host rebooted at 30 min; started anew, it estimates.
        { series: hostPower(replica('worker', 'w1'), 'rapl'), values: '40x139 stale' },
        { series: hostPower(replica('worker', 'w2'), 'estimate'), values: '_x121 25x400' },
      ],
      alert_rule_test: [
        at('30m', []),
        at('45m', [
          {
            exp_labels: { ...rule.labels, job: 'otel-collector', service_name: 'worker' },
            exp_annotations: rule.annotations,
          },
        ]),
      ],
    });
    expect(out).to.include('SUCCESS');
  });
});

// Each replica's usage emission rate (gauge) and host energy counter, as Prometheus scrapes them
// from the Collector every 15 s: a stopped replica's last values are exported on, frozen, for
// metric_expiration (5 min).
describe('stack: when EmissionsAboveBudget fires (promtool test rules)', () => {
  const rule = alertRule('EmissionsAboveBudget');
  const at = alertsAt(rule);
  const replica = (service: string, id: string, gramsPerSecond: number, from = 0, runs = 400) => {
    const labels = `${COLLECTOR}, service_name="${service}", service_instance_id="${id}"`;
    const before = from > 0 ? `_x${from} ` : '';
    return [
      {
        series: `hw_host_energy_joules_total{${labels}, hw_id="host", carbonscope_power_source="estimate"}`,
        values: `${before}0+1x${runs - 1} ${runs - 1}x19`,
      },
      {
        series: `carbonscope_emission_rate_grams_per_second{${labels}, carbonscope_scope="process", carbonscope_phase="usage", carbonscope_grid_zone="DE", carbonscope_estimated="true"}`,
        values: `${before}${gramsPerSecond}x${runs + 19}`,
      },
    ];
  };

  it('fires for a service over the budget for 10 min, with its name', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: replica('api', 'a', 0.0015),
      alert_rule_test: [
        at('10m', []),
        at('11m', [
          {
            exp_labels: { ...rule.labels, job: 'otel-collector', service_name: 'api' },
            exp_annotations: {
              ...rule.annotations,
              description: (rule.annotations.description ?? '').replace(
                '{{ $value | humanize }}',
                '1.5m',
              ),
            },
          },
        ]),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  // A crash loop: each replica runs 4 min and is replaced; behind the Collector the one
  // before is exported on for 5 min, so the sum counted two replicas at all times.
  it('does not add up replicas that stopped, whose last values the Collector exports on', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [0, 1, 2, 3, 4, 5, 6].flatMap((i) =>
        replica('api', `r${i}`, 0.0007, 16 * i, 16),
      ),
      alert_rule_test: [at('20m', []), at('26m', [])],
    });
    expect(out).to.include('SUCCESS');
  });

  it('takes each service behind one Collector against the budget on its own', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [...replica('api', 'a', 0.0007), ...replica('worker', 'w', 0.0007)],
      alert_rule_test: [at('20m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});

/** `text` with each `{{ $labels.NAME }}` replaced as Prometheus renders it for `labels`. */
const rendered = (text: string | undefined, labels: Record<string, string>) =>
  (text ?? '').replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '');

// A component whose energy goes unread (an nvidia-smi that died, a RAPL zone left unreadable):
// each sample (1 s) is a `partial` interval, 15 between two scrapes. The counter arrives at 0
// with the source's first reading, so increase() sees its first step.
const partialSeries = (replica: string, host = 'h1') =>
  `carbonscope_energy_partial_total{${COLLECTOR}, service_name="api", service_instance_id="${replica}", carbonscope_host="${host}", hw_type="gpu", hw_id="gpu", carbonscope_power_source="nvidia-smi", carbonscope_estimated="false"}`;

describe('stack: when EnergyPartiallyUnread fires (promtool test rules)', () => {
  const rule = alertRule('EnergyPartiallyUnread');
  const at = alertsAt(rule);
  const gpuOf = (host: string) => {
    const labels = {
      ...rule.labels,
      job: 'otel-collector',
      service_name: 'api',
      carbonscope_host: host,
      hw_type: 'gpu',
      hw_id: 'gpu',
      carbonscope_power_source: 'nvidia-smi',
    };
    const annotations = Object.fromEntries(
      Object.entries(rule.annotations).map(([k, v]) => [k, rendered(v, labels)]),
    );
    return [{ exp_labels: labels, exp_annotations: annotations }];
  };
  // Read for 10 min, unread for 20 min from 10m15s, read again from 30m30s.
  const failing = '0x40 15+15x80 1215x80';

  // Before this rule nothing fired: the counter climbed every second for 20 min, and the one
  // warning line was the only word of it.
  it('fires 10 min after a GPU stops being read, once per host, and clears once it reads again', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // Two replicas on one host report the same host component: one alert, not two.
        { series: partialSeries('a'), values: failing },
        { series: partialSeries('b'), values: failing },
        { series: partialSeries('c', 'h2'), values: '0x160' },
      ],
      alert_rule_test: [
        at('10m', []),
        at('20m', []),
        at('20m30s', gpuOf('h1')),
        at('30m', gpuOf('h1')),
        at('36m', []),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  // A RAPL zone unreadable for a few seconds (a chmod, a hotplug) is one warning and its return,
  // no page.
  it('stays quiet for a short gap, and for a counter frozen behind the Collector', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: partialSeries('a'), values: '0x40 3 5x120' },
        { series: partialSeries('b'), values: '0x40 40x19 stale' },
      ],
      alert_rule_test: [at('11m', []), at('16m', []), at('21m', []), at('40m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});

// carbonscope_operation_dropped_total as Prometheus stores it, every 15 s: a series appears with
// its operation's first drop (at 1, never at 0), so its first step is one increase() does not
// see.
const droppedSeries = (identity: string, operation: string, reason = 'age') =>
  `carbonscope_operation_dropped_total{${identity}, carbonscope_operation="${operation}", carbonscope_operation_kind="request", carbonscope_drop_reason="${reason}"}`;

describe('stack: when OperationsDropped fires (promtool test rules)', () => {
  const rule = alertRule('OperationsDropped');
  const at = alertsAt(rule);
  const dropOf = (operation: string, identity: Record<string, string>, reason = 'age') => {
    const labels = {
      ...rule.labels,
      ...identity,
      carbonscope_operation: operation,
      carbonscope_operation_kind: 'request',
      carbonscope_drop_reason: reason,
    };
    const annotations = Object.fromEntries(
      Object.entries(rule.annotations).map(([k, v]) => [k, rendered(v, labels)]),
    );
    return { exp_labels: labels, exp_annotations: annotations };
  };
  const api = { job: 'otel-collector', service_name: 'api' };

  // Before this rule the README said to alert on the counter and the stack shipped nothing: a
  // leak of never-ended requests was one warning line per name.
  it('fires at the first drop, once per service and operation, until an hour after the last', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        // Two replicas of api drop GET /events from 10 min, a: once more at 20 min.
        { series: droppedSeries(replica('api', 'a'), 'GET /events'), values: '_x40 1x40 2x360' },
        { series: droppedSeries(replica('api', 'b'), 'GET /events'), values: '_x40 1x400' },
        // worker dropped one before these 2 h and none since. Prometheus holds no sample of it
        // before 0 (as one just started): new to it, it fires for the first hour, then no more.
        { series: droppedSeries(replica('worker', 'w'), 'nightly'), values: '1x500' },
      ],
      alert_rule_test: [
        at('9m45s', [dropOf('nightly', { job: 'otel-collector', service_name: 'worker' })]),
        at('70m', [dropOf('GET /events', api)]),
        at('79m', [dropOf('GET /events', api)]),
        at('82m', []),
        at('120m', []),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it('fires at once for a drop as the service starts, and again after a restart on a direct scrape', () => {
    // A direct scrape names the replica by its address, the same after a restart: the counter
    // starts again from its first drop, a reset increase() counts.
    const direct = 'job="carbonscope", instance="10.0.0.7:3000"';
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: droppedSeries(direct, '/export', 'running'), values: '2x320 1x100' },
      ],
      alert_rule_test: [
        at('0m', [dropOf('/export', { job: 'carbonscope' }, 'running')]),
        at('59m', [dropOf('/export', { job: 'carbonscope' }, 'running')]),
        at('70m', []),
        at('80m15s', [dropOf('/export', { job: 'carbonscope' }, 'running')]),
      ],
    });
    expect(out).to.include('SUCCESS');
  });

  it('stays quiet for a service that drops nothing', () => {
    const out = promtoolTest({
      interval: '15s',
      input_series: [
        { series: 'hw_host_energy_joules_total{job="carbonscope"}', values: '0+1x200' },
      ],
      alert_rule_test: [at('0m', []), at('30m', [])],
    });
    expect(out).to.include('SUCCESS');
  });
});
