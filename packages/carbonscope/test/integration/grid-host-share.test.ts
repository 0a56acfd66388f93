import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { StubElectricityMaps } from '../fixtures/grid/stub-electricity-maps.js';
import { childEnv } from '../helpers/child-env.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const LOOKUP = join(libraryRoot, 'test', 'fixtures', 'grid', 'shared-lookup.mjs');
const TOKEN = 'shared-test-token-0123456789';
const LATEST = '/carbon-intensity/latest';

interface Reading {
  source: string;
  stale: boolean;
  fetchedAt: string;
  note?: string;
}

/** Lookup processes not yet ended: a test that fails or times out leaves none running. */
const running = new Set<ChildProcess>();

/** The readings printed by `count` lookup processes started at once (or one cluster). */
async function lookups(env: Record<string, string>, count: number): Promise<Reading[]> {
  const runs = Array.from({ length: count }, async () => {
    const proc = spawn(process.execPath, [LOOKUP], {
      cwd: join(libraryRoot, 'test', 'fixtures', 'grid'),
      // The suites run with GRID_SHARE=process (tools/fresh-tmpdir.sh); here the share is the
      // subject, so it is on unless the test says otherwise.
      env: childEnv({ GRID_SHARE: 'host', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a cluster's workers end with their primary.
      detached: true,
    });
    running.add(proc);
    proc.on('exit', () => running.delete(proc));
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    proc.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    const [code] = await once(proc, 'exit');
    expect(code, err).to.equal(0);
    return out
      .split('\n')
      .filter((l) => l.startsWith('reading '))
      .map((l) => JSON.parse(l.slice('reading '.length)) as Reading);
  });
  return (await Promise.all(runs)).flat();
}

describe('Electricity Maps calls shared by the processes of a host (real processes)', function () {
  this.timeout(120_000);
  let stub: StubElectricityMaps;
  let env: Record<string, string>;
  let tmp: string;

  beforeEach(async () => {
    stub = new StubElectricityMaps(TOKEN);
    tmp = tempDirUntilExit('carbonscope-host-share-');
    env = {
      TMPDIR: tmp,
      ELECTRICITY_MAPS_API_KEY: TOKEN,
      ELECTRICITY_MAPS_BASE_URL: await stub.start(),
      CARBON_ZONE: 'DE',
      LOG_LEVEL: 'warn',
    };
  });

  afterEach(async () => {
    for (const proc of running) {
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // Ended meanwhile.
      }
    }
    running.clear();
    await stub.close();
  });

  it('eight processes started at once make one call, each priced live', async () => {
    const readings = await lookups(env, 8);
    expect(readings.map((r) => r.source)).to.deep.equal(Array(8).fill('electricity-maps'));
    expect(stub.callsTo(LATEST)).to.have.length(1);
  });

  it("a node:cluster's four workers make one call", async () => {
    const readings = await lookups({ ...env, WORKERS: '4' }, 1);
    expect(readings.map((r) => r.source)).to.deep.equal(Array(4).fill('electricity-maps'));
    expect(stub.callsTo(LATEST)).to.have.length(1);
  });

  it('ten runs one after another make one call within the TTL', async () => {
    for (let i = 0; i < 10; i++) await lookups(env, 1);
    expect(stub.callsTo(LATEST)).to.have.length(1);
  });

  for (const [status, body] of [
    [429, '{"message":"Too Many Requests"}'],
    [401, '{"message":"API rate limit exceeded"}'],
  ] as const) {
    it(`an HTTP ${status} rate limit met by one process holds the others, not read as a bad key`, async () => {
      stub.next({ status, body, headers: { 'retry-after': '120' } });
      const [first] = await lookups(env, 1);
      expect(first?.source).to.not.equal('electricity-maps');
      const others = await lookups(env, 3);
      expect(stub.callsTo(LATEST)).to.have.length(1);
      for (const r of others) {
        expect(r.note).to.match(/rate limit/i);
        expect(r.note).to.not.match(/key/i);
      }
    });
  }

  it("a process that meets a rate limit serves another's last good value, stale, not the average", async () => {
    const ttl = { ...env, GRID_CACHE_TTL_SECONDS: '1' };
    const [first] = await lookups(ttl, 1);
    expect(first?.source).to.equal('electricity-maps');
    // Past the value's TTL, counted from its fetch in the other process.
    const expired = Date.parse(first?.fetchedAt ?? '') + 1000;
    while (Date.now() <= expired) await new Promise((r) => setTimeout(r, expired + 1 - Date.now()));
    stub.next({ status: 429, body: '{}', headers: { 'retry-after': '120' } });
    const later = await lookups(ttl, 2);
    expect(stub.callsTo(LATEST)).to.have.length(2);
    for (const r of later) {
      expect(r).to.include({
        source: 'electricity-maps',
        stale: true,
        fetchedAt: first?.fetchedAt,
      });
    }
  });

  // Only an option of createGridIntensity kept a process to its own cache: `carbonscope run`,
  // `--import carbonscope/register` and the service read the environment alone, so their users
  // could not (a CI job's test counting its calls to a stub, a tmp that must stay untouched).
  it('GRID_SHARE=process keeps each process to its own calls, writing no folder', async () => {
    const alone = { ...env, GRID_SHARE: 'process' };
    await lookups(alone, 1);
    await lookups(alone, 1);
    expect(stub.callsTo(LATEST)).to.have.length(2);
    expect(readdirSync(tmp).filter((n) => n.startsWith('carbonscope-grid-'))).to.deep.equal([]);
  });

  it('keeps its files private, without the key, and ignores a corrupt one', async () => {
    await lookups(env, 1);
    const dir = join(tmp, readdirSync(tmp).find((n) => n.startsWith('carbonscope-grid-')) ?? '');
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    const files = readdirSync(dir);
    expect(files).to.have.length.above(0);
    for (const name of files) {
      expect(statSync(join(dir, name)).mode & 0o777).to.equal(0o600);
      expect(readFileSync(join(dir, name), 'utf8')).to.not.include(TOKEN);
      // The folder's secret kept: a corrupt value, not a share renamed, is what is tried here.
      if (name !== 'salt') writeFileSync(join(dir, name), '{"fetchedAt":');
    }
    const [again] = await lookups(env, 1);
    expect(again?.source).to.equal('electricity-maps');
    expect(stub.callsTo(LATEST)).to.have.length(2);
  });
});
