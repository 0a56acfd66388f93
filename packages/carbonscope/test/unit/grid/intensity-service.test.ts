import electricityMapsYearly from '@tgwf/co2/data/electricity-maps';
import { expect } from 'chai';
import { pino } from 'pino';
import { annualAverage } from '../../../src/grid/annual-averages.js';
import {
  createElectricityMapsClient,
  type ElectricityMapsClient,
  MAX_RATE_LIMIT_HOLD_MS,
} from '../../../src/grid/electricity-maps-client.js';
import { InvalidZoneError, UnknownZoneError } from '../../../src/grid/errors.js';
import {
  createGridIntensity,
  IntensityService,
  registerGridMetrics,
} from '../../../src/grid/index.js';
import { gaugeZones as gaugeZoneSet } from '../../../src/grid/metrics.js';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import { loadSettings, SettingsError } from '../../../src/settings.js';
import {
  fixture,
  historyFor,
  latestAt,
  StubElectricityMaps,
} from '../../fixtures/grid/stub-electricity-maps.js';
import { createTestMetrics, type TestMetrics } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';

const KEY = 'em-service-key-51d0e2b8';
const TTL_S = 300;
/**
 * The upstream's timeout where a test waits for its answer: the stub is on loopback, but the
 * process's first fetch loads undici, and at load 10 that alone outlasted 200 ms ("did not
 * answer in time"). A test of the timeout itself sets a short one.
 */
const TIMEOUT_MS = 5000;

async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const GAUGE = prometheusName(METRICS.gridIntensity);

/** The zones the grid intensity gauge has a series for, sorted. */
function gaugeZones(exposition: string): string[] {
  return [
    ...exposition.matchAll(new RegExp(`${GAUGE}\\{[^}]*carbonscope_grid_zone="([^"]+)"`, 'g')),
  ]
    .map((m) => m[1])
    .sort();
}

