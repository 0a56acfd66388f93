import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS, type MetricSpec, prometheusName, prometheusType } from 'carbonscope';
import { expect } from 'chai';
import { APP_METRICS } from '../../src/metrics.js';
import { projectRoot } from '../../src/paths.js';

interface Row {
  names: string[];
  type: string;
  labels: string;
}

/** The rows of the README's metric table (section "Metrics"). */
function readmeRows(): Row[] {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Metrics\n'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| Prometheus name')));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [names, type, labels] = line
        .split('|')
        .slice(1)
        .map((c) => c.trim());
      return { names: [...names.matchAll(/`([^`]+)`/g)].map((m) => m[1]), type, labels };
    });
}

describe('the metric table', () => {
  const specs: MetricSpec[] = [...Object.values(METRICS), ...Object.values(APP_METRICS)];
  const rows = readmeRows();

  it('every instrument has a README row with its Prometheus name, type and labels', () => {
    for (const spec of specs) {
      const name = prometheusName(spec);
      const row = rows.find((r) => r.names.includes(name));
      expect(row, `README row for ${name}`).to.not.equal(undefined);
      expect(row?.type, name).to.equal(prometheusType(spec));
      for (const attribute of spec.attributes) expect(row?.labels, name).to.include(attribute);
    }
  });

  it('every README row names an instrument that exists', () => {
    const names = new Set(specs.map(prometheusName));
    for (const row of rows) for (const name of row.names) expect(names, name).to.include(name);
  });

  it('names are unique and already carry their unit word', () => {
    const names = specs.map((s) => s.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const spec of specs) {
      if (spec.unit === 'J') expect(spec.name).to.match(/joules/);
      if (spec.unit === 's') expect(spec.name).to.match(/seconds/);
      if (spec.unit === 'W') expect(spec.name).to.match(/watts/);
    }
  });
});
