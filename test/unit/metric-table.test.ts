import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR_RPC_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { METRICS, type MetricSpec, prometheusName, prometheusType } from 'carbonscope';
import { expect } from 'chai';
import { APP_METRICS } from '../../src/metrics.js';
import { projectRoot } from '../../src/paths.js';

interface Row {
  cells: string[];
  /** The code spans of each cell. */
  code: string[][];
}

/** The rows of the first table after `heading` in the README whose header starts with `header`. */
function readmeTable(heading: string, header: string): Row[] {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const start = section.indexOf(`| ${header}`);
  const table = section.slice(start, section.indexOf('\n\n', start));
  return table
    .split('\n')
    .slice(2)
    .map((line) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return { cells, code: cells.map((c) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1])) };
    });
}

/** An attribute as both Prometheus paths label it: dots become underscores. */
const labelOf = (attribute: string) => attribute.replace(/[^a-zA-Z0-9_]/g, '_');

/** Every name and attribute key the semantic conventions define (stable and incubating). */
const SEMCONV = new Set(Object.values(semconv).filter((v) => typeof v === 'string'));

describe('the metric table', () => {
  const specs: MetricSpec[] = [...Object.values(METRICS), ...Object.values(APP_METRICS)];
  const rows = readmeTable('## Metrics', 'instrument');

  it('every instrument has a README row: OTel name and unit, Prometheus name, type and labels', () => {
    for (const spec of specs) {
      const row = rows.find((r) => r.code[0]?.[0] === spec.name);
      expect(row, `README row for ${spec.name}`).to.not.equal(undefined);
      expect(row?.code[0]?.[1], `${spec.name} unit`).to.equal(spec.unit);
      expect(row?.code[1], spec.name).to.deep.equal([prometheusName(spec)]);
      expect(row?.cells[2], spec.name).to.equal(prometheusType(spec));
      const labels = row?.code[3] ?? [];
      expect(labels, `${spec.name} labels`).to.deep.equal(spec.attributes.map(labelOf));
    }
  });

  it('every README row names an instrument that exists', () => {
    const names = new Set(specs.map((s) => s.name));
    for (const row of rows) expect(names, row.cells[0]).to.include(row.code[0]?.[0]);
  });

  it('uses the semantic conventions where they have the metric, and carbonscope.* elsewhere', () => {
    for (const spec of specs) {
      if (spec.convention === 'semconv') {
        expect(SEMCONV, `${spec.name} is a semconv metric`).to.include(spec.name);
      } else {
        expect(spec.name, spec.name).to.match(/^carbonscope\./);
        expect(SEMCONV, `${spec.name} shadows a semconv name`).to.not.include(spec.name);
      }
      for (const attribute of spec.attributes) {
        if (attribute.startsWith('carbonscope.')) continue;
        expect(SEMCONV, `${spec.name}: ${attribute} is a semconv attribute`).to.include(attribute);
      }
    }
  });

  // The package names the metrics and attributes but not what each metric requires, its
  // instrument or its unit: these are the conventions' tables (hardware, HTTP, GenAI pages).
  it('gives each semconv metric the instrument, unit and required attributes its convention does', () => {
    const required: Record<string, { kind: string; unit: string; attributes: string[] }> = {
      [semconv.METRIC_HTTP_SERVER_REQUEST_DURATION]: {
        kind: 'histogram',
        unit: 's',
        attributes: [semconv.ATTR_HTTP_REQUEST_METHOD, semconv.ATTR_URL_SCHEME],
      },
      [semconv.METRIC_HW_HOST_ENERGY]: {
        kind: 'observableCounter',
        unit: 'J',
        attributes: [semconv.ATTR_HW_ID],
      },
      [semconv.METRIC_HW_HOST_POWER]: {
        kind: 'observableGauge',
        unit: 'W',
        attributes: [semconv.ATTR_HW_ID],
      },
      [semconv.METRIC_HW_ENERGY]: {
        kind: 'observableCounter',
        unit: 'J',
        attributes: [semconv.ATTR_HW_ID, semconv.ATTR_HW_TYPE],
      },
      [semconv.METRIC_HW_POWER]: {
        kind: 'observableGauge',
        unit: 'W',
        attributes: [semconv.ATTR_HW_ID, semconv.ATTR_HW_TYPE],
      },
      [semconv.METRIC_GEN_AI_CLIENT_TOKEN_USAGE]: {
        kind: 'histogram',
        unit: '{token}',
        attributes: [
          semconv.ATTR_GEN_AI_OPERATION_NAME,
          semconv.ATTR_GEN_AI_PROVIDER_NAME,
          semconv.ATTR_GEN_AI_TOKEN_TYPE,
        ],
      },
    };
    const semconvSpecs = specs.filter((s) => s.convention === 'semconv');
    expect(semconvSpecs.map((s) => s.name)).to.have.members(Object.keys(required));
    for (const spec of semconvSpecs) {
      const want = required[spec.name];
      expect(spec.kind, spec.name).to.equal(want?.kind);
      expect(spec.unit, spec.name).to.equal(want?.unit);
      expect(spec.attributes, spec.name).to.include.members(want?.attributes ?? []);
    }
  });

  it("labels a gRPC call's outcome with the stable RPC attribute, not a deprecated one", () => {
    // rpc.grpc.status_code (int) and rpc.response.status_code were both deprecated for it.
    expect(METRICS.httpDuration.attributes).to.include(ATTR_RPC_STATUS_CODE);
    expect(METRICS.httpDuration.attributes).to.not.include(semconv.ATTR_RPC_RESPONSE_STATUS_CODE);
    expect(METRICS.httpDuration.attributes).to.not.include(semconv.ATTR_RPC_GRPC_STATUS_CODE);
  });

  it('names are unique, carry no unit word, and units are UCUM or a braced count', () => {
    const names = specs.map((s) => s.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(new Set(specs.map(prometheusName)).size).to.equal(names.length);
    for (const spec of specs) {
      expect(spec.name, spec.name).to.not.match(/joules|watts|grams|seconds|_total/);
      expect(spec.unit, spec.name).to.match(/^(s|J|W|g|g\/s|L|\{[a-z]+\}|\{gCO2e\/kWh\})$/);
      // A metric name is never also a namespace of another (semconv naming rule).
      for (const other of names) expect(other.startsWith(`${spec.name}.`), other).to.equal(false);
    }
  });

  it("every Prometheus name passes promtool's naming lint", () => {
    const exposition = specs
      .map((spec) => {
        const name = prometheusName(spec);
        const type = prometheusType(spec);
        const samples =
          type === 'histogram'
            ? [`${name}_bucket{le="+Inf"} 1`, `${name}_sum 1`, `${name}_count 1`]
            : [`${name} 1`];
        return [`# HELP ${name} ${spec.description}`, `# TYPE ${name} ${type}`, ...samples].join(
          '\n',
        );
      })
      .join('\n');
    // Exits non-zero and names the metric on any finding (camelCase, abbreviated units, ...).
    execFileSync('promtool', ['check', 'metrics'], { input: `${exposition}\n`, encoding: 'utf8' });
  });

  it('maps every old name of the README to a name a query reads today', () => {
    const current = new Set(specs.map(prometheusName));
    const histograms = specs.filter((s) => s.kind === 'histogram').map(prometheusName);
    const mapping = readmeTable('### Old names', 'before');
    expect(mapping.length).to.be.at.least(16);
    for (const row of mapping) {
      const [, now] = row.code;
      expect(now, row.cells.join(' | ')).to.not.be.empty;
      for (const name of now ?? []) {
        const base = name.replace(/\{.*$/, '');
        const ok =
          current.has(base) ||
          histograms.some((h) => ['_bucket', '_sum', '_count'].some((s) => base === h + s));
        expect(ok, `${name} (for ${row.code[0]?.join(', ')})`).to.equal(true);
      }
    }
  });
});
