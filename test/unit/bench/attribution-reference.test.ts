import { expect } from 'chai';
import { cpuAgainstAlone, scaledToMix } from '../../bench/attribution.bench.js';

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
