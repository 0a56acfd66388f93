import {
  band,
  DASHED,
  type DashboardSpec,
  type PanelSpec,
  si,
  suffix,
  type Unit,
} from './grafana.js';
import { ofRunningApps, PROM, perRate, sumOfHosts } from './names.js';

const RI = '$__rate_interval';
/**
 * Requests are operations named by their route template, which starts with a slash. `(?s:.*)`,
 * not `.*`: Prometheus 2's `.` stops at a newline (3's does not), which left a route holding
 * one out on 2.x only.
 */
const REQUESTS = 'carbonscope_operation=~"/(?s:.*)"';

/** The operational (usage) and embodied phases of the emissions histogram. */
const USAGE = 'carbonscope_phase="usage"';
const EMBODIED = 'carbonscope_phase="embodied"';

/** Mean of a histogram per operation over the window: rate of _sum over rate of _count. */
function meanPerOperation(histogram: string, selector: string): string {
  return perRate(
    `sum by (carbonscope_operation) (rate(${histogram}_sum{${selector}}[${RI}]))`,
    `sum by (carbonscope_operation) (rate(${histogram}_count{${selector}}[${RI}]))`,
  );
}

/**
 * SCI per operation, (E × I + M) / R: both phases' grams over the operations counted once (by
 * the usage phase's _count). An expression over the histogram, not a series of its own.
 */
function sciPerOperation(selector: string): string {
  return perRate(
    `sum by (carbonscope_operation) (rate(${PROM.operationEmissions}_sum{${selector}}[${RI}]))`,
    `sum by (carbonscope_operation) (rate(${PROM.operationEmissions}_count{${selector}, ${USAGE}}[${RI}]))`,
  );
}

/**
 * `answered_by` on an LLM series grouped by `carbonscope_mock`: `mock` where the bundled mock
 * answered (no model ran: a demonstration), `provider` on the rest, which have no such label. A
 * legend needs a label on every series: Grafana shows a missing one as its name.
 */
function byAnswerer(expr: string): string {
  const mock = `label_replace(${expr}, "answered_by", "mock", "carbonscope_mock", "true")`;
  return `label_replace(${mock}, "answered_by", "provider", "carbonscope_mock", "")`;
}

/**
 * One LLM impact criterion as a min/max band. EcoLogits gives ranges, not points: the truth is
 * somewhere between the two lines, and the shaded width is the uncertainty. The bundled mock's
 * figures are a band of their own, dashed, never added to the providers'.
 */
function llmBand(title: string, counter: string, unit: Unit, description: string): PanelSpec {
  const bound = (b: string) =>
    byAnswerer(`sum by (carbonscope_mock) (rate(${counter}{carbonscope_bound="${b}"}[${RI}]))`);
  return {
    type: 'timeseries',
    title,
    description: `${description} The bundled mock LLM's figures (carbonscope_mock="true": no model ran, what the named model would have cost) are the dashed "mock" band, apart from the providers'.`,
    unit,
    width: 8,
    overrides: [...band('provider min', 'provider max'), ...band('mock min', 'mock max', [DASHED])],
    queries: [
      { expr: bound('min'), legend: '{{answered_by}} min' },
      { expr: bound('max'), legend: '{{answered_by}} max' },
    ],
  };
}

