import { expect } from 'chai';
import { CoalescingCache } from '../../../src/grid/cache.js';

describe('grid: coalescing cache', () => {
  let clock: number;
  const cache = (
    options: {
      errorHoldMs?: number;
      maxEntries?: number;
      freshUntil?: (value: { value: number; fetchedAt: number }) => number;
    } = {},
  ) =>
    new CoalescingCache<number>({
      ttlMs: 1000,
      errorHoldMs: () => options.errorHoldMs ?? 0,
      maxEntries: options.maxEntries ?? 16,
      now: () => clock,
      clock: () => clock,
      freshUntil: options.freshUntil,
    });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('makes one load for 1,000 concurrent lookups of one key', async () => {
    const c = cache();
    let loads = 0;
    let release: (v: number) => void = () => undefined;
    const load = () => {
      loads++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const lookups = Array.from({ length: 1000 }, () => c.get('DE', load));
    release(42);
    const results = await Promise.all(lookups);
    expect(loads).to.equal(1);
    expect(results.every((r) => r.ok && r.value === 42)).to.equal(true);
  });

  it('serves from memory within the TTL and reloads after it', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => ++loads;
    expect(await c.get('DE', load)).to.include({ ok: true, value: 1 });
    clock += 999;
    expect(await c.get('DE', load)).to.include({ value: 1 });
    expect(c.needsRefresh('DE')).to.equal(false);
    clock += 1;
    expect(c.needsRefresh('DE')).to.equal(true);
    expect(await c.get('DE', load)).to.include({ value: 2, fetchedAt: clock });
    expect(loads).to.equal(2);
  });

  it('reloads a value once it ages out, even within its TTL, with one load for all', async () => {
    // Each value says it ages out 300 ms after its fetch.
    const c = cache({ freshUntil: (v) => v.fetchedAt + 300 });
    let loads = 0;
    const load = async () => ++loads;
    await c.get('DE', load);
    clock += 300;
    expect(c.needsRefresh('DE')).to.equal(false);
    expect(await c.get('DE', load)).to.include({ value: 1 });
    clock += 1;
    expect(c.needsRefresh('DE')).to.equal(true);
    const lookups = [c.get('DE', load), c.get('DE', load)];
    expect(c.loading('DE'), 'the reload is in flight').to.equal(true);
    expect(c.needsRefresh('DE'), 'not twice').to.equal(false);
    expect((await Promise.all(lookups)).map((r) => r.ok && r.value)).to.deep.equal([2, 2]);
    expect(c.loading('DE')).to.equal(false);
    expect(loads).to.equal(2);
  });

  it('never keeps a value past its TTL, whatever it says', async () => {
    const c = cache({ freshUntil: () => Number.POSITIVE_INFINITY });
    let loads = 0;
    await c.get('DE', async () => ++loads);
    clock += 1000;
    expect(c.needsRefresh('DE')).to.equal(true);
    expect(await c.get('DE', async () => ++loads)).to.include({ value: 2 });
  });

  it('keeps the last good value when a reload fails (stale-if-error)', async () => {
    const c = cache();
    await c.get('DE', async () => 7);
    const fetchedAt = clock;
    clock += 5000;
    const boom = new Error('upstream down');
    const result = await c.get('DE', async () => {
      throw boom;
    });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.error).to.equal(boom);
    expect(result.last).to.deep.equal({ value: 7, fetchedAt, loadedAt: fetchedAt });
    expect(c.peek('DE')).to.deep.equal({ value: 7, fetchedAt, loadedAt: fetchedAt });
  });

  it('does not reload a failed key during the hold-down, then does', async () => {
    const c = cache({ errorHoldMs: 500 });
    let loads = 0;
    const failing = async (): Promise<number> => {
      loads++;
      throw new Error('down');
    };
    await c.get('DE', failing);
    clock += 499;
    const held = await c.get('DE', failing);
    expect(loads).to.equal(1);
    expect(held).to.include({ ok: false, retryAt: 1_000_500 });
    expect(c.needsRefresh('DE')).to.equal(false);
    clock += 1;
    await c.get('DE', failing);
    expect(loads).to.equal(2);
  });

  it('survives a load that throws synchronously and loads again next time', async () => {
    const c = cache();
    const first = await c.get('DE', () => {
      throw new Error('sync');
    });
    expect(first.ok).to.equal(false);
    expect((await c.get('DE', async () => 3)).ok).to.equal(true);
  });

  it('holds at most maxEntries keys, evicting the least recently used', async () => {
    const c = cache({ maxEntries: 2 });
    await c.get('A', async () => 1);
    await c.get('B', async () => 2);
    await c.get('A', async () => 1);
    await c.get('C', async () => 3);
    expect(c.size).to.equal(2);
    expect(c.peek('B'), 'B was least recently used').to.equal(undefined);
    expect(c.peek('A')?.value).to.equal(1);
    expect(c.peek('C')?.value).to.equal(3);
  });
});
