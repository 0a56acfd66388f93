import { expect } from 'chai';
import { withLateStart } from '../../../../src/energy/sources/late-start.js';
import type { ProbeResult } from '../../../../src/energy/sources/source.js';
import { constantSource, type ScriptedSource } from '../scripted.js';
import { captureLogger, tick } from './helpers.js';

describe('energy/sources/late-start', () => {
  const made: ScriptedSource[] = [];
  let probeResult: () => Promise<ProbeResult>;
  const make = () => {
    const s = constantSource(10, { name: 'rapl' });
    s.probe = () => probeResult();
    made.push(s);
    return s;
  };
  beforeEach(() => {
    made.length = 0;
  });

  it('a try that fails closes what it made, and the next waits a whole interval', async () => {
    probeResult = async () => ({ ok: false, reason: 'permission denied', fixable: true });
    const fallback = constantSource(20, { name: 'estimate' });
    const host = withLateStart({ make, fallback, logger: captureLogger().logger, retryMs: 1000 });
    host.sample(tick(0, undefined, 0));
    host.sample(tick(1000, undefined, 1000));
    await new Promise((r) => setImmediate(r));
    expect(made.map((s) => s.closed)).to.deep.equal([true]);
    host.sample(tick(500, undefined, 1500));
    expect(made).to.have.length(1);
    host.sample(tick(500, undefined, 2000));
    expect(made).to.have.length(2);
    expect(host.name).to.equal('estimate');
    await host.close();
    expect(fallback.closed).to.equal(true);
  });

  // Closed while a try is still out: what it made is closed, never used.
  it('close() while a try is out closes the source it made', async () => {
    let answer: (r: ProbeResult) => void = () => undefined;
    probeResult = () =>
      new Promise<ProbeResult>((resolve) => {
        answer = resolve;
      });
    const fallback = constantSource(20, { name: 'estimate' });
    const host = withLateStart({ make, fallback, logger: captureLogger().logger, retryMs: 1000 });
    host.sample(tick(0, undefined, 0));
    host.sample(tick(1000, undefined, 1000));
    const closing = host.close();
    answer({ ok: true, detail: 'package-0' });
    await closing;
    expect(made.map((s) => s.closed)).to.deep.equal([true]);
    expect(fallback.closed).to.equal(true);
    expect(host.name).to.equal('estimate');
  });
});