/** "Carbon": power, energy and emissions of the service, and what they are made of. */
export const carbonDashboard: DashboardSpec = {
  uid: 'carbonscope-carbon',
  title: 'carbonscope · Carbon',
  description:
    'Power by component and source, energy, emissions, grid intensity with its source, energy per request, inference and LLM impacts. carbonscope_estimated="true" marks what a model gave, not a meter; carbonscope_mock="true" the LLM figures of the bundled mock, where no model ran.',
  tags: ['carbonscope'],
  variables: [],
  panels: [
    {
      type: 'stat',
      title: 'Energy in the time range',
      description: `increase over the dashboard time range of ${PROM.hostEnergy} (the host) and ${PROM.processEnergy} (this service's processes).`,
      unit: 'joule',
      width: 8,
      queries: [
        {
          expr: sumOfHosts('', PROM.hostEnergy, (s) => `increase(${s}[$__range])`),
          legend: 'host',
        },
        { expr: `sum(increase(${PROM.processEnergy}[$__range]))`, legend: 'process' },
      ],
    },
    {
      type: 'stat',
      title: 'Emissions in the time range',
      description: `increase(${PROM.emissions}) over the dashboard time range, gCO2e: usage (energy × PUE × grid intensity) and embodied (the hardware's manufacturing emissions, amortised; estimated).`,
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: sumOfHosts(
            'carbonscope_scope, carbonscope_phase',
            PROM.emissions,
            (s) => `increase(${s}[$__range])`,
          ),
          legend: '{{carbonscope_scope}} {{carbonscope_phase}}',
        },
      ],
    },
    {
      type: 'stat',
      title: 'SCI per request',
      description:
        'Software Carbon Intensity of one HTTP request over the window, every route: (E × I + M) / R in gCO2e, R the requests. M is estimated. No value while no request came.',
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: perRate(
            `sum(rate(${PROM.operationEmissions}_sum{${REQUESTS}}[${RI}]))`,
            `sum(rate(${PROM.operationEmissions}_count{${REQUESTS}, ${USAGE}}[${RI}]))`,
          ),
          legend: 'g/request',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Power by component and source',
      description: `${PROM.power} (host components) and ${PROM.processPower} (the process's share): average power over the latest sample, of the apps that run now. carbonscope_estimated="true" is a model, not a measurement.`,
      unit: 'watt',
      queries: [
        {
          expr: sumOfHosts(
            'hw_type, hw_id, carbonscope_power_source, carbonscope_estimated',
            PROM.power,
            ofRunningApps,
          ),
          legend:
            'host {{hw_id}} ({{carbonscope_power_source}}, estimated={{carbonscope_estimated}})',
        },
        {
          expr: `sum by (hw_type, hw_id, carbonscope_power_source, carbonscope_estimated) ${ofRunningApps(PROM.processPower)}`,
          legend:
            'process {{hw_id}} ({{carbonscope_power_source}}, estimated={{carbonscope_estimated}})',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Energy use rate',
      description: `rate(${PROM.hostEnergy}) and rate(${PROM.processEnergy}): joules per second, i.e. average watts over the window.`,
      unit: 'watt',
      queries: [
        {
          expr: sumOfHosts('carbonscope_power_source', PROM.hostEnergy, (s) => `rate(${s}[${RI}])`),
          legend: 'host ({{carbonscope_power_source}})',
        },
        {
          expr: `sum by (hw_id) (rate(${PROM.processEnergy}[${RI}]))`,
          legend: 'process {{hw_id}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Emissions rate',
      description: `${PROM.emissionRate}: usage (energy × PUE × grid intensity, per zone) and embodied (the reserved share of the hardware's manufacturing emissions; estimated), per second.`,
      unit: si('gCO2e/s'),
      // The embodied phase has no grid zone, and Grafana writes a legend's label that a series
      // lacks as nothing ('host embodied '): one query per phase, each legend naming what it
      // carries.
      queries: [
        {
          expr: sumOfHosts(
            'carbonscope_scope, carbonscope_grid_zone, carbonscope_phase',
            PROM.emissionRate,
            ofRunningApps,
            USAGE,
          ),
          legend: '{{carbonscope_scope}} usage {{carbonscope_grid_zone}}',
        },
        {
          expr: sumOfHosts(
            'carbonscope_scope, carbonscope_phase',
            PROM.emissionRate,
            ofRunningApps,
            EMBODIED,
          ),
          legend: '{{carbonscope_scope}} embodied',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Grid carbon intensity and its source',
      description: `${PROM.gridIntensity} (gCO2e/kWh) per zone; the legend names the source (electricity-maps, annual-average, world-average, fixed).`,
      unit: suffix('gCO2e/kWh'),
      queries: [
        {
          expr: `max by (carbonscope_grid_zone, carbonscope_grid_source) (${PROM.gridIntensity})`,
          legend: '{{carbonscope_grid_zone}} · {{carbonscope_grid_source}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Energy per request by route',
      description: `Mean of each request's share of the process energy (${PROM.operationEnergy}).`,
      unit: 'joule',
      queries: [
        {
          expr: meanPerOperation(PROM.operationEnergy, REQUESTS),
          legend: '{{carbonscope_operation}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Emissions rate by operation (1 m)',
      description: `The recording rule carbonscope_operation:${PROM.operationEmissions}:rate1m: gCO2e per second spent in each operation, usage and embodied.`,
      unit: si('gCO2e/s'),
      queries: [
        {
          expr: `carbonscope_operation:${PROM.operationEmissions}:rate1m`,
          legend: '{{carbonscope_operation}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'E × I per request by route',
      description: `Operational emissions of one request (energy × PUE × grid intensity), mean over the window: ${PROM.operationEmissions}{carbonscope_phase="usage"}.`,
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: meanPerOperation(PROM.operationEmissions, `${REQUESTS}, ${USAGE}`),
          legend: '{{carbonscope_operation}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'M per request by route',
      description: `Embodied emissions of one request (its share of the hardware's manufacturing emissions, by the weights that share its energy; estimated): ${PROM.operationEmissions}{carbonscope_phase="embodied"}.`,
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: meanPerOperation(PROM.operationEmissions, `${REQUESTS}, ${EMBODIED}`),
          legend: '{{carbonscope_operation}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'SCI per request by route',
      description:
        'Software Carbon Intensity per request, (E × I + M) / R: both phases of a route over its requests. Estimated where M is.',
      unit: 'massg',
      width: 8,
      queries: [{ expr: sciPerOperation(REQUESTS), legend: '{{carbonscope_operation}}' }],
    },
    {
      type: 'timeseries',
      title: 'Inference energy',
      description: 'Mean energy of one inference (carbonscope_operation="inference").',
      unit: 'joule',
      queries: [
        {
          expr: meanPerOperation(PROM.operationEnergy, 'carbonscope_operation="inference"'),
          legend: 'J per inference',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Predictions by label',
      description: `${PROM.predictions} per predicted label (high, middle, low carbon intensity).`,
      unit: suffix('predictions/s'),
      queries: [
        {
          expr: `sum by (carbonscope_model, carbonscope_prediction_label) (rate(${PROM.predictions}[${RI}]))`,
          legend: '{{carbonscope_prediction_label}} ({{carbonscope_model}})',
        },
      ],
    },
    llmBand(
      'LLM energy rate (min–max)',
      PROM.llmEnergy,
      'watt',
      'Estimated provider-side energy of LLM calls per second (usage phase), as the EcoLogits range.',
    ),
    llmBand(
      'LLM GWP rate (min–max)',
      PROM.llmGwp,
      si('gCO2e/s'),
      'Estimated global warming potential per second, usage + embodied, as a range.',
    ),
    {
      type: 'timeseries',
      title: 'LLM token rate',
      description: `${PROM.llmTokens} (semconv gen_ai.client.token.usage) per model and type (input, output), the bundled mock LLM's (carbonscope_mock="true") apart from the providers'.`,
      unit: suffix('tokens/s'),
      width: 8,
      queries: [
        {
          expr: byAnswerer(
            `sum by (gen_ai_request_model, gen_ai_token_type, carbonscope_mock) (rate(${PROM.llmTokens}_sum[${RI}]))`,
          ),
          legend: '{{gen_ai_request_model}} {{gen_ai_token_type}} ({{answered_by}})',
        },
      ],
    },
  ],
};