/** A pino line as the tests read it. */
interface Logged {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * Lets a background refresh (started by peek) finish its loopback round trip: `calls` upstream
 * calls made, then, where given, until `done` (which must start nothing) says its answer was
 * taken; a fixed 20 ms for that, at load 13, ended before it was (85 refreshes, not 86).
 */
async function settle(
  stub: StubElectricityMaps,
  calls: number,
  done?: { what: string; check: () => boolean },
): Promise<void> {
  await waitFor(`${calls} upstream calls`, () => stub.calls.length >= calls, TIMEOUT_MS);
  if (done) await waitFor(done.what, done.check, TIMEOUT_MS);
  else await new Promise((r) => setTimeout(r, 20));
}

describe('grid: intensity service (fallback chain)', () => {
  const stub = new StubElectricityMaps(KEY, () => clock);
  const lines: string[] = [];
  // No `secrets` on purpose: the logger's last-line redaction must not hide a leak from the test.
  const logger = pino({ level: 'trace' }, { write: (s: string) => lines.push(s) });
  let clock: number;
  /** How far the wall clock was stepped from `clock`, which the monotonic clock follows. */
  let wallStep: number;
  let metrics: TestMetrics;

  before(() => stub.start());
  after(async () => {
    await stub.close();
    for (const line of lines) expect(line).not.to.include(KEY);
  });
  beforeEach(() => {
    stub.reset();
    clock = Date.parse('2024-03-01T12:00:00Z');
    wallStep = 0;
    metrics = createTestMetrics();
  });
  afterEach(() => metrics.shutdown());

  /** Every upstream call fails until stub.reset(). */
  const outage = () => stub.next(...Array.from({ length: 1000 }, () => ({ status: 503 })));
  /** The log lines since `from` whose message includes `text`, with their pino level. */
  const said = (from: number, text: string) =>
    lines
      .slice(from)
      .map((l) => JSON.parse(l) as Logged)
      .filter((l) => l.msg.includes(text));

  function service(env: Record<string, string> = {}, metricZones?: number): IntensityService {
    const config = loadSettings({
      ELECTRICITY_MAPS_API_KEY: KEY,
      ELECTRICITY_MAPS_BASE_URL: stub.url,
      GRID_CACHE_TTL_SECONDS: String(TTL_S),
      GRID_TIMEOUT_MS: String(TIMEOUT_MS),
      ...env,
    });
    const clocks = { now: () => clock + wallStep, clock: () => clock };
    const grid = createGridIntensity({
      config,
      logger,
      ...clocks,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 },
      metricZones,
    });
    registerGridMetrics(metrics.meter, grid.defaultZone, grid.reportedZones, grid);
    return grid;
  }

  it('answers a fresh Electricity Maps value for the default zone', async () => {
    const r = await service().current();
    expect(r).to.deep.equal({
      zone: 'DE',
      carbonIntensity: 322,
      unit: 'gCO2e/kWh',
      source: 'electricity-maps',
      isEstimated: false,
      stale: false,
      ageSeconds: 0,
      datetime: '2024-03-01T12:00:00.000Z',
      fetchedAt: '2024-03-01T12:00:00.000Z',
    });
  });

  it('labels an estimated upstream value as estimated', async () => {
    stub.next({ body: fixture('latest-estimated.json') });
    const r = await service().current('FR');
    expect(r).to.include({ zone: 'FR', isEstimated: true, source: 'electricity-maps' });
  });

  it('makes one upstream call for 1,000 concurrent lookups of one zone', async () => {
    const grid = service();
    const readings = await Promise.all(Array.from({ length: 1000 }, () => grid.current('DE')));
    expect(stub.calls).to.have.length(1);
    expect(new Set(readings.map((r) => r.carbonIntensity))).to.deep.equal(new Set([322]));
  });

  it('serves from cache within the TTL, counting the data’s age, and asks again after it', async () => {
    const grid = service();
    await grid.current();
    clock += 42_000;
    const cached = await grid.current();
    expect(cached.ageSeconds).to.equal(42);
    expect(stub.calls).to.have.length(1);
    clock += TTL_S * 1000;
    const fresh = await grid.current();
    // Fetched anew at 12:05:42, the value is still the one for the hour from 12:00: as old.
    expect(fresh).to.include({ ageSeconds: TTL_S + 42, fetchedAt: '2024-03-01T12:05:42.000Z' });
    expect(stub.calls).to.have.length(2);
  });

  it('keeps serving the last good value, flagged stale with its age, when the upstream fails', async () => {
    const grid = service();
    // A value for this hour: the documented example's 2019 would be past any age limit.
    stub.next({ body: latestAt('DE', '2024-03-01T12:00:00.000Z') });
    await grid.current();
    clock += (TTL_S + 60) * 1000;
    stub.next({ status: 500 }, { status: 500 });
    const r = await grid.current();
    expect(r).to.include({ source: 'electricity-maps', carbonIntensity: 322, stale: true });
    expect(r.ageSeconds).to.equal(TTL_S + 60);
    expect(r.note).to.match(/server error.*last good value until 2024-03-01T15:00:00.000Z/);
    expect(stub.calls).to.have.length(3);
    // During the hold-down the broken upstream is not asked again.
    await grid.current();
    expect(stub.calls).to.have.length(3);
    clock += 30_000;
    const recovered = await grid.current();
    expect(recovered.stale).to.equal(false);
    expect(stub.calls).to.have.length(4);
  });

  for (const [name, answer, phrase] of [
    ['a timeout', { delayMs: 1000, body: fixture('latest.json') }, 'did not answer in time'],
    [
      'a bad key',
      { status: 401, body: fixture('error-401-token-invalid.json') },
      'rejected the API key',
    ],
    [
      'a key not entitled to the zone',
      { status: 403, body: fixture('error-403-not-entitled.json') },
      'not entitled',
    ],
    ['a rate limit', { status: 429, headers: { 'retry-after': '3600' } }, 'rate limit'],
    ['a malformed body', { body: '{"oops":' }, 'unexpected body'],
  ] as const) {
    it(`falls back to the annual average, saying why, on ${name} with no value cached`, async () => {
      stub.next(answer, answer);
      // The timeout under the stub's delay of 1 s; the other answers are taken in time.
      const timeout: Record<string, string> =
        name === 'a timeout' ? { GRID_TIMEOUT_MS: '200' } : {};
      const r = await service(timeout).current('FR');
      const avg = annualAverage('FR');
      expect(r).to.include({
        zone: 'FR',
        source: 'annual-average',
        carbonIntensity: avg?.carbonIntensity,
        isEstimated: true,
        stale: false,
        datetime: null,
      });
      expect(r.note).to.include(phrase);
      expect(r.note).not.to.include(KEY);
    });
  }

  it('a 429 with a Retry-After of an hour holds back every zone (the key is limited), for the cap', async () => {
    const grid = service();
    stub.next({ status: 429, headers: { 'retry-after': '3600' } });
    const fr = await grid.current('FR');
    expect(fr).to.include({ source: 'annual-average' });
    expect(fr.note).to.include('rate limit');
    const de = await grid.current('DE');
    expect(de).to.include({ source: 'annual-average' });
    expect(de.note).to.include('rate limit');
    clock += MAX_RATE_LIMIT_HOLD_MS - 1;
    expect((await grid.current('FR')).source).to.equal('annual-average');
    expect((await grid.current('DE')).source).to.equal('annual-average');
    expect(stub.callsTo('/latest').map((c) => c.zone)).to.deep.equal(['FR']);
    clock += 1;
    expect((await grid.current('FR')).source, 'live again after the cap').to.equal(
      'electricity-maps',
    );
    expect((await grid.current('DE')).source).to.equal('electricity-maps');
  });

  // Held 30 s, a rate limit that named no wait was asked 120 times an hour, ten times the healthy
  // TTL's rate, against a quota of tens an hour (per key): limited, the key stayed limited.
  for (const [name, answer, attempts] of [
    ['a 401 that is a rate limit', { status: 401, body: '{"message":"Rate limit exceeded"}' }, 1],
    ['a 429', { status: 429 }, 2],
  ] as const) {
    it(`${name} without Retry-After holds the zone for the cap, not the 30 s of other failures`, async () => {
      const grid = service();
      stub.next(...Array.from({ length: attempts }, () => answer));
      expect((await grid.current()).source).to.equal('annual-average');
      const calls = stub.calls.length;
      expect(calls).to.equal(attempts);
      clock += 30_000;
      expect((await grid.current()).source).to.equal('annual-average');
      clock += MAX_RATE_LIMIT_HOLD_MS - 30_001;
      await grid.current();
      expect(stub.calls, 'not asked again within the cap').to.have.length(calls);
      clock += 1;
      expect((await grid.current()).source, 'asked again after it').to.equal('electricity-maps');
    });
  }

  it('refuses a made-up but well-formed zone without spending an upstream call', async () => {
    const grid = service();
    for (const zone of ['AQ-XX', 'DE-X1', 'FR-NOPE-2', 'UK', 'EU', 'XX']) {
      const err = await rejection(grid.current(zone));
      expect(err, zone).to.be.instanceOf(UnknownZoneError);
      expect((err as Error).message).to.include(zone);
    }
    expect(await rejection(grid.history('DE-X1'))).to.be.instanceOf(UnknownZoneError);
    expect(stub.calls).to.have.length(0);
  });

  it('asks the upstream for every zone of the Electricity Maps list, sub-zones included', async () => {
    const grid = service();
    for (const zone of ['US-CAL-CISO', 'SE-SE3', 'IN-NO', 'DK-DK1']) {
      expect((await grid.current(zone)).source, zone).to.equal('electricity-maps');
    }
    expect(stub.calls.map((c) => c.zone)).to.deep.equal([
      'US-CAL-CISO',
      'SE-SE3',
      'IN-NO',
      'DK-DK1',
    ]);
  });

  it('answers a country Electricity Maps has no zone for from its average, without asking', async () => {
    const r = await service().current('AQ');
    expect(r).to.include({ source: 'world-average', isEstimated: true });
    expect(stub.calls).to.have.length(0);
  });

  it('refuses a zone longer than the limit with a short message, before anything else', async () => {
    const long = `DE-${'X'.repeat(8000)}`;
    const err = await rejection(service().current(long));
    expect(err).to.be.instanceOf(InvalidZoneError);
    expect((err as Error).message.length).to.be.below(300);
    expect(stub.calls).to.have.length(0);
  });

  it('an upstream 404 for a listed zone never answered: the annual average, and no new call for a TTL', async () => {
    stub.unknownZones.add('AX');
    try {
      const grid = service();
      const r = await grid.current('AX');
      expect(r).to.include({ source: annualAverage('AX')?.source, stale: false });
      expect(r.note).to.include('does not know this zone');
      clock += 60_000;
      expect((await grid.current('AX')).source).to.equal(annualAverage('AX')?.source);
      expect(stub.calls, 'a negative answer is cached').to.have.length(1);
      clock += TTL_S * 1000;
      await grid.current('AX');
      expect(stub.calls).to.have.length(2);
    } finally {
      stub.unknownZones.delete('AX');
    }
  });

  it('an upstream 404 for a zone that answered before keeps the last good value', async () => {
    const grid = service();
    stub.next({ body: latestAt('FR', '2024-03-01T12:00:00.000Z') });
    expect((await grid.current('FR')).source).to.equal('electricity-maps');
    clock += TTL_S * 1000 + 1;
    stub.unknownZones.add('FR');
    try {
      const r = await grid.current('FR');
      expect(r).to.include({ source: 'electricity-maps', carbonIntensity: 322, stale: true });
      expect(r.note).to.include('does not know this zone').and.include('last good value');
      // Beyond the stale limit it is the annual average, never an unknown zone.
      clock += 3 * 3600_000;
      const later = await grid.current('FR');
      expect(later).to.include({ source: 'annual-average', zone: 'FR' });
    } finally {
      stub.unknownZones.delete('FR');
    }
  });

  it('refuses an invalid zone, and a zone no country has, without asking the upstream', async () => {
    const grid = service();
    expect(await rejection(grid.current('germany'))).to.be.instanceOf(InvalidZoneError);
    expect(await rejection(grid.current('ZZ'))).to.be.instanceOf(UnknownZoneError);
    expect(stub.calls).to.have.length(0);
  });

  it('uses the fixed CARBON_INTENSITY over every other source', async () => {
    const grid = service({ CARBON_INTENSITY: '123.5' });
    const r = await grid.current('FR');
    expect(r).to.include({ carbonIntensity: 123.5, source: 'fixed', isEstimated: false });
    expect(grid.peek()?.source).to.equal('fixed');
    expect((await grid.history()).note).to.include('fixed');
    expect(stub.calls).to.have.length(0);
  });

  describe('a last good value too old to trust (GRID_STALE_MAX_AGE_SECONDS)', () => {
    // The hour the upstream's value stands for: the limit (3 h by default) counts from it.
    const HOUR = '2024-03-01T11:00:00.000Z';
    const LIMIT_MS = 3 * 3600_000;
    const FETCHED = Date.parse('2024-03-01T11:20:00Z');

    async function liveAt(env: Record<string, string> = {}): Promise<IntensityService> {
      clock = FETCHED;
      stub.next({ body: latestAt('DE', HOUR) });
      const grid = service(env);
      expect(await grid.current()).to.include({ source: 'electricity-maps', stale: false });
      return grid;
    }

    it('is served stale up to the limit from its datetime, then the annual average, said once', async () => {
      const grid = await liveAt();
      outage();
      const from = lines.length;
      clock = Date.parse(HOUR) + LIMIT_MS;
      expect(await grid.current()).to.include({
        source: 'electricity-maps',
        carbonIntensity: 322,
        stale: true,
      });
      clock += 1000;
      const average = annualAverage('DE');
      expect(average?.source).to.equal('annual-average');
      const r = await grid.current();
      expect(r).to.include({
        zone: 'DE',
        source: 'annual-average',
        carbonIntensity: average?.carbonIntensity,
        isEstimated: true,
        stale: false,
        datetime: null,
      });
      expect(r.note).to.include(HOUR).and.include('GRID_STALE_MAX_AGE_SECONDS');
      expect(grid.peek(), 'the meter prices with the same').to.deep.equal(r);
      expect(
        await metrics.value(GAUGE, {
          carbonscope_grid_zone: 'DE',
          carbonscope_grid_source: 'annual-average',
        }),
      ).to.equal(average?.carbonIntensity);
      // An hour of samples and lookups through the outage: the average throughout, said once.
      for (let i = 0; i < 120; i++) {
        clock += 30_000;
        grid.peek();
        expect((await grid.current()).source).to.equal('annual-average');
      }
      const warned = said(from, 'is older than GRID_STALE_MAX_AGE_SECONDS');
      expect(warned).to.have.length(1);
      expect(warned[0]?.level, 'a warning').to.equal(40);
    });

    it('is not served past the limit by the meter’s peek either, while a rate limit holds', async () => {
      const grid = await liveAt();
      clock = Date.parse(HOUR) + LIMIT_MS - 60_000;
      stub.next({ status: 429, headers: { 'retry-after': '300' } });
      expect(await grid.current()).to.include({ source: 'electricity-maps', stale: true });
      const from = lines.length;
      clock += 60_001;
      for (let i = 0; i < 50; i++) {
        expect(grid.peek()).to.include({ source: 'annual-average', stale: false });
      }
      expect(grid.lastReading('DE')).to.include({ source: 'annual-average' });
      // The lookup the meter's peek starts as the value ages out says it, once, at once.
      expect(said(from, 'is older than GRID_STALE_MAX_AGE_SECONDS')).to.have.length(1);
      expect(stub.calls, 'the hold is kept: no call until it ends').to.have.length(2);
    });

    it('gives way to live values when Electricity Maps answers again, said once', async () => {
      const grid = await liveAt();
      outage();
      const from = lines.length;
      clock = Date.parse(HOUR) + LIMIT_MS + 1000;
      expect((await grid.current()).source).to.equal('annual-average');
      stub.reset();
      const NEXT = '2024-03-01T14:00:00.000Z';
      stub.next({ body: latestAt('DE', NEXT) });
      clock += 30_000; // the error hold-down, min(30 s, TTL), is over
      const live = await grid.current();
      expect(live).to.include({ source: 'electricity-maps', stale: false, datetime: NEXT });
      expect(grid.peek()).to.deep.equal(live);
      clock += 1000;
      await grid.current();
      const recovered = said(from, 'live values are used again');
      expect(recovered).to.have.length(1);
      expect(recovered[0]?.level, 'a warning, as the outage was').to.equal(40);
      // A later outage is another one: said again, once.
      outage();
      clock = Date.parse(NEXT) + LIMIT_MS + 1000;
      expect((await grid.current()).source).to.equal('annual-average');
      clock += 30_000;
      expect((await grid.current()).source).to.equal('annual-average');
      expect(said(from, 'is older than GRID_STALE_MAX_AGE_SECONDS')).to.have.length(2);
    });

    it('an outage that starts past the limit is one warning, and its end one info line', async () => {
      const grid = await liveAt({ GRID_STALE_MAX_AGE_SECONDS: '0' });
      outage();
      const from = lines.length;
      clock += TTL_S * 1000;
      expect((await grid.current()).source).to.equal('annual-average');
      clock += 30_000;
      await grid.current();
      const warned = said(from, 'grid: ').filter((l) => l.level >= 40);
      expect(warned, 'the failure and the switch to the average are one line').to.have.length(1);
      expect(warned[0]?.msg)
        .to.include('server error')
        .and.include('is older than GRID_STALE_MAX_AGE_SECONDS');
      stub.reset();
      stub.next({ body: latestAt('DE', HOUR) });
      clock += 30_000;
      expect(await grid.current()).to.include({ source: 'electricity-maps', stale: false });
      const ended = said(from, 'grid: ').filter((l) => / answers (steadily )?again/.test(l.msg));
      expect(ended.map((l) => l.msg)).to.deep.equal([
        'grid: zone DE: Electricity Maps answers again after 1 min; its live values are used again',
      ]);
    });

    it('a live answer for an hour older than the limit (delayed upstream) prices with the average', async () => {
      clock = Date.parse('2024-03-01T15:20:00Z'); // HOUR is 4 h 20 min old
      stub.next(...Array.from({ length: 100 }, () => ({ body: latestAt('DE', HOUR) })));
      const grid = service();
      const from = lines.length;
      const average = annualAverage('DE');
      const r = await grid.current();
      expect(r).to.include({
        zone: 'DE',
        source: 'annual-average',
        carbonIntensity: average?.carbonIntensity,
        isEstimated: true,
        stale: false,
        datetime: null,
      });
      expect(r.note)
        .to.include(`latest Electricity Maps value, for ${HOUR}`)
        .and.include('is older than GRID_STALE_MAX_AGE_SECONDS (3 h)');
      expect(grid.peek(), 'the meter prices with the same').to.deep.equal(r);
      expect(
        await metrics.value(GAUGE, {
          carbonscope_grid_zone: 'DE',
          carbonscope_grid_source: 'annual-average',
        }),
        'the fallback alert sees it',
      ).to.equal(average?.carbonIntensity);
      // An hour of it: asked once a TTL, the average throughout, the switch said once.
      for (let i = 0; i < 120; i++) {
        clock += 30_000;
        grid.peek();
        expect((await grid.current()).source).to.equal('annual-average');
      }
      expect(stub.callsTo('/latest'), 'one call a TTL: the answers are good ones').to.have.length(
        13,
      );
      expect(said(from, 'is older than GRID_STALE_MAX_AGE_SECONDS')).to.have.length(1);
      const warned = said(from, 'grid: ').filter((l) => l.level >= 40);
      expect(warned.map((l) => l.failingForSeconds)).to.deep.equal([
        0, 600, 1200, 1800, 2400, 3000, 3600,
      ]);
      // The upstream catches up: live again, said in one line.
      stub.reset();
      const NOW = '2024-03-01T16:00:00.000Z';
      stub.next({ body: latestAt('DE', NOW) });
      clock += TTL_S * 1000;
      expect(await grid.current()).to.include({
        source: 'electricity-maps',
        stale: false,
        datetime: NOW,
      });
      expect(
        said(from, 'grid: ').filter((l) => / answers (steadily )?again/.test(l.msg)),
      ).to.have.length(1);
      expect(said(from, 'live values are used again')).to.have.length(1);
    });

    describe('a live value whose limit passes within its TTL: the upstream is asked again', () => {
      const hourStart = (ms: number) => new Date(ms - (ms % 3600_000)).toISOString();
      /** Lets a fake client's answer, a microtask away, reach the service. */
      const flush = () => new Promise<void>((r) => setImmediate(r));

      /** A healthy upstream: the value for the hour now running by the test's clock, counted. */
      function healthyUpstream(): { client: ElectricityMapsClient; calledAt: number[] } {
        const calledAt: number[] = [];
        const client: ElectricityMapsClient = {
          latest: async (zone) => {
            calledAt.push(clock);
            return {
              zone,
              carbonIntensity: 322,
              datetime: hourStart(clock),
              isEstimated: false,
              estimationMethod: null,
            };
          },
          history: async () => [],
        };
        return { client, calledAt };
      }

      // The reviewer's case: with a limit of 0 a healthy upstream was called delayed each hour,
      // without being asked, and its recovery logged 2 min later; the gauge read the average.
      it('limit 0, fetched at 11:57 for 11:00: no delayed warning, no average, bounded calls', async () => {
        const { client, calledAt } = healthyUpstream();
        clock = Date.parse('2024-03-01T11:57:00Z');
        const grid = new IntensityService({
          defaultZone: 'DE',
          client,
          cacheTtlMs: TTL_S * 1000,
          maxStaleMs: 0,
          now: () => clock,
          clock: () => clock,
          logger,
        });
        registerGridMetrics(metrics.meter, 'DE', gaugeZoneSet('DE', 8), grid);
        const from = lines.length;
        expect(await grid.current()).to.include({ source: 'electricity-maps', datetime: HOUR });
        const end = Date.parse('2024-03-01T14:02:00Z');
        const seen = new Set<string>();
        // The meter samples every 10 s; a request and a scrape come once a minute.
        while (clock < end) {
          clock += 10_000;
          seen.add(`peek ${grid.peek()?.source}`);
          await flush();
          if (clock % 60_000 !== 0) continue;
          seen.add(`current ${(await grid.current()).source}`);
          const text = await metrics.scrape();
          for (const m of text.matchAll(/carbonscope_grid_source="([^"]+)"/g)) {
            seen.add(`gauge ${m[1]}`);
          }
        }
        expect(said(from, 'delayed'), 'the upstream was never late').to.deep.equal([]);
        expect(said(from, 'grid: zone DE'), 'nothing to say: no outage').to.deep.equal([]);
        expect([...seen].sort()).to.deep.equal([
          'current electricity-maps',
          'gauge electricity-maps',
          'peek electricity-maps',
        ]);
        // A call a TTL, and one more only as a value aged out before its TTL ended: never two
        // within a TTL but at the first sample of an hour, and at most once an hour.
        const early = calledAt.filter((t, i) => i > 0 && t - (calledAt[i - 1] ?? 0) < TTL_S * 1000);
        for (const t of early) expect(t % 3600_000, new Date(t).toISOString()).to.equal(10_000);
        expect(new Set(early.map(hourStart)).size).to.equal(early.length);
        expect(early.length).to.be.within(1, 3);
        expect(calledAt.length).to.be.at.most(
          (end - Date.parse('2024-03-01T11:57:00Z')) / (TTL_S * 1000) + 1 + 3,
        );
      });

      it('asks once; an answer still past the limit is a delayed value: the average, said once', async () => {
        clock = Date.parse('2024-03-01T13:58:00Z'); // HOUR is 2 h 58 min old: within 3 h
        stub.next({ body: latestAt('DE', HOUR) }, { body: latestAt('DE', HOUR) });
        const grid = service();
        expect(await grid.current()).to.include({ source: 'electricity-maps', stale: false });
        const from = lines.length;
        clock = Date.parse(HOUR) + LIMIT_MS + 1000; // within the TTL of the fetch
        // The meter's sample asks again and, until the answer, keeps the value a second past.
        expect(grid.peek()).to.include({ source: 'electricity-maps', ageSeconds: 10801 });
        expect(grid.lastReading('DE')).to.include({ source: 'electricity-maps' });
        await settle(stub, 2, {
          what: 'the delayed answer taken',
          check: () => grid.lastReading('DE')?.source === 'annual-average',
        });
        expect(grid.peek()).to.include({ source: 'annual-average', stale: false });
        expect(grid.lastReading('DE')).to.include({ source: 'annual-average' });
        expect(await grid.current()).to.include({ source: 'annual-average' });
        // The rest of that answer's TTL: no other call, the switch said once, as a delay.
        for (let i = 0; i < 29; i++) {
          clock += 10_000;
          expect(grid.peek()).to.include({ source: 'annual-average' });
          expect((await grid.current()).source).to.equal('annual-average');
        }
        expect(stub.callsTo('/latest'), 'one more call, not one per sample').to.have.length(2);
        const told = said(from, 'grid: zone DE');
        expect(told.map((l) => [l.level, l.kind])).to.deep.equal([[40, 'delayed']]);
        // Its TTL over, the upstream has caught up (the stub answers the hour now running).
        clock += 10_000;
        expect(await grid.current()).to.include({ source: 'electricity-maps', stale: false });
        expect(said(from, 'live values are used again')).to.have.length(1);
      });

      it('a failed answer is an outage, not a delay: the average, with its reason, once', async () => {
        clock = Date.parse('2024-03-01T13:58:00Z');
        stub.next({ body: latestAt('DE', HOUR) }, { status: 503 }, { status: 503 });
        const grid = service();
        await grid.current();
        const from = lines.length;
        clock = Date.parse(HOUR) + LIMIT_MS + 1000;
        const r = await grid.current();
        expect(r).to.include({ source: 'annual-average' });
        expect(r.note).to.include(`last good Electricity Maps value, for ${HOUR}`);
        // The 30 s hold-down is kept: samples and lookups within it make no call.
        for (let i = 0; i < 29; i++) {
          clock += 1000;
          expect(grid.peek()).to.include({ source: 'annual-average' });
          expect((await grid.current()).source).to.equal('annual-average');
        }
        expect(stub.callsTo('/latest'), 'the fetch, the attempt and its retry').to.have.length(3);
        const warned = said(from, 'grid: zone DE');
        expect(warned).to.have.length(1);
        expect(warned[0]?.msg)
          .to.include('server error')
          .and.include('is older than GRID_STALE_MAX_AGE_SECONDS')
          .and.not.include('delayed');
      });

      // With no readable hour (a forecast ahead of our clock, an unreadable datetime), the age
      // counts from the fetch: a TTL over an hour asks again an hour on, not every sample.
      const cases: Array<[string, () => string]> = [
        ['a forecast', () => hourStart(clock + 3600_000)], // the next hour's, always ahead
        ['an unreadable datetime', () => 'the 11 o’clock hour'],
      ];
      for (const [what, datetimeNow] of cases) {
        it(`${what}: asked again an hour after its fetch, once, and never called delayed`, async () => {
          const calledAt: number[] = [];
          const client: ElectricityMapsClient = {
            latest: async (zone) => {
              calledAt.push(clock);
              const point = { carbonIntensity: 322, isEstimated: false, estimationMethod: null };
              return { zone, datetime: datetimeNow(), ...point };
            },
            history: async () => [],
          };
          clock = Date.parse('2024-03-01T11:20:00Z');
          const grid = new IntensityService({
            defaultZone: 'DE',
            client,
            cacheTtlMs: 2 * 3600_000,
            maxStaleMs: 0,
            now: () => clock,
            clock: () => clock,
            logger,
          });
          const from = lines.length;
          await grid.current();
          for (let i = 0; i < 360; i++) {
            expect(grid.peek()).to.include({ source: 'electricity-maps' });
            await flush();
            clock += 60_000;
          }
          const start = Date.parse('2024-03-01T11:20:00Z');
          expect(calledAt.map((t) => (t - start) / 60_000)).to.deep.equal([
            0, 61, 122, 183, 244, 305,
          ]);
          expect(said(from, 'grid: zone DE')).to.deep.equal([]);
        });
      }
    });

    it('a value for the hour now running is live whatever the limit, 0 included', async () => {
      clock = Date.parse('2024-03-01T11:59:59Z');
      stub.next({ body: latestAt('DE', HOUR) }, { body: latestAt('DE', HOUR) });
      const grid = service({ GRID_STALE_MAX_AGE_SECONDS: '0' });
      expect(await grid.current()).to.include({ source: 'electricity-maps', stale: false });
      // An hour on, the value for 11:00 is no longer the hour's: past a limit of 0.
      clock = Date.parse('2024-03-01T12:00:01Z') + TTL_S * 1000;
      expect(await grid.current()).to.include({ source: 'annual-average' });
    });

    it('counts from the fetch when the datetime is later than it (a skewed clock)', async () => {
      clock = Date.parse(HOUR) - 3600_000;
      stub.next({ body: latestAt('DE', HOUR) });
      const grid = service();
      await grid.current();
      outage();
      clock += LIMIT_MS;
      expect(await grid.current()).to.include({ source: 'electricity-maps', stale: true });
      clock += 1000;
      expect((await grid.current()).source).to.equal('annual-average');
    });

    it('follows the setting: 0 never serves a stale value, a day serves it for a day', async () => {
      const never = await liveAt({ GRID_STALE_MAX_AGE_SECONDS: '0' });
      clock += TTL_S * 1000;
      outage();
      expect((await never.current()).source).to.equal('annual-average');
      stub.reset();
      const day = await liveAt({ GRID_STALE_MAX_AGE_SECONDS: '86400' });
      outage();
      clock = Date.parse(HOUR) + 86_400_000;
      expect(await day.current()).to.include({ source: 'electricity-maps', stale: true });
      clock += 1000;
      expect((await day.current()).source).to.equal('annual-average');
    });

    it('defaults to 3 h', () => {
      expect(loadSettings({}).grid.maxStaleMs).to.equal(LIMIT_MS);
    });

    describe('the switch is said by a lookup, never by a scrape', () => {
      /** FR is reported by the gauge from lastReading() alone (DE, configured, is peeked). */
      const frLines = (from: number) => said(from, 'grid: zone FR');
      const frAverage = () =>
        metrics.value(GAUGE, {
          carbonscope_grid_zone: 'FR',
          carbonscope_grid_source: 'annual-average',
        });

      it('a last good value past the limit: scrapes show the average and say nothing', async () => {
        clock = FETCHED;
        stub.next({ body: latestAt('FR', HOUR) });
        const grid = service();
        expect(await grid.current('FR')).to.include({ source: 'electricity-maps' });
        clock = Date.parse(HOUR) + LIMIT_MS - 60_000;
        stub.next({ status: 429, headers: { 'retry-after': '300' } });
        expect(await grid.current('FR')).to.include({ stale: true });
        const from = lines.length;
        clock += 60_001; // past the limit, within the 5 min hold
        for (let i = 0; i < 20; i++) {
          expect(grid.lastReading('FR')).to.include({ source: 'annual-average' });
          expect(await frAverage()).to.equal(annualAverage('FR')?.carbonIntensity);
          clock += 10_000;
        }
        expect(frLines(from), 'scrapes say nothing').to.deep.equal([]);
        // The next lookup, still within the hold (no call), says the switch, once.
        expect((await grid.current('FR')).source).to.equal('annual-average');
        clock += 10_000;
        expect((await grid.current('FR')).source).to.equal('annual-average');
        const told = frLines(from);
        expect(told.map((l) => l.level)).to.deep.equal([40]);
        expect(told[0]?.msg).to.include(`for ${HOUR}, is older than GRID_STALE_MAX_AGE_SECONDS`);
        // The data's age when said: 3 h 3 min 20 s from its hour (the limit is 3 h).
        expect(told[0]).to.include({
          ageSeconds: LIMIT_MS / 1000 + 200,
          staleMaxAgeSeconds: 10800,
        });
        expect(stub.callsTo('/latest').filter((c) => c.zone === 'FR')).to.have.length(2);
      });

      it('a live value delayed past the limit: scrapes are no lookups and tell no outage', async () => {
        clock = Date.parse('2024-03-01T13:58:00Z'); // HOUR is 2 h 58 min old: within 3 h
        stub.next({ body: latestAt('FR', HOUR) });
        const grid = service();
        expect(await grid.current('FR')).to.include({ source: 'electricity-maps', stale: false });
        // DE, the gauge's peeked zone, answered before FR's next answer is queued: a lookup
        // asks again, and the upstream still answers that hour, so it is late.
        expect(await grid.current('DE')).to.include({ source: 'electricity-maps' });
        stub.next({ body: latestAt('FR', HOUR) });
        const from = lines.length;
        clock = Date.parse(HOUR) + LIMIT_MS + 1000; // within the TTL of the fetch
        for (let i = 0; i < 12; i++) {
          expect(grid.lastReading('FR')).to.include({ source: 'annual-average' });
          expect(await frAverage()).to.equal(annualAverage('FR')?.carbonIntensity);
          clock += 10_000;
        }
        expect(frLines(from), 'scrapes say nothing').to.deep.equal([]);
        const frCalls = () => stub.callsTo('/latest').filter((c) => c.zone === 'FR');
        expect(frCalls(), 'nor ask').to.have.length(1);
        expect((await grid.current('FR')).source).to.equal('annual-average');
        expect(frCalls(), 'a lookup asks before it calls the upstream late').to.have.length(2);
        const told = frLines(from);
        expect(told.map((l) => [l.level, l.kind])).to.deep.equal([[40, 'delayed']]);
        expect(told[0]).to.include({ ageSeconds: LIMIT_MS / 1000 + 121 });
        expect(told[0]?.msg)
          .to.include('answers with a delayed value')
          .and.include('is older than GRID_STALE_MAX_AGE_SECONDS');
      });
    });

    describe('ageSeconds: the age of the data, on the clock the limit runs on', () => {
      it('counts from the value’s datetime, not its fetch, and reaches the limit when it does', async () => {
        const grid = await liveAt(); // fetched at 11:20, for the hour from 11:00
        expect(await grid.current()).to.include({
          ageSeconds: 20 * 60,
          datetime: HOUR,
          fetchedAt: '2024-03-01T11:20:00.000Z',
        });
        clock += 42_000;
        expect(grid.peek()).to.include({ ageSeconds: 20 * 60 + 42 });
        expect(grid.lastReading('DE')).to.include({ ageSeconds: 20 * 60 + 42 });
        outage();
        clock = Date.parse(HOUR) + LIMIT_MS; // the last second it may be served
        const last = await grid.current();
        expect(last).to.include({ stale: true, ageSeconds: LIMIT_MS / 1000 });
        expect(last.fetchedAt, 'the fetch stays visible').to.equal('2024-03-01T11:20:00.000Z');
        expect(grid.peek()).to.include({ stale: true, ageSeconds: LIMIT_MS / 1000 });
        clock += 1000;
        expect(await grid.current()).to.include({ source: 'annual-average', ageSeconds: 0 });
      });

      // A datetime of 2999 was served as live, ageSeconds 0, and the age limit never came to it:
      // a clock that far ahead is an upstream fault, not a value.
      it('a datetime more than 2 h ahead is refused: the labelled average, or the last good value', async () => {
        clock = FETCHED;
        stub.next({ body: latestAt('DE', '2999-03-01T11:00:00.000Z') });
        const from = lines.length;
        const fresh = await service().current();
        expect(fresh).to.include({ source: 'annual-average', isEstimated: true, datetime: null });
        expect(fresh.note).to.include('unexpected body');
        expect(said(from, '2999-03-01T11:00:00.000Z is more than 2 h ahead')).not.to.be.empty;
        const grid = await liveAt();
        clock += (TTL_S + 1) * 1000;
        stub.next({ body: latestAt('DE', '2024-03-01T13:40:00.001Z') }); // 2 h and 1 ms ahead
        const kept = await grid.current();
        expect(kept).to.include({ source: 'electricity-maps', stale: true, datetime: HOUR });
        expect(kept.note).to.include('unexpected body');
      });

      it('a datetime up to 2 h ahead is taken, its age counted from its fetch', async () => {
        clock = FETCHED;
        stub.next({ body: latestAt('DE', '2024-03-01T13:20:00.000Z') });
        expect(await service().current()).to.include({
          source: 'electricity-maps',
          stale: false,
          ageSeconds: 0,
        });
      });

      it('a datetime later than the fetch (a clock ahead of ours) counts from the fetch: never negative', async () => {
        clock = Date.parse(HOUR) - 3600_000;
        stub.next({ body: latestAt('DE', HOUR) });
        const grid = service();
        expect(await grid.current()).to.include({ ageSeconds: 0, datetime: HOUR });
        clock += 90_000;
        expect(grid.lastReading('DE')).to.include({ ageSeconds: 90 });
      });

      it('an unreadable datetime counts from the fetch, for the age and the limit alike', async () => {
        // The HTTP client refuses such a body (a malformed answer); another client may not.
        let calls = 0;
        const client = {
          latest: async (zone: string) => {
            calls += 1;
            if (calls > 1) throw new Error('down');
            return {
              zone,
              carbonIntensity: 322,
              datetime: 'the 11 o’clock hour',
              isEstimated: false,
              estimationMethod: null,
            };
          },
          history: async () => [],
        };
        clock = FETCHED;
        const grid = new IntensityService({
          defaultZone: 'DE',
          client,
          cacheTtlMs: TTL_S * 1000,
          now: () => clock,
          clock: () => clock,
          logger,
        });
        expect(await grid.current()).to.include({ source: 'electricity-maps', ageSeconds: 0 });
        clock += LIMIT_MS;
        expect(await grid.current()).to.include({ stale: true, ageSeconds: LIMIT_MS / 1000 });
        clock += 1000;
        expect((await grid.current()).source).to.equal('annual-average');
      });
    });

    for (const value of ['3h', '-1', '1.5', '0x10', '1e4', '604801']) {
      it(`refuses GRID_STALE_MAX_AGE_SECONDS=${value}, naming it`, () => {
        expect(() => loadSettings({ GRID_STALE_MAX_AGE_SECONDS: value }))
          .to.throw(SettingsError)
          .with.property('variable', 'GRID_STALE_MAX_AGE_SECONDS');
      });
    }
  });

