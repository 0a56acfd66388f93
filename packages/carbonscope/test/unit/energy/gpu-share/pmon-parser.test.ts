import { expect } from 'chai';
import { PmonParser, type PmonRow } from '../../../../src/energy/gpu-share/index.js';
import { h200Text, pipedLines } from './fixtures.js';

function rows(lines: readonly string[]): PmonRow[] {
  const parser = new PmonParser();
  const out: PmonRow[] = [];
  for (const line of lines) {
    const row = parser.line(line);
    if (row) out.push({ ...row });
  }
  return out;
}

describe('energy/gpu-share: nvidia-smi pmon parser', () => {
  it('reads gpu, pid and sm of the real H200 pmon, `-` as no number, skipping headers and junk', () => {
    const parsed = rows(pipedLines('pmon-piped.txt'));
    expect(parsed).to.have.length(10);
    expect(parsed.slice(0, 4)).to.deep.equal([
      { gpu: 0, pid: 574, sm: 99 },
      { gpu: 0, pid: 575, sm: undefined },
      { gpu: 0, pid: 574, sm: 74 },
      { gpu: 0, pid: 575, sm: 24 },
    ]);
    const sum = (pid: number) =>
      parsed.filter((r) => r.pid === pid).reduce((total, r) => total + (r.sm ?? 0), 0);
    expect(sum(574)).to.equal(457);
    expect(sum(575)).to.equal(36);
  });

  it('finds sm by the header with `-s um` (fb and ccpm columns before the name)', () => {
    const parsed = rows(pipedLines('pmon-um-piped.txt'));
    const none = undefined; // pmon's `-`
    expect(parsed.map((r) => r.sm)).to.deep.equal([99, none, 88, 11, 99, none, 99, none]);
    expect(parsed.every((r) => r.gpu === 0)).to.equal(true);
  });

  it('reads the idle GPU row (pid `-`) as a row of no process, among the capture notes', () => {
    // idle.txt holds the capture's own lines (`== idle pmon -c 2 -s u`, `rc 0`) around pmon's.
    const parsed = rows(h200Text('idle.txt').split('\n'));
    expect(parsed).to.deep.equal([
      { gpu: 0, pid: undefined, sm: undefined },
      { gpu: 0, pid: undefined, sm: undefined },
    ]);
  });

  it('gives no row before a header, nor for lines that do not fit it', () => {
    const [header, units, row] = pipedLines('pmon-piped.txt');
    const parser = new PmonParser();
    expect(parser.line(row)).to.equal(undefined); // no header yet: columns unknown
    expect(parser.line(header)).to.equal(undefined);
    expect(parser.ready).to.equal(true);
    expect(parser.line(units)).to.equal(undefined);
    for (const junk of [
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      '0 null',
      '',
      '    0        574',
      '    x        574     C     99     22      -      -      -      -    python3',
      '    0        574     C     9x     22      -      -      -      -    python3',
    ]) {
      expect(parser.line(junk), junk).to.equal(undefined);
    }
    expect(parser.line(row)).to.deep.equal({ gpu: 0, pid: 574, sm: 99 });
  });

  it('follows the columns a later header names (another layout), not fixed positions', () => {
    // The real header and row with the pid and sm columns swapped, as another layout would.
    const [header, , row] = pipedLines('pmon-piped.txt');
    const swap = (line: string) => {
      const f = line.trim().replace(/^#\s*/, '').split(/\s+/);
      [f[1], f[3]] = [f[3], f[1]];
      return f.join(' ');
    };
    const parser = new PmonParser();
    parser.line(header);
    expect(parser.line(row)).to.deep.equal({ gpu: 0, pid: 574, sm: 99 });
    parser.line(`# ${swap(header)}`);
    expect(parser.line(`    ${swap(row)}`)).to.deep.equal({ gpu: 0, pid: 574, sm: 99 });
  });
});
