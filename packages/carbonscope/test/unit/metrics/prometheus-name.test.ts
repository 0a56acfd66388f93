import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { METRICS, prometheusBaseName, prometheusName } from '../../../src/metrics/index.js';
import { withPrometheusNames } from '../../../src/prometheus-names.js';

describe('Prometheus names (the OTel compatibility spec, as the Collector applies it)', () => {
  // What the real Collector 0.161.0 exports for these (name, unit, type); the stack test holds
  // every metric of the table to it on a running Collector.
  const cases: Array<[string, string, 'counter' | 'gauge' | 'histogram', string]> = [
    ['hw.host.energy', 'J', 'counter', 'hw_host_energy_joules'],
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['carbonscope.emission_rate', 'g/s', 'gauge', 'carbonscope_emission_rate_grams_per_second'],
    [
      'carbonscope.grid.carbon_intensity',
      'g/(kW.h)',
      'gauge',
      'carbonscope_grid_carbon_intensity_grams_per_kW_h',
    ],
    ['gen_ai.client.token.usage', '{token}', 'histogram', 'gen_ai_client_token_usage'],
    ['carbonscope.llm.wcf', 'L', 'counter', 'carbonscope_llm_wcf_L'],
    // A unit word the name already has is not repeated; a per-unit always is.
    ['energy_joules', 'J', 'counter', 'energy_joules'],
    [
      'emissions_rate_grams_per_second',
      'g/s',
      'gauge',
      'emissions_rate_grams_per_second_per_second',
    ],
    // Counters lose a `total` token (the exporter appends `_total`); unit 1 gauges end in ratio.
    ['requests.total', '{request}', 'counter', 'requests'],
    ['cpu.utilization', '1', 'gauge', 'cpu_utilization_ratio'],
    ['2xx.count', '', 'gauge', '_2xx_count'],
  ];
  for (const [name, unit, type, expected] of cases) {
    it(`${name} (${unit || 'no unit'}, ${type}) → ${expected}`, () => {
      expect(prometheusBaseName(name, unit, type)).to.equal(expected);
    });
  }

  it('adds _total to counters of the table', () => {
    expect(prometheusName(METRICS.hostEnergy)).to.equal('hw_host_energy_joules_total');
    expect(prometheusName(METRICS.hostPower)).to.equal('hw_host_power_watts');
  });

  it('renames the serialized exposition only: the SDK data the OTLP reader also exports keeps its OTel names', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('test');
    meter.createCounter('hw.host.energy', { unit: 'J' }).add(3, { 'hw.id': 'host' });
    meter.createHistogram('http.server.request.duration', { unit: 's' }).record(0.2);
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusSerializer().serialize(withPrometheusNames(resourceMetrics, sdk));
    expect(text).to.include('hw_host_energy_joules_total{hw_id="host"');
    expect(text).to.include('http_server_request_duration_seconds_count');
    const names = resourceMetrics.scopeMetrics.flatMap((s) =>
      s.metrics.map((m) => m.descriptor.name),
    );
    expect(names).to.deep.equal(['hw.host.energy', 'http.server.request.duration']);
    await provider.shutdown();
  });
});
