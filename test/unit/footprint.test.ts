import { expect } from 'chai';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { shownSci } from '../../src/footprint.js';
import { Readiness } from '../../src/readiness.js';
import { captureLogger } from '../helpers/log.js';

describe('shownSci', () => {
  it("warns of an unknown SCI once, in the app's JSON log rather than on stderr", async () => {
    const { logger, lines } = captureLogger('info');
    createApp({
      config: loadConfig({}),
      logger,
      readiness: new Readiness(),
      metricsText: async () => '',
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const parts = { grams: Number.NaN, embodiedGrams: 0, estimated: true };
      expect(shownSci(parts).gramsPerUnit).to.equal(null);
      expect(shownSci(parts).gramsPerUnit).to.equal(null);
      // A process warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.message)).to.deep.equal([]);
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    const sci = logged.filter((l) => l.msg.includes('SCI'));
    expect(sci).to.have.length(1);
    expect(sci[0]).to.include({ level: 40, code: 'CARBONSCOPE_SCI_UNKNOWN' });
    expect(sci[0]?.msg).to.match(/^an SCI is shown as unknown: /);
  });
});
