import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileHostShare, hostShareDir } from '../../../../src/grid/host-share/index.js';
import { tempDirUntilExit } from '../../../helpers/temp-dir.js';

const KEY = 'host-share-key-0123456789';

function share(
  dir: string,
  now = () => 1_700_000_000_000,
  warn?: (line: string) => void,
): FileHostShare {
  return new FileHostShare({
    dir,
    warn,
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

  // Refused without a word, a folder another user made first (or one left open to all) turned
  // the share off for good: each process spent its own calls, and nothing said why.
  it('says once, naming the folder, why it shares nothing there', async () => {
    const dir = join(base, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const lines: string[] = [];
    const s = share(dir, undefined, (line) => lines.push(line));
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    await s.read('latest-DE');
    expect(lines).to.have.length(1);
    expect(lines[0])
      .to.include(dir)
      .and.match(/open to other users/);
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

  // A clock set back left a lock's mtime ahead of now: a lock of a process that died fetching
  // was then "fresh" until the clock caught up, an hour after a one-hour step back, and each
  // lookup of the zone waited its whole timeout for it first.
  it('takes over a lock dated ahead of its clock (a clock set back since)', async () => {
    let now = Date.now();
    const s = share(hostShareDir(base), () => now);
    expect(await s.lock('latest-DE')).to.be.a('function');
    now -= 3_600_000;
    expect(await s.lock('latest-DE')).to.be.a('function');
  });

  // Checked once, the folder was trusted for the life of the process: one removed by a tmp
  // cleaner was not made again (nothing shared from then on), and one another user made in its
  // place was written to.
  it('makes its folder again once removed, and stops using one another took', async () => {
    const dir = hostShareDir(base);
    const s = share(dir);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    rmSync(dir, { recursive: true });
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    expect(await s.read('latest-DE')).to.deep.equal({
      value: { zone: 'DE' },
      fetchedAt: 1_700_000_000_000,
    });
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  // Bounded on the wall clock, a wait for another process's fetch lasted as long as the clock
  // was set back while it waited: here, going back a second each time it is read, for ever.
  it('waits for a lock a bounded time, whatever the wall clock does', async () => {
    let now = Date.now();
    const s = share(hostShareDir(base), () => {
      now -= 1000;
      return now;
    });
    const release = await s.lock('latest-DE');
    expect(release).to.be.a('function');
    await s.waitFor('latest-DE', 200);
    await release?.();
  });

  // Named by a plain SHA-256 of the base URL and key, the files were a fingerprint of the key
  // wherever a listing of the folder went (a CI artefact, a bug report): a key of a few
  // characters, which the settings allow, found by trying them all, and any guess confirmed.
  it("names its files by the folder's own secret: one key, other names in another folder", async () => {
    const [one, two] = [hostShareDir(join(base, 'a')), hostShareDir(join(base, 'b'))];
    mkdirSync(join(base, 'a'));
    mkdirSync(join(base, 'b'));
    for (const dir of [one, two]) await share(dir).write('latest-DE', { zone: 'DE' }, 1);
    const names = (dir: string) => readdirSync(dir).filter((n) => n !== 'salt');
    expect(names(one)).to.have.length(1);
    expect(names(one)).to.not.deep.equal(names(two));
    expect(statSync(join(one, 'salt')).mode & 0o777).to.equal(0o600);
    // Another process on the folder names them as the first did.
    expect(await share(one).read('latest-DE')).to.deep.equal({
      value: { zone: 'DE' },
      fetchedAt: 1,
    });
  });

  it('ignores a corrupt file', async () => {
    const dir = hostShareDir(base);
    const s = share(dir);
    await s.write('latest-DE', { zone: 'DE' }, 1_700_000_000_000);
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), '{"fetchedAt":1,');
    expect(await s.read('latest-DE')).to.equal(undefined);
  });
});