  // The budget answered 429 where the fallback chain had an answer, against GridIntensity's word
  // that current() rejects only for an invalid or unknown zone: a client walking the zones (a
  // dashboard, a scheduler) got errors where the service serves averages when Electricity Maps
  // itself refuses.
  describe('past the budget of lookups for other zones (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR)', () => {
    const limited = (zone: string, seconds: number) =>
      `Electricity Maps lookups for zones other than the configured DE are limited to 1 an hour (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR): zone ${zone} can be looked up in ${seconds} s`;

    it('a zone never looked up answers its annual average, labelled, without a call', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      await grid.current('FR');
      const r = await grid.current('SE-SE3');
      const avg = annualAverage('SE-SE3');
      expect(r).to.include({
        zone: 'SE-SE3',
        source: 'annual-average',
        carbonIntensity: avg?.carbonIntensity,
        isEstimated: true,
        stale: false,
        datetime: null,
      });
      expect(r.note).to.equal(`${limited('SE-SE3', 3600)}; using ${avg?.basis}`);
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR']);
    });

    // The budget's answers are fallbacks: bad input must stay refused, not get an average.
    it('an unknown or malformed zone is still refused, not answered an average', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      await grid.current('FR');
      expect(await rejection(grid.current('ZZ'))).to.be.instanceOf(UnknownZoneError);
      expect(await rejection(grid.current('DE-X1'))).to.be.instanceOf(UnknownZoneError);
      expect(await rejection(grid.history('DE-X1'))).to.be.instanceOf(UnknownZoneError);
      expect(await rejection(grid.current('germany'))).to.be.instanceOf(InvalidZoneError);
      expect(grid.lastReading('ZZ')).to.equal(undefined);
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR']);
    });

