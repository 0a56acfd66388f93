import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileHostShare, hostShareDir } from '../../../src/grid/host-share/index.js';
import { tempDirUntilExit } from '../../helpers/temp-dir.js';

const KEY = 'host-share-key-0123456789';

function share(dir: string, now = () => 1_700_000_000_000): FileHostShare {
  return new FileHostShare({
    dir,
    baseUrl: 'https://api.electricitymaps.com/v3',
    apiKey: KEY,
    now,
    maxHoldMs: 300_000,
    lockStaleMs: 10_000,
  });
}

describe('FileHostShare', () => {
  let base: string;
  beforeEach(() => {
    base = tempDirUntilExit('carbonscope-share-unit-');
  });

  it('reads back what it wrote, from a private folder, never naming the key', async () => {
    const dir = hostShareDir(base);
    const s = share(dir);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    expect(await s.read('latest-DE')).to.deep.equal({
      value: { zone: 'DE' },
      fetchedAt: 1_700_000_000_000,
    });
    for (const name of readdirSync(dir)) {
      expect(name).to.not.include(KEY);
      expect(readFileSync(join(dir, name), 'utf8')).to.not.include(KEY);
    }
  });

  it('believes no hold past its cap (a date in 2099), nor a value fetched in the future', async () => {
    const dir = hostShareDir(base);
    const s = share(dir);
    await s.hold({ until: Date.parse('2099-01-01'), status: 429, zone: 'DE' });
    expect(await s.held()).to.equal(undefined);
    await s.hold({ until: 1_700_000_060_000, status: 429, zone: 'DE' });
    expect(await s.held()).to.deep.equal({ until: 1_700_000_060_000, status: 429, zone: 'DE' });
    await s.write('latest-DE', { zone: 'DE' }, Date.parse('2099-01-01'));
    expect(await s.read('latest-DE')).to.equal(undefined);
  });

  it('uses no folder that others can write to: it reads and writes nothing there', async () => {
    const dir = join(base, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const s = share(dir);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(await s.read('latest-DE')).to.equal(undefined);
  });

  it('takes one lock per key, over a lock left by a process that died long ago', async () => {
    let now = Date.now();
    const s = share(hostShareDir(base), () => now);
    const release = await s.lock('latest-DE');
    expect(release).to.be.a('function');
    expect(await s.lock('latest-DE')).to.equal(undefined);
    now += 60_000;
    expect(await s.lock('latest-DE')).to.be.a('function');
    await release?.();
  });

  it('ignores a corrupt file', async () => {
    const dir = hostShareDir(base);
    const s = share(dir);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), '{"fetchedAt":1,');
    expect(await s.read('latest-DE')).to.equal(undefined);
  });
});
