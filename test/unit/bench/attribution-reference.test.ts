import { expect } from 'chai';
import { cpuAgainstAlone, inWindows, scaledToMix } from '../../bench/attribution.bench.js';

describe('bench: the mix measured against what its requests cost alone', () => {
  const alone = { '/cpu': 3_800, '/io': 1_600, '/mixed': 2_400 }; // µs per request

  it('is 1 when each route costs in the mix what it cost alone', () => {
    // 600 × 3.8 + 200 × 1.6 + 400 × 2.4 ms = 3,560 ms.
    const requests = { '/cpu': 600, '/io': 200, '/mixed': 400 };
    expect(cpuAgainstAlone(3_560, requests, alone)).to.be.closeTo(1, 1e-12);
  });

  it('reads below 1 when the mix spent less, weighing each route by its requests', () => {
    const requests = { '/cpu': 600, '/io': 200, '/mixed': 400 };
    expect(cpuAgainstAlone(3_204, requests, alone)).to.be.closeTo(0.9, 1e-12);
    // The same CPU over more of the cheap route's requests is further below.
    expect(cpuAgainstAlone(3_204, { ...requests, '/io': 400 }, alone)).to.be.closeTo(
      3_204 / 3_880,
      1e-12,
    );
  });

  it('is not a number when the mix answered nothing', () => {
    expect(cpuAgainstAlone(100, { '/cpu': 0, '/io': 0, '/mixed': 0 }, alone)).to.be.NaN;
  });
});

describe("bench: each route's CPU alone scaled to the mix's", () => {
  const alone = { '/cpu': 3_800, '/io': 1_600, '/mixed': 2_400 }; // µs per request
  const compute = { '/cpu': 2_800, '/io': 0, '/mixed': 700 };
  const requests = { '/cpu': 600, '/io': 200, '/mixed': 400 };

  it('keeps each route alone where the mix spent what they cost alone', () => {
    const scaled = scaledToMix(3_560, requests, alone, compute);
    for (const [route, micros] of Object.entries(alone)) {
      expect(scaled[route], route).to.be.closeTo(micros, 1e-9);
    }
  });

  it('holds the loops fixed and shrinks the rest alike to what the mix measured', () => {
    // Loops: 600 × 2.8 + 400 × 0.7 = 1,960 ms. The rest alone: 600 + 320 + 680 = 1,600 ms;
    // the mix spent 3,160 ms, so the rest is 1,200 ms: three quarters of it.
    const scaled = scaledToMix(3_160, requests, alone, compute);
    expect(scaled['/cpu']).to.be.closeTo(2_800 + 0.75 * 1_000, 1e-9);
    expect(scaled['/io']).to.be.closeTo(0.75 * 1_600, 1e-9);
    expect(scaled['/mixed']).to.be.closeTo(700 + 0.75 * 1_700, 1e-9);
    let total = 0;
    for (const [route, n] of Object.entries(requests)) {
      total += (n * (scaled[route] as number)) / 1000;
    }
    expect(total).to.be.closeTo(3_160, 1e-9);
  });

  it('never takes a loop for more than the route cost alone, nor the rest below nothing', () => {
    const scaled = scaledToMix(1_000, requests, alone, { ...compute, '/io': 5_000 });
    expect(scaled['/io']).to.equal(1_600); // all of it counted as its loop
    expect(scaled['/cpu']).to.equal(2_800); // the mix spent less than the loops alone
  });
});

describe('bench: the estimate between calibration windows against what the windows measured', () => {
  const side = (count: number, joules: number) => ({ count, joules });
  const totals = (measured: [number, number], estimated: [number, number]) => ({
    sides: {
      measured: side(...measured),
      estimated: side(...estimated),
      mixed: side(3, 1),
    },
  });

  it('divides each pair’s ratio between windows by its ratio in windows, per request', () => {
    const byRoute = {
      // In windows /cpu cost 4× /io per request (0.8 against 0.2 J); between, 5× (1.0 / 0.2).
      '/cpu': totals([10, 8], [40, 40]),
      '/io': totals([20, 4], [100, 20]),
    };
    const [r] = inWindows(byRoute, [['/cpu', '/io']]);
    expect(r?.pair).to.equal('/cpu:/io');
    expect(r?.measured).to.be.closeTo(4, 1e-12);
    expect(r?.estimated).to.be.closeTo(5, 1e-12);
    expect(r?.quotient).to.be.closeTo(1.25, 1e-12);
    expect(r?.fewest).to.equal(10); // the requests on the sides split across a window count for nothing
  });

  it('is not a number where a side saw none of a route, and says so with fewest 0', () => {
    const byRoute = { '/cpu': totals([0, 0], [40, 40]), '/io': totals([20, 4], [100, 20]) };
    const [r] = inWindows(byRoute, [['/cpu', '/io']]);
    expect(r?.quotient).to.be.NaN;
    expect(r?.fewest).to.equal(0);
    const [missing] = inWindows({ '/io': totals([20, 4], [100, 20]) }, [['/cpu', '/io']]);
    expect(missing?.quotient).to.be.NaN;
    expect(missing?.fewest).to.equal(0);
  });
});
