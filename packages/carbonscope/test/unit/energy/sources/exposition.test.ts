import { expect } from 'chai';
import {
  DECIMAL_FLOAT,
  ExpositionError,
  lineMetricName,
  parseExposition,
  parseExpositionLine,
} from '../../../../src/energy/sources/exposition.js';
import { expectLinear } from '../../../helpers/linear-pattern.js';

describe('energy/sources/exposition', () => {
  it('reads a value in linear time: an exporter writes the line (64 K of digits took seconds)', async () => {
    // `\d+\.?\d*` split a run of digits every way before it failed: 2.5 s on a 64 KiB line
    // (the most a line may hold) of digits and a letter, for each such line of a scrape.
    await expectLinear(DECIMAL_FLOAT);
    const line = `kepler_node_cpu_joules_total ${'1'.repeat(64 * 1024)}x`;
    expect(() => parseExpositionLine(line)).to.throw(ExpositionError, 'not a number');
    for (const value of ['1', '-1.', '+.5', '1.5e-3', '2E+10', '07']) {
      expect(parseExpositionLine(`m ${value}`)?.value).to.equal(Number(value));
    }
    for (const value of ['.', '1..2', '0x10', '1e', 'e3', '1.2.3', '--1']) {
      expect(() => parseExpositionLine(`m ${value}`), value).to.throw(ExpositionError);
    }
  });

  it('reads names, labels, values and timestamps of the text format', () => {
    const text = [
      '# HELP kepler_node_cpu_joules_total Energy consumption of cpu at node level in joules',
      '# TYPE kepler_node_cpu_joules_total counter',
      'kepler_node_cpu_joules_total{node_name="n1",path="aggregated-package",zone="package"} 1234.5',
      '',
      'scaph_host_power_microwatts 3.5e7',
      'up{instance="10.0.0.1:28282",job="kepler"} 1 1700000000123',
      'weird{a="x", b="y",} +Inf',
    ].join('\r\n');
    expect(parseExposition(text)).to.deep.equal([
      {
        name: 'kepler_node_cpu_joules_total',
        labels: { node_name: 'n1', path: 'aggregated-package', zone: 'package' },
        value: 1234.5,
      },
      { name: 'scaph_host_power_microwatts', labels: {}, value: 35_000_000 },
      {
        name: 'up',
        labels: { instance: '10.0.0.1:28282', job: 'kepler' },
        value: 1,
        timestampMs: 1_700_000_000_123,
      },
      { name: 'weird', labels: { a: 'x', b: 'y' }, value: Number.POSITIVE_INFINITY },
    ]);
  });

  it('unescapes label values (backslash, quote, newline) and keeps braces and commas in them', () => {
    const s = parseExpositionLine(
      String.raw`scaph_process_power_consumption_microwatts{cmdline="node -e \"a{1,2}\" C:\\x\nnext",exe="node",pid="7"} 12`,
    );
    expect(s?.labels).to.deep.equal({
      cmdline: 'node -e "a{1,2}" C:\\x\nnext',
      exe: 'node',
      pid: '7',
    });
    expect(s?.value).to.equal(12);
  });

  it('skips metrics nobody asked for without reading their labels, even malformed ones', () => {
    const wanted = (n: string) => n === 'kepler_container_cpu_joules_total';
    expect(parseExpositionLine('kepler_process_cpu_joules_total{broken 1', wanted)).to.equal(
      undefined,
    );
    expect(
      parseExpositionLine('# TYPE kepler_container_cpu_joules_total counter', wanted),
    ).to.equal(undefined);
    expect(lineMetricName('kepler_x{a="b"} 1')).to.equal('kepler_x');
    expect(lineMetricName('# HELP x')).to.equal('');
  });

  it('refuses a malformed line of a wanted metric, saying what is wrong', () => {
    const bad = [
      'm{zone="package" 1',
      'm{zone=package} 1',
      'm{zone="package} 1',
      'm{zone="package"}',
      'm{zone="package"} 0x10',
      'm{zone="package"} 1 2 3',
      'm{zone="package"} 1 12.5',
      'm{9zone="package"} 1',
    ];
    for (const line of bad) {
      expect(() => parseExpositionLine(line), line).to.throw(ExpositionError, /^m: /);
    }
  });

  it('reads NaN and -Inf as the numbers they name', () => {
    expect(parseExpositionLine('a NaN')?.value).to.be.NaN;
    expect(parseExpositionLine('a -Inf')?.value).to.equal(Number.NEGATIVE_INFINITY);
    expect(parseExpositionLine('a -1.5e-3')?.value).to.equal(-0.0015);
  });
});
