import { expect } from 'chai';
import { oddMethodLongPath } from '../../bench/traffic-mix.js';

describe('traffic mix: the odd method on a long path', () => {
  // The least draw gave `PATCH /`, the app's address: operation and route `/`, a label state the
  // soak's warm-up reached only by chance (1,914 -> 2,002 series after warm-up, 2026-12-06).
  it('never asks for the bare `/`, a route of its own, whatever the draw', () => {
    for (const draw of [() => 0, (n: number) => n - 1, (n: number) => n >> 1]) {
      const { method, path } = oddMethodLongPath(draw);
      expect(method).to.equal('PATCH');
      expect(path).to.match(/^\/p+$/);
    }
  });

  it('goes up to 3,000 characters after the slash', () => {
    expect(oddMethodLongPath(() => 0).path).to.have.length(2);
    expect(oddMethodLongPath((n) => n - 1).path).to.have.length(3001);
  });
});
