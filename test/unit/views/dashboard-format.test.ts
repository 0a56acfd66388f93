import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import type { ScopeTotals } from 'carbonscope';
import { expect } from 'chai';
import { sourceAsset } from '../../../src/paths.js';

interface DashboardFormat {
  fmt(value: number | null | undefined, digits?: number): string;
  grams(g: number): string;
  joules(j: number): string;
  duration(seconds: number): string;
  bytes(n: number): string;
  clock(ms: number | null | undefined, locale?: string, timeZone?: string): string;
  wattsLabel(
    totals: Pick<ScopeTotals, 'joules' | 'estimatedJoules' | 'estimated' | 'wattsEstimated'>,
  ): string;
  figuresAre(
    totals: Pick<ScopeTotals, 'joules' | 'estimatedJoules' | 'estimated' | 'wattsEstimated'>,
  ): string;
}

/** The page's own script, run as the browser runs it: it leaves its functions on `window`. */
function loadFormat(): DashboardFormat {
  const window: { carbonscopeFormat?: DashboardFormat } = {};
  runInNewContext(readFileSync(sourceAsset('views', 'dashboard', 'format.js'), 'utf8'), {
    window,
  });
  if (!window.carbonscopeFormat) throw new Error('format.js left no window.carbonscopeFormat');
  return window.carbonscopeFormat;
}