    it('a zone looked up before answers its last good value, stale, within the age limit', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      stub.next({ body: latestAt('FR', '2024-03-01T12:00:00.000Z') });
      await grid.current('FR');
      clock += (TTL_S + 60) * 1000;
      const r = await grid.current('FR');
      expect(r).to.include({ source: 'electricity-maps', carbonIntensity: 322, stale: true });
      expect(r.ageSeconds).to.equal(TTL_S + 60);
      expect(r.note).to.equal(
        `${limited('FR', 3240)}; serving the last good value until 2024-03-01T15:00:00.000Z`,
      );
      expect(stub.calls).to.have.length(1);
    });

    it('a last good value past the age limit gives way to the average', async () => {
      const grid = service({
        GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1',
        GRID_STALE_MAX_AGE_SECONDS: '0',
      });
      stub.next({ body: latestAt('FR', '2024-03-01T12:00:00.000Z') });
      await grid.current('FR');
      clock += (TTL_S + 60) * 1000;
      const r = await grid.current('FR');
      expect(r).to.include({ source: 'annual-average', stale: false });
      expect(r.note).to.equal(`${limited('FR', 3240)}; using ${annualAverage('FR')?.basis}`);
    });

    it('holds nothing back: with budget again the zone gets a live value', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      await grid.current('FR');
      expect((await grid.current('SE-SE3')).source).to.equal('annual-average');
      clock += 3600_000;
      expect((await grid.current('SE-SE3')).source).to.equal('electricity-maps');
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR', 'SE-SE3']);
    });

    it('history answers the last good history stale, else no history, saying why', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      await grid.history('FR');
      clock += (TTL_S + 60) * 1000;
      const stale = await grid.history('FR');
      expect(stale).to.include({ source: 'electricity-maps', stale: true });
      expect(stale.note).to.equal(`${limited('FR', 3240)}; serving the last good history`);
      const none = await grid.history('SE-SE3');
      expect(none).to.deep.equal({
        zone: 'SE-SE3',
        source: 'annual-average',
        unit: 'gCO2e/kWh',
        history: [],
        note: `${limited('SE-SE3', 3240)}; ${annualAverage('SE-SE3')?.basis} has no history`,
      });
      expect(stub.calls).to.have.length(1);
    });

    // Its answers are 200s now, not 429s the request log and HTTP metrics showed: without a
    // line, nothing said the budget was too small for the zones asked.
    it('a spent budget is said once per run of refused lookups, at info', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      const from = lines.length;
      await grid.current('FR');
      for (const zone of ['SE-SE3', 'NO-NO2', 'DK-DK1']) await grid.current(zone);
      const spent = () => said(from, 'grid: Electricity Maps lookups for zones other than');
      expect(spent().map((l) => [l.level, l.zone, l.retryAfterSeconds])).to.deep.equal([
        [30, 'SE-SE3', 3600],
      ]);
      expect(spent()[0]?.msg).to.include(
        'limited to 1 an hour (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR): zone SE-SE3 can be looked up in 3600 s; other zones answer their last good value or average meanwhile',
      );
      clock += 3600_000;
      await grid.current('SE-SE3');
      await grid.current('NO-NO2');
      expect(spent().map((l) => l.zone)).to.deep.equal(['SE-SE3', 'NO-NO2']);
    });
  });

  // On the wall clock, a clock set back an hour kept a value fresh 3,900 s, a failed zone held
  // 3,630 s, and one set forward an hour refilled the budget of other-zone lookups at once.
  describe('durations run on the monotonic clock: a wall clock step changes none', () => {
    const thisHour = { body: latestAt('DE', '2024-03-01T12:00:00.000Z') };

    it('a value is fresh for its TTL, then asked again, with the wall clock set back an hour', async () => {
      const grid = service();
      stub.next(thisHour, thisHour);
      await grid.current();
      wallStep = -3600_000;
      clock += TTL_S * 1000;
      await grid.current();
      expect(stub.calls).to.have.length(2);
    });

    it('a failed zone is held 30 s, then asked again, with the wall clock set back an hour', async () => {
      const grid = service();
      stub.next({ status: 503 }, { status: 503 });
      expect((await grid.current('FR')).source).to.equal('annual-average');
      wallStep = -3600_000;
      clock += 30_000;
      expect((await grid.current('FR')).source).to.equal('electricity-maps');
      expect(stub.calls).to.have.length(3);
    });

    it('an outage is reminded of every 10 min, and its length said, with the wall clock set back an hour', async () => {
      const grid = service();
      outage();
      const from = lines.length;
      await grid.current();
      wallStep = -3600_000;
      for (let i = 0; i < 20; i++) {
        clock += 30_000;
        await grid.current();
      }
      const warned = said(from, 'grid: zone DE').filter((l) => l.level === 40);
      expect(warned.map((l) => l.failingForSeconds)).to.deep.equal([0, 600]);
      stub.reset();
      clock += 30_000;
      await grid.current();
      expect(said(from, 'answers again after').map((l) => l.failedForSeconds)).to.deep.equal([630]);
    });

    // The monotonic clock stands still while the machine is suspended: a value fetched before
    // a 2 h suspend was served as fresh after it, for its TTL, and priced the meter's samples.
    describe('across a suspend, which the boot clock counts and the monotonic one does not', () => {
      let asleep: number;
      beforeEach(() => {
        asleep = 0;
      });
      function suspendable(env: Record<string, string> = {}): IntensityService {
        const config = loadSettings({
          ELECTRICITY_MAPS_API_KEY: KEY,
          ELECTRICITY_MAPS_BASE_URL: stub.url,
          GRID_CACHE_TTL_SECONDS: String(TTL_S),
          GRID_TIMEOUT_MS: String(TIMEOUT_MS),
          ...env,
        });
        return createGridIntensity({
          config,
          logger,
          now: () => clock + asleep,
          clock: () => clock,
          bootClock: () => clock + asleep,
          retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 },
        });
      }

      it('a value fetched before a 2 h suspend is asked for again a second after waking', async () => {
        const grid = suspendable();
        stub.next(thisHour, { body: latestAt('DE', '2024-03-01T14:00:00.000Z') });
        await grid.current();
        asleep += 2 * 3600_000;
        clock += 1000;
        const r = await grid.current();
        expect(stub.calls).to.have.length(2);
        expect(r).to.include({ datetime: '2024-03-01T14:00:00.000Z', stale: false });
      });

      // Built without createGridIntensity, the service kept the monotonic clock alone: the
      // value was served as fresh after the suspend, for the rest of its TTL.
      it('a service built directly counts the suspend too, by its boot clock', async () => {
        const grid = new IntensityService({
          defaultZone: 'DE',
          client: createElectricityMapsClient({
            baseUrl: stub.url,
            apiKey: KEY,
            timeoutMs: TIMEOUT_MS,
            now: () => clock + asleep,
            clock: () => clock,
          }),
          cacheTtlMs: TTL_S * 1000,
          now: () => clock + asleep,
          clock: () => clock,
          bootClock: () => clock + asleep,
          logger,
        });
        stub.next(thisHour, { body: latestAt('DE', '2024-03-01T14:00:00.000Z') });
        await grid.current();
        asleep += 2 * 3600_000;
        clock += 1000;
        expect((await grid.current()).datetime).to.equal('2024-03-01T14:00:00.000Z');
        expect(stub.calls).to.have.length(2);
      });

      it('the budget of other-zone lookups comes back over an hour asleep', async () => {
        const grid = suspendable({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
        await grid.current('FR');
        asleep += 3600_000;
        clock += 1000;
        expect((await grid.current('SE-SE3')).source).to.equal('electricity-maps');
        expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR', 'SE-SE3']);
      });
    });

    it('a wall clock set forward an hour refills no budget', async () => {
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      await grid.current('FR');
      wallStep = 3600_000;
      expect((await grid.current('SE-SE3')).source).to.equal('annual-average');
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR']);
    });
  });

  describe('an outage in the log: said when it starts, every 10 min while it lasts, and its end', () => {
    /** The grid's warnings and errors since `from`. */
    const warnings = (from: number) => said(from, 'grid: ').filter((l) => l.level >= 40);

    it('an hour of failed lookups, one every 30 s, is 6 warnings, not one per attempt', async () => {
      // FR is not the configured zone: its 120 lookups an hour need a budget that allows them.
      const grid = service({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '120' });
      outage();
      const from = lines.length;
      for (let i = 0; i < 120; i++) {
        expect((await grid.current('FR')).source).to.equal('annual-average');
        clock += 30_000; // the error hold-down: each lookup is a new attempt
      }
      expect(stub.callsTo('/latest'), '120 attempts, each retried once').to.have.length(240);
      const warned = warnings(from);
      expect(warned.map((l) => l.failingForSeconds)).to.deep.equal([
        0, 600, 1200, 1800, 2400, 3000,
      ]);
      expect(warned[0]?.msg).to.equal(
        `grid: zone FR: Electricity Maps had a server error (zone FR, HTTP 503); using ${annualAverage('FR')?.basis}`,
      );
      expect(warned[0]).to.include({ zone: 'FR', kind: 'server', upstreamStatus: 503, level: 40 });
      for (const [i, line] of warned.slice(1).entries()) {
        expect(line.msg).to.match(
          new RegExp(`^grid: zone FR: still failing after ${(i + 1) * 10} min: .*server error`),
        );
      }
    });

    it('reminds only with lookups: an hour of scrapes alone says nothing', async () => {
      const grid = service();
      outage();
      const from = lines.length;
      expect((await grid.current('FR')).source).to.equal('annual-average');
      // FR is on the gauge (lastReading only): scrapes are no lookups.
      for (let i = 0; i < 60; i++) {
        clock += 60_000;
        await metrics.scrape();
      }
      expect(warnings(from).filter((l) => l.zone === 'FR')).to.have.length(1);
      // The next lookup finds the outage still on and says so, with its real length.
      await grid.current('FR');
      const fr = warnings(from).filter((l) => l.zone === 'FR');
      expect(fr.map((l) => l.failingForSeconds)).to.deep.equal([0, 3600]);
      expect(fr[1]?.msg).to.match(/^grid: zone FR: still failing after 1 h: .*server error/);
    });

    it('the meter’s peek alone is a lookup: its samples keep the reminders coming', async () => {
      const grid = service();
      outage();
      const from = lines.length;
      const failedRefreshes = () =>
        lines.slice(from).filter((l) => l.includes('"level":20')).length;
      for (let i = 0; i <= 42; i++) {
        expect(grid.peek()?.source).to.equal('annual-average');
        // Each refresh is a call and its retry, and its failure one line at debug.
        await settle(stub, 2 * (i + 1), {
          what: `refresh ${i + 1} failed`,
          check: () => failedRefreshes() >= i + 1,
        });
        clock += 30_000;
      }
      expect(stub.callsTo('/latest'), 'one refresh per hold-down').to.have.length(86);
      expect(warnings(from).map((l) => l.failingForSeconds)).to.deep.equal([0, 600, 1200]);
    });

    it('tells a new reason at the next reminder, not at once, with how long it has lasted', async () => {
      const grid = service();
      stub.next({ status: 503 }, { status: 503 });
      const from = lines.length;
      await grid.current('FR');
      clock += 5 * 60_000;
      stub.next({ body: '{"oops":' });
      await grid.current('FR');
      clock += 5 * 60_000;
      stub.next({ body: '{"oops":' });
      await grid.current('FR');
      const warned = warnings(from);
      expect(warned).to.have.length(2);
      expect(warned[1]?.msg).to.match(
        /^grid: zone FR: still failing after 10 min: Electricity Maps answered with an unexpected body/,
      );
      expect(warned[1]).to.include({ kind: 'malformed', failingForSeconds: 600 });
    });

    it('says the end once, at info, with how long it lasted', async () => {
      const grid = service();
      outage();
      const from = lines.length;
      await grid.current('FR');
      clock += 25 * 60_000;
      expect((await grid.current('FR')).source).to.equal('annual-average');
      stub.reset();
      const hour = '2024-03-01T12:00:00.000Z';
      stub.next({ body: latestAt('FR', hour) }, { body: latestAt('FR', hour) });
      clock += 30_000;
      expect(await grid.current('FR')).to.include({ source: 'electricity-maps', stale: false });
      clock += TTL_S * 1000;
      expect(await grid.current('FR')).to.include({ source: 'electricity-maps' });
      const ended = said(from, 'grid: ').filter((l) => / answers (steadily )?again/.test(l.msg));
      expect(ended.map((l) => l.msg)).to.deep.equal([
        'grid: zone FR: Electricity Maps answers again after 25 min; its live values are used again',
      ]);
      expect(ended[0]).to.include({ zone: 'FR', failedForSeconds: 1530 });
    });

    it('keeps no run for a zone that answers, and one per failing zone', async () => {
      const grid = service();
      stub.next({ status: 503 }, { status: 503 });
      const from = lines.length;
      await grid.current('FR');
      expect((await grid.current('DE')).source).to.equal('electricity-maps');
      stub.next({ status: 503 }, { status: 503 });
      await grid.current('SE-SE3');
      expect(warnings(from).map((l) => l.zone)).to.deep.equal(['FR', 'SE-SE3']);
      expect(said(from, 'answers again'), 'DE never failed').to.have.length(0);
    });

    it('an hour of failed history lookups is 6 warnings too', async () => {
      const grid = service();
      outage();
      const from = lines.length;
      for (let i = 0; i < 120; i++) {
        expect((await grid.history('DE')).history).to.deep.equal([]);
        clock += 30_000;
      }
      const warned = warnings(from);
      expect(warned.map((l) => l.failingForSeconds)).to.deep.equal([
        0, 600, 1200, 1800, 2400, 3000,
      ]);
      expect(warned.map((l) => l.endpoint)).to.deep.equal(Array(6).fill('history'));
      expect(warned[0]?.msg).to.match(/^grid: zone DE history: .*server error.*; no history/);
    });
  });

  describe('without a key', () => {
    it('works on annual averages, says so once at start-up, and never calls out', async () => {
      const before = lines.length;
      const grid = service({ ELECTRICITY_MAPS_API_KEY: '' });
      const startup = lines.slice(before).filter((l) => l.includes('annual averages'));
      expect(startup).to.have.length(1);
      const r = await grid.current();
      expect(r).to.include({
        source: 'annual-average',
        carbonIntensity: annualAverage('DE')?.carbonIntensity,
        isEstimated: true,
      });
      await grid.current('US-CAL-CISO');
      expect(lines.slice(before).filter((l) => l.includes('annual averages'))).to.have.length(1);
      expect(stub.calls).to.have.length(0);
    });

    it('peek says why the average is used, the same as current()', async () => {
      const grid = service({ ELECTRICITY_MAPS_API_KEY: '' });
      const peeked = grid.peek('FR');
      expect(peeked?.note).to.match(/^no Electricity Maps key/);
      expect(peeked).to.deep.equal(await grid.current('FR'));
      expect(stub.calls).to.have.length(0);
    });

    it('answers history with a clear "no history" note, not an error', async () => {
      const h = await service({ ELECTRICITY_MAPS_API_KEY: '' }).history('FR');
      expect(h.history).to.deep.equal([]);
      expect(h.source).to.equal('annual-average');
      expect(h.note).to.include('no history');
    });
  });

  describe('history', () => {
    // One point without an offset refused all 24 h: the history was empty, with a failure note.
    it('keeps the sound points of a history with one datetime without an offset, in one warning', async () => {
      const body = JSON.parse(historyFor('DE')) as { history: Array<{ datetime: string }> };
      const [first] = body.history;
      if (first) first.datetime = '2024-03-01T08:00:00';
      stub.next({ body: JSON.stringify(body) });
      const from = lines.length;
      const h = await service().history('DE');
      expect(h.history.map((p) => p.carbonIntensity)).to.deep.equal([288]);
      expect(h.note).to.equal(undefined);
      const warned = said(from, 'Electricity Maps history for DE');
      expect(warned.map((l) => [l.level, l.msg])).to.deep.equal([
        [
          40,
          'grid: Electricity Maps history for DE: dropped 1 of 3 points, a datetime without a ' +
            'UTC offset ("2024-03-01T08:00:00")',
        ],
      ]);
    });

    it('returns the last 24 h from the upstream', async () => {
      const h = await service().history('DE');
      expect(h.source).to.equal('electricity-maps');
      expect(h.history.map((p) => p.carbonIntensity)).to.deep.equal([301, 288]);
      expect(h.stale).to.equal(false);
    });

    it('serves the last good history stale, and otherwise a no-history note, on failure', async () => {
      const grid = service();
      await grid.history('DE');
      clock += (TTL_S + 1) * 1000;
      stub.next({ status: 503 }, { status: 503 });
      const stale = await grid.history('DE');
      expect(stale).to.include({ stale: true, source: 'electricity-maps' });
      expect(stale.history).to.have.length(2);
      stub.next({ status: 503 }, { status: 503 });
      const none = await grid.history('FR');
      expect(none).to.include({ source: 'annual-average' });
      expect(none.history).to.deep.equal([]);
      expect(none.note).to.include('server error');
    });

    // A point older than 24 h is no part of the last 24 h: an upstream's far-past datetime, or
    // the older points of a last good history served stale hours later.
    it('serves only the points of the last 24 h, fresh or stale', async () => {
      const at = (hoursAgo: number) => new Date(clock - hoursAgo * 3600_000).toISOString();
      const point = (carbonIntensity: number, datetime: string) => ({
        zone: 'DE',
        carbonIntensity,
        datetime,
        isEstimated: false,
      });
      stub.next({
        body: JSON.stringify({
          zone: 'DE',
          history: [point(1, '1970-01-01T00:00:00Z'), point(2, at(30)), point(3, at(23))],
        }),
      });
      const grid = service();
      expect((await grid.history('DE')).history.map((p) => p.carbonIntensity)).to.deep.equal([3]);

      const stale = service();
      await stale.history('FR'); // the fixture's points, at 08:00 and 10:00 with the clock at 12:00
      clock += 21 * 3600_000;
      stub.next({ status: 503 }, { status: 503 });
      const later = await stale.history('FR');
      expect(later.stale).to.equal(true);
      expect(later.history.map((p) => p.carbonIntensity)).to.deep.equal([288]);
    });
  });

  describe('currentAtHand (a route’s answer without an await)', () => {
    it('gives what current() gives once a lookup is remembered, and undefined where one is due', async () => {
      const grid = service();
      expect(grid.currentAtHand(), 'nothing remembered yet').to.equal(undefined);
      const looked = await grid.current();
      expect(grid.currentAtHand()).to.equal(looked);
      clock += 1500;
      const later = grid.currentAtHand();
      expect(later, 'aged as current() ages it').to.deep.equal(await grid.current());
      expect(later?.ageSeconds).to.equal(looked.ageSeconds + 1);
      expect(stub.calls).to.have.length(1);
      clock += TTL_S * 1000;
      expect(grid.currentAtHand(), 'the TTL ran out: current() looks up').to.equal(undefined);
      await grid.current();
      expect(stub.calls).to.have.length(2);
    });

    it('counts the zone for the gauge as current() does, and knows no zone it did not look up', async () => {
      const used: string[] = [];
      const grid = new IntensityService({
        defaultZone: 'DE',
        cacheTtlMs: TTL_S * 1000,
        now: () => clock,
        clock: () => clock,
        logger,
        onZoneUsed: (zone) => used.push(zone),
      });
      await grid.current('FR');
      expect(grid.currentAtHand('FR')).to.deep.equal(await grid.current('FR'));
      expect(grid.currentAtHand('not a zone')).to.equal(undefined);
      expect(grid.currentAtHand('DE')).to.equal(undefined);
      expect(used).to.deep.equal(['FR', 'FR', 'FR']);
    });

    // Every request of /carbon_intensity asks: the monotonic clock makes an array per read.
    it('reads no clock for an answer valid for good (an average without a key, a fixed value)', async () => {
      for (const fixedIntensity of [undefined, 56]) {
        let reads = 0;
        const grid = new IntensityService({
          defaultZone: 'DE',
          fixedIntensity,
          cacheTtlMs: TTL_S * 1000,
          now: () => {
            reads++;
            return clock;
          },
          clock: () => {
            reads++;
            return clock;
          },
          logger,
        });
        const first = await grid.current();
        reads = 0;
        expect(await grid.current()).to.equal(first);
        expect(grid.currentAtHand()).to.equal(first);
        expect(reads, `fixed ${fixedIntensity}`).to.equal(0);
      }
    });
    // The case above pins the answers that never age; none pinned that an Electricity Maps value
    // valid for good (an IntensityService given a TTL of Infinity) is not one of them (hasAge).
    it('ages an Electricity Maps answer valid for good (a TTL of Infinity) as current() does', async () => {
      const config = loadSettings({
        ELECTRICITY_MAPS_API_KEY: KEY,
        ELECTRICITY_MAPS_BASE_URL: stub.url,
        GRID_TIMEOUT_MS: String(TIMEOUT_MS),
      });
      const grid = createGridIntensity({
        config: { ...config, grid: { ...config.grid, cacheTtlMs: Number.POSITIVE_INFINITY } },
        logger,
        now: () => clock,
        clock: () => clock,
        retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 },
      });
      const looked = await grid.current();
      clock += 1500;
      const later = grid.currentAtHand();
      expect(later?.ageSeconds).to.equal(looked.ageSeconds + 1);
      expect(later).to.deep.equal(await grid.current());
      expect(stub.calls).to.have.length(1);
    });
  });

  describe('peek (the meter’s hot path)', () => {
    it('never throws and returns undefined for what it cannot know', () => {
      const grid = service();
      expect(grid.peek('not a zone')).to.equal(undefined);
      expect(grid.peek('ZZ')).to.equal(undefined);
    });

    it('gives the annual average at once, refreshes in the background, then the live value', async () => {
      const grid = service();
      const first = grid.peek();
      expect(first?.source).to.equal('annual-average');
      await settle(stub, 1, {
        what: 'the answer taken',
        check: () => grid.lastReading('DE')?.source === 'electricity-maps',
      });
      expect(stub.calls).to.have.length(1);
      const second = grid.peek();
      expect(second?.source).to.equal('electricity-maps');
      expect(second?.carbonIntensity).to.equal(322);
    });

    it('returns the same object while nothing changes, and starts one refresh per expiry', async () => {
      const grid = service();
      await grid.current();
      const a = grid.peek();
      for (let i = 0; i < 1000; i++) expect(grid.peek()).to.equal(a);
      expect(stub.calls).to.have.length(1);
      clock += TTL_S * 1000;
      for (let i = 0; i < 1000; i++) grid.peek();
      await settle(stub, 2);
      expect(stub.calls).to.have.length(2);
    });
  });

  describe('carbonscope.grid.carbon_intensity', () => {
    it('reports the configured zone and its source', async () => {
      const grid = service();
      await grid.current();
      expect(
        await metrics.value(GAUGE, {
          carbonscope_grid_zone: 'DE',
          carbonscope_grid_source: 'electricity-maps',
        }),
      ).to.equal(322);
    });

    // The annual average's series stayed beside the API's, at its last value, for good: the
    // fallback alert fired after a recovery and never cleared.
    it('serves only the electricity-maps series once the upstream recovers', async () => {
      const grid = service();
      stub.next({ status: 500 }, { status: 500 });
      expect(await grid.current()).to.include({ source: 'annual-average' });
      const sources = async () =>
        [...(await metrics.scrape()).matchAll(/carbonscope_grid_source="([^"]+)"/g)].map(
          (m) => m[1],
        );
      expect(await sources()).to.deep.equal(['annual-average']);
      clock += 30_000;
      expect(await grid.current()).to.include({ source: 'electricity-maps' });
      expect(await sources()).to.deep.equal(['electricity-maps']);
    });

    it('reports the configured zone plus the first zones requested, for good', async () => {
      const grid = service({ ELECTRICITY_MAPS_API_KEY: '' }, 2);
      for (const zone of ['FR', 'SE-SE3', 'US-CAL-CISO', 'GB']) await grid.current(zone);
      const text = await metrics.scrape();
      expect(gaugeZones(text)).to.deep.equal(['DE', 'FR', 'SE-SE3']);
      expect(
        await metrics.value(GAUGE, {
          carbonscope_grid_zone: 'FR',
          carbonscope_grid_source: 'annual-average',
        }),
      ).to.equal(annualAverage('FR')?.carbonIntensity);
      expect(text).not.to.include(KEY);
    });

    it('keeps its series flat while a client walks every zone there is (real SDK reader)', async () => {
      const grid = service({ ELECTRICITY_MAPS_API_KEY: '' }, 8);
      const zones = Object.keys(electricityMapsYearly.yearly2024?.data ?? {});
      expect(zones.length, 'zones to walk').to.be.above(300);
      const counts: number[] = [];
      for (let i = 0; i < zones.length; i += 8) {
        for (const zone of zones.slice(i, i + 8)) await grid.current(zone);
        counts.push(gaugeZones(await metrics.scrape()).length);
      }
      expect(Math.max(...counts), 'series: configured zone + 8').to.equal(9);
      expect(counts.at(-1)).to.equal(counts[1]);
      expect(gaugeZones(await metrics.scrape())).to.include('DE');
    });
  });
});
