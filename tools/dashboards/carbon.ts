import { band, type DashboardSpec, type PanelSpec } from './grafana.js';

const RI = '$__rate_interval';
/** Requests are operations named by their route template, which starts with a slash. */
const REQUESTS = 'operation=~"/.*"';

/** Mean of a histogram per operation over the window: rate of _sum over rate of _count. */
function meanPerOperation(histogram: string, selector: string): string {
  return `sum by (operation) (rate(${histogram}_sum{${selector}}[${RI}])) / sum by (operation) (rate(${histogram}_count{${selector}}[${RI}]))`;
}

/**
 * One LLM impact criterion as a min/max band. EcoLogits gives ranges, not points: the truth is
 * somewhere between the two lines, and the shaded width is the uncertainty.
 */
function llmBand(title: string, counter: string, unit: string, description: string): PanelSpec {
  return {
    type: 'timeseries',
    title,
    description,
    unit,
    width: 8,
    overrides: band('min', 'max'),
    queries: [
      { expr: `sum(rate(${counter}{bound="min"}[${RI}]))`, legend: 'min' },
      { expr: `sum(rate(${counter}{bound="max"}[${RI}]))`, legend: 'max' },
    ],
  };
}

/** "Carbon": power, energy and emissions of the service, and what they are made of. */
export const carbonDashboard: DashboardSpec = {
  uid: 'carbonscope-carbon',
  title: 'carbonscope · Carbon',
  description:
    'Power by component and source, energy, emissions, grid intensity with its source, energy per request, inference and LLM impacts.',
  tags: ['carbonscope'],
  variables: [],
  panels: [
    {
      type: 'stat',
      title: 'Energy in the time range',
      description: 'increase(energy_joules_total) over the dashboard time range, host and process.',
      unit: 'joule',
      width: 8,
      queries: [
        {
          expr: 'sum by (scope) (increase(energy_joules_total[$__range]))',
          legend: '{{scope}}',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Emissions in the time range',
      description: 'increase(emissions_grams_total) over the dashboard time range, gCO2e.',
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: 'sum by (scope) (increase(emissions_grams_total[$__range]))',
          legend: '{{scope}}',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Emissions per request',
      description: 'Mean gCO2e of one HTTP request over the window (every endpoint).',
      unit: 'massg',
      width: 8,
      queries: [
        {
          expr: `sum(rate(operation_emissions_grams_sum{${REQUESTS}}[${RI}])) / sum(rate(operation_emissions_grams_count{${REQUESTS}}[${RI}]))`,
          legend: 'g/request',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Power by component and source',
      description:
        'power_watts: average power over the latest sample. source="estimate" is a model, not a measurement.',
      unit: 'watt',
      queries: [
        {
          expr: 'sum by (scope, component, source) (power_watts)',
          legend: '{{scope}} {{component}} ({{source}})',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Energy use rate',
      description:
        'rate(energy_joules_total): joules per second, i.e. average watts over the window.',
      unit: 'watt',
      queries: [
        {
          expr: `sum by (scope, component) (rate(energy_joules_total[${RI}]))`,
          legend: '{{scope}} {{component}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Emissions rate',
      description: 'emissions_rate_grams_per_second: energy × PUE × grid intensity, per second.',
      unit: 'suffix: gCO2e/s',
      queries: [
        {
          expr: 'sum by (scope, zone) (emissions_rate_grams_per_second)',
          legend: '{{scope}} {{zone}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Grid carbon intensity and its source',
      description:
        'grid_carbon_intensity_grams_per_kwh per zone; the legend names the source (electricity-maps, annual-average, world-average, fixed).',
      unit: 'suffix: gCO2e/kWh',
      queries: [
        {
          expr: 'max by (zone, source) (grid_carbon_intensity_grams_per_kwh)',
          legend: '{{zone}} · {{source}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Energy per request by endpoint',
      description: "Mean of each request's share of the process energy (operation_energy_joules).",
      unit: 'joule',
      queries: [
        { expr: meanPerOperation('operation_energy_joules', REQUESTS), legend: '{{operation}}' },
      ],
    },
    {
      type: 'timeseries',
      title: 'Emissions rate by operation (1 m)',
      description:
        'The recording rule operation:operation_emissions_grams:rate1m: gCO2e per second spent in each operation.',
      unit: 'suffix: gCO2e/s',
      queries: [{ expr: 'operation:operation_emissions_grams:rate1m', legend: '{{operation}}' }],
    },
    {
      type: 'timeseries',
      title: 'Inference energy',
      description: 'Mean energy of one inference (operation="inference").',
      unit: 'joule',
      queries: [
        {
          expr: meanPerOperation('operation_energy_joules', 'operation="inference"'),
          legend: 'J per inference',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Predictions by label',
      description: 'predictions_total per predicted label (high, middle, low carbon intensity).',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (model, label) (rate(predictions_total[${RI}]))`,
          legend: '{{label}} ({{model}})',
        },
      ],
    },
    llmBand(
      'LLM energy (min–max)',
      'llm_energy_joules_total',
      'watt',
      'Estimated provider-side energy of LLM calls per second (usage phase), as the EcoLogits range.',
    ),
    llmBand(
      'LLM GWP (min–max)',
      'llm_gwp_grams_total',
      'suffix: gCO2e/s',
      'Estimated global warming potential per second, usage + embodied, as a range.',
    ),
    {
      type: 'timeseries',
      title: 'LLM tokens',
      description: 'llm_tokens_total per model and type (prompt, completion).',
      unit: 'suffix: tokens/s',
      width: 8,
      queries: [
        {
          expr: `sum by (model, type) (rate(llm_tokens_total[${RI}]))`,
          legend: '{{model}} {{type}}',
        },
      ],
    },
  ],
};