describe('dashboard figures (src/views/dashboard/format.js)', () => {
  const { fmt, grams, joules, duration, bytes, clock, figuresAre, wattsLabel } = loadFormat();

  it('writes three significant digits without trailing zeros, thousands with separators', () => {
    expect(fmt(0)).to.equal('0');
    expect(fmt(0.5)).to.equal('0.5');
    expect(fmt(1.2345)).to.equal('1.23');
    expect(fmt(10.0)).to.equal('10');
    expect(fmt(0.000123456)).to.equal('0.000123');
    expect(fmt(1234.5)).to.equal('1,235');
    expect(fmt(12_345_678)).to.equal('12,345,678');
    for (const missing of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(fmt(missing)).to.equal('–');
    }
  });

  it('chooses the unit of an emission: µg, mg, g, kg', () => {
    expect(grams(0)).to.equal('0 g CO2e');
    expect(grams(0.0000012)).to.equal('1.2 µg CO2e');
    expect(grams(0.0012)).to.equal('1.2 mg CO2e');
    expect(grams(1.2)).to.equal('1.2 g CO2e');
    expect(grams(1200)).to.equal('1.2 kg CO2e');
  });

  it('chooses the unit of an energy: mJ, J, Wh with its joules', () => {
    expect(joules(0.0012)).to.equal('1.2 mJ');
    expect(joules(12)).to.equal('12 J');
    expect(joules(7200)).to.equal('2 Wh (7,200 J)');
  });

  it('writes durations in ms, s, min or h', () => {
    expect(duration(0.0123)).to.equal('12.3 ms');
    expect(duration(12)).to.equal('12 s');
    expect(duration(600)).to.equal('10 min');
    expect(duration(36_000)).to.equal('10 h');
  });

  // toPrecision(3) writes 999.7 as "1.00e+3": a figure just under a thousand came out in exponent
  // form, in every unit (999.7 W, 999.7 ms, 999.7 g).
  it('rounds a figure just under a thousand to 1,000, not to exponent form', () => {
    expect(fmt(999.7)).to.equal('1,000');
    expect(fmt(-999.7)).to.equal('-1,000');
    expect(fmt(999.4)).to.equal('999');
    expect(grams(999.7)).to.equal('1,000 g CO2e');
    expect(duration(0.9997)).to.equal('1,000 ms');
  });

  // The page said "1,181 KiB" of the history the README gives as 1.15 MiB (1,209,600 bytes).
  it('writes a memory size in KiB under a MiB, in MiB from one on', () => {
    expect(bytes(1_209_600)).to.equal('1.15 MiB');
    expect(bytes(60_480_000)).to.equal('57.7 MiB');
    expect(bytes(20_160)).to.equal('19.7 KiB');
    expect(bytes(1_048_000)).to.equal('1,023 KiB');
  });

  it('writes figures under a millionth without padded zeros', () => {
    expect(fmt(5e-7)).to.equal('5e-7');
    expect(fmt(1.23456e-8)).to.equal('1.23e-8');
  });

  it('writes a kilowatt-hour (3.6 MJ) and more in kWh, with MJ', () => {
    expect(joules(3_600_000)).to.equal('1 kWh (3.6 MJ)');
    expect(joules(36_000_000)).to.equal('10 kWh (36 MJ)');
    expect(joules(3_599_000)).to.equal('1,000 Wh (3,599,000 J)');
  });

  // The card said "measured" over totals that held the estimate's joules, once RAPL took over.
  it('says the figures are partly estimated when a meter took over from the estimate', () => {
    const t = { joules: 20, estimatedJoules: 10, estimated: true, wattsEstimated: false };
    expect(figuresAre(t)).to.equal('50 % estimated');
    expect(wattsLabel(t)).to.equal(' (measured)');
    expect(wattsLabel({ ...t, wattsEstimated: true })).to.equal(' (estimated)');
    expect(figuresAre({ ...t, estimatedJoules: 0, estimated: false })).to.equal('measured');
    expect(figuresAre({ ...t, estimatedJoules: 20, wattsEstimated: true })).to.equal('estimated');
    // Where the one label says it all, the power has none of its own.
    expect(wattsLabel({ ...t, estimatedJoules: 20, wattsEstimated: true })).to.equal('');
    expect(figuresAre({ ...t, joules: 0, estimatedJoules: 0, wattsEstimated: true })).to.equal(
      'estimated',
    );
  });

  // 99.7 % rounded to "100 % estimated" beside a measured power, and a second of the estimate
  // in a year of RAPL read "1e-7 % estimated": neither a share nor all of it.
  it('never rounds a share to all or nothing, nor writes it in exponent form', () => {
    const t = { joules: 1000, estimatedJoules: 997, estimated: true, wattsEstimated: false };
    expect(figuresAre(t)).to.equal('over 99 % estimated');
    expect(figuresAre({ ...t, estimatedJoules: 994 })).to.equal('99 % estimated');
    expect(figuresAre({ ...t, estimatedJoules: 4 })).to.equal('0.4 % estimated');
    expect(figuresAre({ ...t, estimatedJoules: 1e-6 })).to.equal('under 0.01 % estimated');
    expect(figuresAre({ ...t, estimatedJoules: 0.5 })).to.equal('0.05 % estimated');
  });

  // The one label was the energy's and the power's both: after a switch they differ.
  it('labels the power now where it is not what the energy so far is', () => {
    const measuredSoFar = {
      joules: 100,
      estimatedJoules: 0,
      estimated: true,
      wattsEstimated: true,
    };
    expect(figuresAre(measuredSoFar)).to.equal('measured');
    expect(wattsLabel(measuredSoFar)).to.equal(' (estimated)');
    const estimatedSoFar = {
      joules: 100,
      estimatedJoules: 100,
      estimated: true,
      wattsEstimated: false,
    };
    expect(figuresAre(estimatedSoFar)).to.equal('estimated');
    expect(wattsLabel(estimatedSoFar)).to.equal(' (measured)');
    expect(wattsLabel({ ...estimatedSoFar, wattsEstimated: true })).to.equal('');
  });

  // A bare toLocaleTimeString() named no zone: a page read from another zone, or a screenshot,
  // gave 11:45:02 with nothing to say whose clock, and the hour repeated as summer time ends
  // read the same twice.
  it("writes a time in the viewer's zone with that zone's name, told apart across a DST change", () => {
    // ICU's own forms (a leading zero, the space before AM) vary with its version: not asserted.
    const at = Date.UTC(2026, 11, 6, 6, 0, 2);
    expect(clock(at, 'en-US', 'Asia/Kathmandu')).to.match(/^11:45:02\sAM GMT\+5:45$/);
    expect(clock(at, 'en-US', 'Pacific/Chatham')).to.match(/^7:45:02\sPM GMT\+13:45$/);
    expect(clock(at, 'en-US', 'America/St_Johns')).to.match(/^2:30:02\sAM GMT-3:30$/);
    expect(clock(at, 'en-GB', 'UTC')).to.match(/^0?6:00:02 UTC$/);
    // Europe/Berlin's 02:00-03:00 comes twice on 25 October 2026.
    const summer = clock(Date.UTC(2026, 9, 25, 0, 30), 'de-DE', 'Europe/Berlin');
    const winter = clock(Date.UTC(2026, 9, 25, 1, 30), 'de-DE', 'Europe/Berlin');
    expect(summer).to.match(/^0?2:30:00 MESZ$/);
    expect(winter).to.match(/^0?2:30:00 MEZ$/);
    for (const missing of [null, undefined, Number.NaN]) expect(clock(missing)).to.equal('–');
  });
});
