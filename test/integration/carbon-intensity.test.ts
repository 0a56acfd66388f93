import {
  annualAverage,
  createGridIntensity,
  electricityMapsZones,
  registerGridMetrics,
} from 'carbonscope';
import { expect } from 'chai';
import {
  fixture,
  latestAt,
  latestFor,
  StubElectricityMaps,
} from '#library-tests/fixtures/grid/stub-electricity-maps.js';
import { createTestMetrics, findSample, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { Readiness } from '../../src/readiness.js';
import { type Listening, listen } from '../helpers/app.js';
import { captureLogger } from '../helpers/log.js';

/** Half a surrogate pair without its other half: text no UTF-8 can carry. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const KEY = 'em-integration-key-0c4e77';

interface Seen {
  status: number;
  type: string;
  text: string;
}

describe('GET /carbon_intensity (app + local Electricity Maps stub)', () => {
  const stub = new StubElectricityMaps(KEY, () => clock);
  // No secrets given to the logger: its last-line redaction must not hide a leak from the suite.
  const { logger, lines } = captureLogger('trace');
  const seen: string[] = [];
  const open: Array<{ server: Listening; metrics: TestMetrics }> = [];
  let clock: number;
  /** The grid of the last start(). */
  let started: ReturnType<typeof createGridIntensity> | undefined;

  async function start(env: Record<string, string> = {}): Promise<string> {
    const config = loadConfig({
      ELECTRICITY_MAPS_API_KEY: KEY,
      ELECTRICITY_MAPS_BASE_URL: stub.url,
      GRID_TIMEOUT_MS: '150',
      ...env,
    });
    const metrics = createTestMetrics();
    const grid = createGridIntensity({
      config,
      logger,
      now: () => clock,
      clock: () => clock,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 },
    });
    started = grid;
    registerGridMetrics(metrics.meter, grid.defaultZone, grid.reportedZones, grid);
    const app = createApp({
      config,
      logger,
      readiness: new Readiness(),
      metricsText: metrics.scrape,
      grid,
    });
    const server = await listen(app);
    open.push({ server, metrics });
    return server.url;
  }

  async function get(url: string, accept = 'application/json'): Promise<Seen> {
    const res = await fetch(url, { headers: { accept } });
    const text = await res.text();
    seen.push(text, JSON.stringify([...res.headers]));
    return { status: res.status, type: res.headers.get('content-type') ?? '', text };
  }

  before(() => stub.start());
  beforeEach(() => {
    stub.reset();
    clock = Date.parse('2024-03-01T12:00:00Z');
  });
  afterEach(async () => {
    for (const { server, metrics } of open.splice(0)) {
      await server.close();
      await metrics.shutdown();
    }
  });
  after(async () => {
    await stub.close();
    expect(lines.length, 'the suite logged something').to.be.greaterThan(0);
    expect(seen.length, 'the suite saw responses').to.be.greaterThan(10);
    for (const line of lines) expect(line).not.to.include(KEY);
    for (const body of seen) expect(body).not.to.include(KEY);
  });

  it('answers JSON for API clients, for the default zone', async () => {
    const url = await start();
    const res = await get(`${url}/carbon_intensity`);
    expect(res.status).to.equal(200);
    expect(res.type).to.include('application/json');
    expect(JSON.parse(res.text)).to.deep.equal({
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
    expect(stub.calls).to.deep.equal([
      { path: '/v3/carbon-intensity/latest', zone: 'DE', token: KEY },
    ]);
  });

  // The route takes a remembered answer from currentAtHand(), without current()'s promise.
  it('answers a remembered reading without calling current() again, as JSON and as a page', async () => {
    const url = await start();
    const grid = started;
    if (grid === undefined) throw new Error('start() made no grid');
    let lookups = 0;
    const current = grid.current.bind(grid);
    grid.current = (zone) => {
      lookups++;
      return current(zone);
    };
    const first = JSON.parse((await get(`${url}/carbon_intensity`)).text);
    expect(JSON.parse((await get(`${url}/carbon_intensity`)).text)).to.deep.equal(first);
    const res = await get(`${url}/carbon_intensity`, 'text/html,application/xhtml+xml');
    expect(res.text).to.include('<strong id="intensity">322</strong>');
    expect(lookups, 'only the first request looked up').to.equal(1);
    expect(stub.calls).to.have.length(1);
  });

  it('takes ?zone=, upper-casing it', async () => {
    const url = await start();
    stub.next({ body: fixture('latest-estimated.json') });
    const body = JSON.parse((await get(`${url}/carbon_intensity?zone=fr`)).text);
    expect(body).to.include({ zone: 'FR', carbonIntensity: 41, isEstimated: true });
    expect(stub.calls[0]?.zone).to.equal('FR');
  });

  it('answers an HTML page with the same facts and a zone form for browsers', async () => {
    const url = await start();
    const res = await get(`${url}/carbon_intensity?zone=DE`, 'text/html,application/xhtml+xml');
    expect(res.status).to.equal(200);
    expect(res.type).to.include('text/html');
    expect(res.text).to.include('<strong id="intensity">322</strong>');
    expect(res.text).to.include('Electricity Maps');
    expect(res.text).to.include('2024-03-01T12:00:00.000Z');
    expect(res.text).to.match(/<form method="get" action="\.\/carbon_intensity">/);
    expect(res.text).to.include('name="zone" value="DE"');
    expect(res.text).to.match(/<title>(?!Error: )[^<]* · carbonscope<\/title>/);
  });

  it('never calls a fixed CARBON_INTENSITY value measured on the page', async () => {
    const url = await start({ CARBON_INTENSITY: '300' });
    const res = await get(`${url}/carbon_intensity?zone=DE`, 'text/html');
    expect(res.text).to.include('<strong id="intensity">300</strong>');
    expect(res.text).to.include('<tr><th>Quality</th><td>a set value, not a reading</td></tr>');
    // It called the set value a yearly average, which is what the averages are.
    expect(res.text).to.include('<tr><th>Valid for</th><td>any moment: a set value</td></tr>');
  });

  it('refuses an invalid zone with 400 and the expected format, as JSON and as a page', async () => {
    const url = await start();
    const json = await get(`${url}/carbon_intensity?zone=germany!`);
    expect(json.status).to.equal(400);
    const body = JSON.parse(json.text);
    expect(body.error).to.equal('invalid_zone');
    expect(body.message).to.include('^[A-Z]{2}(-[A-Z0-9]+)*$');
    const page = await get(`${url}/carbon_intensity?zone=%3Cscript%3E`, 'text/html');
    expect(page.status).to.equal(400);
    expect(page.type).to.include('text/html');
    expect(page.text).not.to.include('<script>');
    expect(page.text).to.include('&lt;script&gt;');
    expect(page.text).to.include('expected a zone key');
    // Screen readers announce the title first: it named the page over an error.
    expect(page.text).to.match(/<title>Error: [^<]* · carbonscope<\/title>/);
    expect(stub.calls).to.have.length(0);
  });

  // A right-to-left override in the zone reversed the rest of the quoting message on the page: a
  // link could make it read "...it is valid for your country". Bidi controls are shown as escapes.
  it('shows a bidi control quoted from the zone as an escape, as JSON and on the page', async () => {
    const url = await start();
    const zone = encodeURIComponent('\u202Eyrtnuoc ruoy rof dilav si ti\u2066');
    for (const accept of ['application/json', 'text/html']) {
      const res = await get(`${url}/carbon_intensity?zone=${zone}`, accept);
      expect(res.status, accept).to.equal(400);
      // On the page: the alert.
      const message =
        accept === 'text/html'
          ? (/<p role="alert">(.*?)<\/p>/s.exec(res.text)?.[1] ?? '')
          : JSON.parse(res.text).message;
      expect(message, accept).to.include('\\u202eyrtnuoc');
      expect(message, accept).to.include('si ti\\u2066');
      expect(/[\u202a-\u202e\u2066-\u2069]/.test(message), accept).to.equal(false);
      if (accept !== 'text/html') continue;
      // The form's field too: an override in it reversed what the field showed just the same.
      const field = /name="zone" value="([^"]*)"/.exec(res.text)?.[1] ?? '';
      expect(field).to.include('\\u202eyrtnuoc');
      expect(/[\u202a-\u202e\u2066-\u2069]/.test(field), 'a bidi control in the field').to.equal(
        false,
      );
    }
  });

  // The zone is quoted cut to 40: cut in UTF-16 units, an emoji across the 40th unit left half a
  // surrogate pair, which JSON.stringify wrote as the text \ud83d.
  it('quotes a long invalid zone cut on a character boundary, not inside an emoji', async () => {
    const url = await start();
    const zone = `${'Z'.repeat(39)}\u{1F600}tail`;
    const res = await get(`${url}/carbon_intensity?zone=${encodeURIComponent(zone)}`);
    expect(res.status).to.equal(400);
    const { message } = JSON.parse(res.text) as { message: string };
    expect(message).to.include(`"${'Z'.repeat(39)}\u{1F600}"…`);
    expect(message).not.to.match(/\\ud[89a-f]/i);
    expect(LONE_SURROGATE.test(message), 'a lone surrogate').to.equal(false);
  });

  // JavaScript's toUpperCase() maps some non-ASCII letters to ASCII ones (ſ → S, ı → I): only
  // a-z may be upper-cased, or `ſe` would be served as SE.
  for (const zone of ['%C5%BFE', '%C4%B1T', 'd%C3%A9']) {
    it(`refuses the non-ASCII ?zone=${zone} with 400, even where upper-casing makes it ASCII`, async () => {
      const url = await start();
      const res = await get(`${url}/carbon_intensity?zone=${zone}`);
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.text)).to.include({ error: 'invalid_zone' });
      expect(stub.calls).to.have.length(0);
    });
  }

  // Node's querystring keeps `zone[]` and `zone[a]` under keys of their own: the route would
  // serve the default zone to a client that asked for another.
  for (const [query, said] of [
    ['zone=DE&zone=FR', 'given 2 times'],
    ['zone[]=FR', 'zone[]'],
    ['zone%5B%5D=FR', 'zone[]'],
    ['zone[a]=FR', 'zone[a]'],
    ['zone=FR&zone[]=DE', 'zone[]'],
    ['Zone=FR', '"Zone"'],
    ['ZONE=FR', '"ZONE"'],
    ['zone=FR&Zone=DE', '"Zone"'],
    ['zOne%5B%5D=FR', '"zOne[]"'],
  ]) {
    for (const path of ['/carbon_intensity', '/carbon_intensity/history']) {
      it(`refuses ${path}?${query} with 400 naming the parameter, not the default zone`, async () => {
        const url = await start();
        const res = await get(`${url}${path}?${query}`);
        expect(res.status).to.equal(400);
        const body = JSON.parse(res.text) as { error: string; message: string };
        expect(body.error).to.equal('bad_request');
        expect(body.message).to.include("query parameter 'zone'").and.to.include(said);
        const page = await get(`${url}${path}?${query}`, 'text/html');
        expect(page.status).to.equal(400);
        expect(page.text).to.include('query parameter &#39;zone&#39;');
        expect(stub.calls).to.have.length(0);
      });
    }
  }

  // Electricity Maps' own parameters: read as absent, a client asking for its location, a past
  // hour or direct factors was served the default zone's latest lifecycle value at 200.
  for (const [query, name] of [
    ['lat=48.85&lon=2.35', 'lat'],
    ['zone=FR&datetime=2024-01-01T00:00:00Z', 'datetime'],
    ['datetime=garbage', 'datetime'],
    ['zone=FR&emissionFactorType=direct', 'emissionFactorType'],
    ['zone=FR&disableEstimations=true', 'disableEstimations'],
    ['zone=FR&temporalGranularity=5_minutes', 'temporalGranularity'],
    ['zone=FR&Lon=2', 'Lon'],
  ]) {
    for (const path of ['/carbon_intensity', '/carbon_intensity/history']) {
      it(`refuses ${path}?${query} with 400 naming the parameter it does not read`, async () => {
        const url = await start();
        const res = await get(`${url}${path}?${query}`);
        expect(res.status).to.equal(400);
        const body = JSON.parse(res.text) as { error: string; message: string };
        expect(body.error).to.equal('bad_request');
        expect(body.message).to.include(`'${name}'`).and.to.include('zone=');
        const page = await get(`${url}${path}?${query}`, 'text/html');
        expect(page.status).to.equal(400);
        expect(stub.calls).to.have.length(0);
      });
    }
  }

  // A client whose zone variable is unset sends zone= and was served the default zone at 200.
  for (const query of ['zone=', 'zone=%20%20', 'zone=%09']) {
    it(`refuses an empty ?${query} with 400 naming the default it did not assume`, async () => {
      const url = await start();
      const res = await get(`${url}/carbon_intensity?${query}`);
      expect(res.status).to.equal(400);
      const body = JSON.parse(res.text) as { error: string; message: string };
      expect(body.message).to.include("query parameter 'zone' is empty").and.to.include('DE');
      const page = await get(`${url}/carbon_intensity/history?${query}`, 'text/html');
      expect(page.status).to.equal(400);
      expect(stub.calls).to.have.length(0);
    });
  }

  it('serves ?zone=FR beside parameters it does not read (a cache buster)', async () => {
    const url = await start({ CARBON_INTENSITY: '300' });
    const res = await get(`${url}/carbon_intensity?zone=FR&_=1&zones[]=DE`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.text)).to.include({ zone: 'FR' });
  });

  it('answers 404 naming a made-up zone, without asking the upstream', async () => {
    const url = await start();
    const res = await get(`${url}/carbon_intensity?zone=AQ-XX`);
    expect(res.status).to.equal(404);
    expect(JSON.parse(res.text)).to.include({ error: 'unknown_zone' });
    expect(JSON.parse(res.text).message).to.include('AQ-XX');
    const history = await get(`${url}/carbon_intensity/history?zone=AQ-XX`);
    expect(history.status).to.equal(404);
    expect((await get(`${url}/carbon_intensity?zone=ZZ`)).status).to.equal(404);
    expect((await get(`${url}/carbon_intensity?zone=DE-X1`)).status).to.equal(404);
    expect(stub.calls).to.have.length(0);
  });

  it('answers 400 for a zone over 32 characters, without echoing all of it', async () => {
    const url = await start();
    const res = await get(`${url}/carbon_intensity?zone=DE-${'X'.repeat(8000)}`);
    expect(res.status).to.equal(400);
    expect(res.text.length).to.be.below(400);
    expect(JSON.parse(res.text).message).to.include('32 characters');
    expect(stub.calls).to.have.length(0);
  });

  it('degrades a failing upstream (500, 500) to the labelled annual average, never a 5xx', async () => {
    const url = await start();
    stub.next({ status: 500 }, { status: 500 });
    const res = await get(`${url}/carbon_intensity?zone=DE`);
    expect(res.status).to.equal(200);
    const body = JSON.parse(res.text);
    expect(body).to.include({
      source: 'annual-average',
      isEstimated: true,
      stale: false,
      carbonIntensity: annualAverage('DE')?.carbonIntensity,
    });
    expect(body.note).to.include('server error');
  });

  it("never serves another zone's value as the asked zone's, and caches none of it", async () => {
    const url = await start();
    stub.next({ body: JSON.stringify({ ...JSON.parse(latestFor('PL')), carbonIntensity: 777 }) });
    const res = await get(`${url}/carbon_intensity?zone=DE`);
    expect(res.status).to.equal(200);
    const body = JSON.parse(res.text);
    expect(body).to.include({
      zone: 'DE',
      source: 'annual-average',
      carbonIntensity: annualAverage('DE')?.carbonIntensity,
    });
    expect(body.note).to.include('unexpected body');
    const logged = lines
      .map((l) => JSON.parse(l) as { msg?: string })
      .find((l) => l.msg?.includes('"PL"'));
    expect(logged?.msg, 'the log names both zones').to.include('zone DE');
    clock += 30_000;
    const next = JSON.parse((await get(`${url}/carbon_intensity?zone=DE`)).text);
    expect(next).to.include({ source: 'electricity-maps', carbonIntensity: 322, stale: false });
  });

  it('degrades a slow upstream after the configured timeout', async () => {
    const url = await start();
    stub.next({ delayMs: 2000, body: fixture('latest.json') });
    const res = await get(`${url}/carbon_intensity`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.text)).to.include({ source: 'annual-average' });
    expect(JSON.parse(res.text).note).to.include('did not answer in time');
  });

  it('serves the last good value flagged stale when the upstream fails after the TTL', async () => {
    const url = await start({ GRID_CACHE_TTL_SECONDS: '60' });
    // A value for this hour: the documented example's 2019 would be past any age limit.
    stub.next({ body: latestAt('DE', '2024-03-01T12:00:00.000Z') });
    await get(`${url}/carbon_intensity`);
    clock += 90_000;
    stub.next({ status: 401, body: `{"message":"The provided token ${KEY} is invalid."}` });
    const res = await get(`${url}/carbon_intensity`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.text)).to.include({
      source: 'electricity-maps',
      carbonIntensity: 322,
      stale: true,
      ageSeconds: 90,
    });
    const page = await get(`${url}/carbon_intensity`, 'text/html');
    expect(page.text).to.include('stale: last good value, 90 s old');
  });

  it('gives the age of the data, from its datetime, in the JSON and on the page', async () => {
    const url = await start({ GRID_CACHE_TTL_SECONDS: '60' });
    // Fetched at 12:00 for the hour from 11:30: already 30 min old when it came.
    stub.next({ body: latestAt('DE', '2024-03-01T11:30:00.000Z') });
    expect(JSON.parse((await get(`${url}/carbon_intensity`)).text)).to.include({
      ageSeconds: 1800,
      fetchedAt: '2024-03-01T12:00:00.000Z',
    });
    clock += 90_000;
    stub.next({ status: 503 }, { status: 503 });
    const stale = JSON.parse((await get(`${url}/carbon_intensity`)).text);
    expect(stale).to.include({ stale: true, ageSeconds: 1890 });
    const page = await get(`${url}/carbon_intensity`, 'text/html');
    expect(page.text).to.include('stale: last good value, 1890 s old');
  });

  it('answers the annual average, saying why, once the last good value is too old', async () => {
    const url = await start({ GRID_STALE_MAX_AGE_SECONDS: '3600' });
    stub.next({ body: latestAt('DE', '2024-03-01T11:30:00.000Z') });
    await get(`${url}/carbon_intensity`);
    stub.next(...Array.from({ length: 20 }, () => ({ status: 503 })));
    clock = Date.parse('2024-03-01T12:30:01Z');
    const res = await get(`${url}/carbon_intensity`);
    const body = JSON.parse(res.text);
    expect(body).to.include({
      source: 'annual-average',
      carbonIntensity: annualAverage('DE')?.carbonIntensity,
      isEstimated: true,
      stale: false,
      datetime: null,
    });
    expect(body.note).to.include('2024-03-01T11:30:00.000Z').and.include('1 h');
    const page = await get(`${url}/carbon_intensity`, 'text/html');
    expect(page.text).to.include('annual average').and.include('estimated');
    expect(page.text).not.to.include('stale');
    expect(page.text).to.include('GRID_STALE_MAX_AGE_SECONDS');
    const metrics = await get(`${url}/metrics`, 'text/plain');
    expect(
      findSample(metrics.text, 'carbonscope_grid_carbon_intensity', {
        carbonscope_grid_zone: 'DE',
        carbonscope_grid_source: 'annual-average',
      }),
    ).to.equal(annualAverage('DE')?.carbonIntensity);
  });

  it('answers the last 24 h as JSON and as a page', async () => {
    const url = await start();
    const json = await get(`${url}/carbon_intensity/history?zone=DE`);
    expect(json.status).to.equal(200);
    const body = JSON.parse(json.text);
    expect(body).to.include({ zone: 'DE', source: 'electricity-maps', unit: 'gCO2e/kWh' });
    expect(body.history).to.deep.equal([
      { datetime: '2024-03-01T08:00:00.000Z', carbonIntensity: 301, isEstimated: false },
      { datetime: '2024-03-01T10:00:00.000Z', carbonIntensity: 288, isEstimated: true },
    ]);
    const page = await get(`${url}/carbon_intensity/history?zone=DE`, 'text/html');
    expect(page.text).to.include('<td>2024-03-01T10:00:00.000Z</td><td>288</td>');
    expect(stub.callsTo('/carbon-intensity/history')).to.have.length(1);
  });

  // One client walking all listed zones made a call for each, every TTL: ~4,200 an hour against
  // a free tier of tens, enough to have the configured zone rate-limited onto its average.
  describe('a budget of upstream lookups for zones other than the configured one', () => {
    const others = electricityMapsZones().filter((zone) => zone !== 'DE');

    // It answered 429 where the fallback chain had an answer: a client walking the zones got
    // errors where the service serves averages when Electricity Maps itself refuses.
    it('answers the average past it, labelled, without a call, while the configured zone stays live', async () => {
      const url = await start();
      const answers = [];
      for (const zone of others) {
        const res = await fetch(`${url}/carbon_intensity?zone=${zone}`);
        const body = JSON.parse(await res.text());
        answers.push({ zone, status: res.status, source: body.source, note: body.note });
      }
      expect(answers.filter((a) => a.status !== 200)).to.deep.equal([]);
      const live = answers.filter((a) => a.source === 'electricity-maps').map((a) => a.zone);
      expect(live).to.deep.equal(others.slice(0, 6));
      expect(stub.callsTo('/latest'), 'one call for each zone live').to.have.length(6);
      for (const a of answers.slice(6)) {
        expect(a.source).to.be.oneOf(['annual-average', 'world-average']);
        expect(a.note).to.include(
          `limited to 6 an hour (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR): zone ${a.zone} can be looked up in 600 s; using `,
        );
      }

      const zone = others[10];
      const limited = JSON.parse((await get(`${url}/carbon_intensity?zone=${zone}`)).text);
      expect(limited).to.include({
        zone,
        source: 'annual-average',
        carbonIntensity: annualAverage(zone)?.carbonIntensity,
        isEstimated: true,
        stale: false,
      });
      expect(limited.note).to.equal(
        `Electricity Maps lookups for zones other than the configured DE are limited to 6 an hour (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR): zone ${zone} can be looked up in 600 s; using ${annualAverage(zone)?.basis}`,
      );
      const history = await get(`${url}/carbon_intensity/history?zone=${zone}`);
      expect(history.status).to.equal(200);
      expect(JSON.parse(history.text)).to.include({ source: 'annual-average' });
      const page = await get(`${url}/carbon_intensity?zone=${zone}`, 'text/html');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('annual average').and.include('limited to 6 an hour');
      expect(stub.callsTo('/latest')).to.have.length(6);

      for (let i = 0; i < 20; i++) {
        expect((await get(`${url}/carbon_intensity`)).status).to.equal(200);
        clock += 300_000;
      }
      const de = stub.callsTo('/latest').filter((c) => c.zone === 'DE');
      expect(de, 'the configured zone, once a TTL, never limited').to.have.length(20);
    });

    it('holds nothing back for a limited zone: with budget again it gets a live value', async () => {
      const url = await start({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      expect((await get(`${url}/carbon_intensity?zone=FR`)).status).to.equal(200);
      const limited = JSON.parse((await get(`${url}/carbon_intensity?zone=SE-SE3`)).text);
      expect(limited.note).to.include('can be looked up in 3600 s');
      clock += 1800_000;
      const sooner = JSON.parse((await get(`${url}/carbon_intensity?zone=SE-SE3`)).text);
      expect(sooner.note).to.include('can be looked up in 1800 s');
      clock += 1800_000;
      const body = JSON.parse((await get(`${url}/carbon_intensity?zone=SE-SE3`)).text);
      expect(body).to.include({ zone: 'SE-SE3', source: 'electricity-maps', stale: false });
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR', 'SE-SE3']);
    });

    it('spends none of it on a cached zone, a country average or a made-up zone', async () => {
      const url = await start({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '1' });
      for (const zone of ['FR', 'FR', 'RU', 'DE-X1', 'FR'])
        await get(`${url}/carbon_intensity?zone=${zone}`);
      expect(stub.calls.map((c) => c.zone)).to.deep.equal(['FR']);
    });

    it('spends none of it on a zone held down after a failure, which answers its average', async () => {
      const url = await start({ GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: '2' });
      stub.next({ status: 503 }, { status: 503 });
      const failed = JSON.parse((await get(`${url}/carbon_intensity?zone=FR`)).text);
      expect(failed.source).to.equal('annual-average');
      clock += 10_000;
      expect((await get(`${url}/carbon_intensity?zone=FR`)).status).to.equal(200);
      expect(stub.calls, 'one lookup, retried once').to.have.length(2);
      expect((await get(`${url}/carbon_intensity?zone=SE-SE3`)).status, 'one left').to.equal(200);
      const limited = JSON.parse((await get(`${url}/carbon_intensity?zone=NO-NO2`)).text);
      expect(limited.note).to.include('limited to 2 an hour');
      expect(stub.calls).to.have.length(3);
    });
  });

  it('publishes carbonscope.grid.carbon_intensity on /metrics', async () => {
    const url = await start();
    await get(`${url}/carbon_intensity`);
    const res = await get(`${url}/metrics`, 'text/plain');
    expect(
      findSample(res.text, 'carbonscope_grid_carbon_intensity', {
        carbonscope_grid_zone: 'DE',
        carbonscope_grid_source: 'electricity-maps',
      }),
    ).to.equal(322);
  });

  describe('with no key', () => {
    it('answers from annual averages labelled as such, and says so once in the log', async () => {
      const before = lines.length;
      const url = await start({ ELECTRICITY_MAPS_API_KEY: '' });
      const res = await get(`${url}/carbon_intensity?zone=US-CAL-CISO`);
      expect(res.status).to.equal(200);
      const body = JSON.parse(res.text);
      expect(body).to.include({
        zone: 'US-CAL-CISO',
        source: 'annual-average',
        isEstimated: true,
        stale: false,
        datetime: null,
        carbonIntensity: annualAverage('US-CAL-CISO')?.carbonIntensity,
      });
      expect(body.note).to.include('no Electricity Maps key');
      await get(`${url}/carbon_intensity`);
      const said = lines.slice(before).filter((l) => l.includes('annual averages'));
      expect(said).to.have.length(1);
      expect(stub.calls).to.have.length(0);
    });

    it('answers history with a clear "no history" response, not an error page', async () => {
      const url = await start({ ELECTRICITY_MAPS_API_KEY: '' });
      const json = await get(`${url}/carbon_intensity/history`);
      expect(json.status).to.equal(200);
      expect(JSON.parse(json.text)).to.deep.include({ history: [], source: 'annual-average' });
      const page = await get(`${url}/carbon_intensity/history`, 'text/html');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('No history for zone DE');
      expect(page.text).to.include('has no history');
    });
  });
});
