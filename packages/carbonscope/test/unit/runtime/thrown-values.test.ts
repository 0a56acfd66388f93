import { expect } from 'chai';
import type { PowerSource } from '../../../src/energy/sources/source.js';
import type { GridIntensity } from '../../../src/grid/types.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { ODD_THROWS, textlessValue } from '../../helpers/textless-throws.js';
import { waitFor } from '../../helpers/wait.js';
import { memoryLogger } from '../energy/scripted.js';

// A listener may throw anything. Its report turned the value into text with String(), which
// throws for a value with no prototype or an Error whose message getter throws: sampleNow()
// threw where a plain Error is only warned about, and a timer's sample ended the process.
const ENV = { ENERGY_SAMPLE_INTERVAL_MS: '50', ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' };

async function started(env: Record<string, string> = ENV) {
  const { logger, lines } = memoryLogger();
  const cs = await Carbonscope.create({ env, logger });
  await cs.start();
  const warnings = () => lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  return { cs, warnings };
}

type Subscribe = (cs: Carbonscope, listener: () => unknown) => void;

const LISTENERS: ReadonlyArray<[string, Subscribe]> = [
  ['onEnd', (cs, listener) => cs.onEnd(listener)],
  ['onSettled', (cs, listener) => cs.onSettled(listener)],
  ['onFinish', (cs, listener) => cs.onFinish(listener)],
  ['onSample', (cs, listener) => cs.onSample(listener)],
];

describe("a listener that throws a value whose text cannot be read as an Error's", () => {
  for (const { name: what, source, said } of ODD_THROWS) {
    const value = () => textlessValue(source);
    for (const [method, subscribe] of LISTENERS) {
      it(`${method}'s listener throwing ${what}: warned about, nothing thrown`, async () => {
        const { cs, warnings } = await started({ ...ENV, ENERGY_SAMPLE_INTERVAL_MS: '60000' });
        try {
          subscribe(cs, () => {
            throw value();
          });
          cs.track('op', () => undefined);
          expect(() => cs.meter.sampleNow()).not.to.throw();
          expect(warnings().filter((w) => w.includes(`failed (${said}); `))).to.have.length(1);
        } finally {
          await cs.stop();
        }
      });
    }

    it(`an async listener rejecting with ${what}: warned about, no unhandled rejection`, async () => {
      const unhandled: unknown[] = [];
      const heard = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', heard);
      const { cs, warnings } = await started({ ...ENV, ENERGY_SAMPLE_INTERVAL_MS: '60000' });
      try {
        cs.onSample(async () => {
          throw value();
        });
        cs.meter.sampleNow();
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(unhandled).to.have.length(0);
        expect(warnings().filter((w) => w.includes(`failed (${said}); `))).to.have.length(1);
      } finally {
        process.off('unhandledRejection', heard);
        await cs.stop();
      }
    });

    it(`the timer's samples, a listener throwing ${what} at each: warned about once`, async () => {
      const { cs, warnings } = await started();
      try {
        cs.onEnd(() => {
          throw value();
        });
        let samples = 0;
        cs.onSample(() => {
          samples++;
          cs.track('op', () => undefined);
        });
        // Several samples, each with an operation ended before it: waited for, since a fixed
        // 250 ms counted on 3 intervals of 50 ms, which a busy machine's stalled loop may not give.
        await waitFor('3 timer samples', () => samples >= 3);
        expect(warnings().filter((w) => w.includes(`failed (${said}); `))).to.have.length(1);
      } finally {
        await cs.stop();
      }
    });
  }
});

// Sources and a grid given in code are the application's: what their reads throw is warned about
// by the meter, the value named as messageOf can.
describe('a source or grid given in code that throws a value with no readable text', () => {
  const warningsOf = async (options: { sources?: unknown; grid?: unknown }) => {
    const { logger, lines } = memoryLogger();
    const env = { ...ENV, ENERGY_SAMPLE_INTERVAL_MS: '60000' };
    const cs = await Carbonscope.create({ env, logger, ...(options as object) });
    try {
      await cs.start();
      cs.meter.sampleNow();
      cs.meter.sampleNow();
    } finally {
      await cs.stop();
    }
    return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  };

  for (const { name, source, said } of ODD_THROWS) {
    it(`a host source whose sample() throws ${name}: one warning naming it`, async () => {
      const host: PowerSource = {
        name: 'estimate',
        estimated: true,
        kind: 'host',
        probe: async () => ({ ok: true, detail: 'in code' }),
        sample: () => {
          throw textlessValue(source);
        },
        close: async () => undefined,
      };
      const warnings = await warningsOf({ sources: { host, gpus: [] } });
      expect(warnings.filter((w) => w.startsWith('energy meter: '))).to.deep.equal([
        `energy meter: estimate failed (${said}); sampling goes on without it`,
      ]);
    });

    it(`a requested source whose probe() rejects with ${name}: the fall-back names it`, async () => {
      const refusing = (): PowerSource => ({
        name: 'powermetrics',
        estimated: false,
        kind: 'host',
        probe: () => Promise.reject(textlessValue(source)),
        sample: () => [],
        close: async () => undefined,
      });
      const { logger, lines } = memoryLogger();
      const env = { ...ENV, ENERGY_SOURCE: 'powermetrics', ENERGY_SAMPLE_INTERVAL_MS: '60000' };
      const cs = await Carbonscope.create({
        env,
        logger,
        select: { make: { powermetrics: refusing } },
      });
      await cs.stop();
      const warned = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warned).to.deep.equal([
        `ENERGY_SOURCE=powermetrics cannot be read (${said}); falling back to estimate`,
      ]);
    });

    it(`a grid whose current() rejects with ${name}: one warning naming it`, async () => {
      const grid: GridIntensity = {
        defaultZone: 'DE',
        current: () => Promise.reject(textlessValue(source)),
        peek: () => undefined,
        history: () => Promise.reject(new Error('no history')),
      };
      const warnings = await warningsOf({ grid });
      expect(warnings.filter((w) => w.startsWith('energy meter: '))).to.deep.equal([
        `energy meter: grid intensity failed (${said}); sampling goes on without it`,
      ]);
    });
  }
});
