import { expect } from 'chai';
import {
  createElectricityMapsClient,
  type ElectricityMapsClient,
  type ElectricityMapsClientOptions,
  MAX_RATE_LIMIT_HOLD_MS,
  type RetryPolicy,
} from '../../../src/grid/electricity-maps-client.js';
import { type HeldZone, UpstreamError, type UpstreamErrorKind } from '../../../src/grid/errors.js';
import { parseRetryAfter } from '../../../src/retry-after.js';
import {
  fixture,
  historyFor,
  latestAt,
  latestFor,
  StubElectricityMaps,
} from '../../fixtures/grid/stub-electricity-maps.js';
import { deadlineTimersLeft } from '../../helpers/deadline-timers.js';
import { answeringServer } from '../../helpers/held-loop.js';
import { oddValues } from '../../helpers/textless-throws.js';

const KEY = 'em-client-key-7f3a9c';

async function failure(call: Promise<unknown>): Promise<UpstreamError> {
  try {
    await call;
  } catch (err) {
    expect(err).to.be.instanceOf(UpstreamError);
    const e = err as UpstreamError;
    // Whatever went wrong, the key is not in what the caller sees.
    expect(`${e.message} ${e.detail ?? ''} ${JSON.stringify(e)}`).not.to.include(KEY);
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('grid: Electricity Maps client', () => {
  const stub = new StubElectricityMaps(KEY, () => clock);
  let sleeps: number[];
  let clock: number;
  /** How far the wall clock was stepped from `clock`, which the monotonic clock follows. */
  let wallStep: number;

  before(() => stub.start());
  after(() => stub.close());
  beforeEach(() => {
    stub.reset();
    sleeps = [];
    clock = Date.parse('2024-03-01T12:00:00Z');
    wallStep = 0;
  });

  function client(
    options: {
      retry?: Partial<RetryPolicy>;
      timeoutMs?: number;
      baseUrl?: string;
      apiKey?: string;
      warn?: (line: string) => void;
    } = {},
  ): ElectricityMapsClient {
    const clocks = { now: () => clock + wallStep, clock: () => clock };
    return createElectricityMapsClient({
      baseUrl: options.baseUrl ?? stub.url,
      apiKey: options.apiKey ?? KEY,
      timeoutMs: options.timeoutMs ?? 2000,
      retry: {
        retries: 2,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        maxRetryAfterMs: 3000,
        ...options.retry,
      },
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      ...clocks,
      ...(options.warn ? { warn: options.warn } : {}),
    });
  }

  // Each attempt's deadline timer stayed until it expired, with its controller and signal.
  it("ends each attempt's deadline timer as the attempt settles", async () => {
    const em = client({ timeoutMs: 60_000 });
    const left = await deadlineTimersLeft(async () => {
      for (let i = 0; i < 50; i++) expect((await em.latest('DE')).zone).to.equal('DE');
    });
    expect(left, 'deadline timers left').to.equal(0);
  });

  it('reads the latest value with the auth-token header and the zone', async () => {
    const value = await client().latest('DE');
    expect(value).to.deep.equal({
      zone: 'DE',
      carbonIntensity: 322,
      datetime: '2024-03-01T12:00:00.000Z',
      isEstimated: false,
      estimationMethod: null,
    });
    expect(stub.calls).to.deep.equal([
      { path: '/v3/carbon-intensity/latest', zone: 'DE', token: KEY },
    ]);
  });

  it('keeps the estimated flag and method', async () => {
    stub.next({ body: fixture('latest-estimated.json') });
    const value = await client().latest('FR');
    expect(value.isEstimated).to.equal(true);
    expect(value.estimationMethod).to.equal('TIME_SLICER_AVERAGE');
    expect(value.carbonIntensity).to.equal(41);
  });

  for (const [name, flags] of [
    ['a method without the flag', { estimationMethod: 'TIME_SLICER_AVERAGE' }],
    ['a method with a flag that says false', { isEstimated: false, estimationMethod: 'X' }],
    ['a null flag', { isEstimated: null, estimationMethod: null }],
    ['no flag and no method', {}],
  ] as const) {
    it(`labels a value with ${name} estimated, never measured`, async () => {
      const at = '2024-03-01T12:00:00.000Z';
      stub.next({
        body: JSON.stringify({ zone: 'DE', carbonIntensity: 300, datetime: at, ...flags }),
      });
      const value = await client().latest('DE');
      expect(value.isEstimated).to.equal(true);
    });
  }

  // Node runs the timers that expired while a process was stopped (SIGSTOP, `docker pause`)
  // before it reads its sockets: the refresh timed out with the answer waiting to be read.
  it('takes an answer that came while the process was held past the timeout', async () => {
    const server = await answeringServer(latestFor('DE'));
    try {
      const c = client({ baseUrl: server.url, timeoutMs: 100 });
      // Opens the connection the held lookup reuses, outside its deadline (a process's first
      // fetch loads undici's client and parser: 300-600 ms at load 20).
      await (await fetch(server.url)).text();
      await server.holdNextRequest(400);
      expect((await c.latest('DE')).zone).to.equal('DE');
      expect(server.received(), 'requests').to.equal(2);
      expect(server.connections(), 'connections').to.equal(1);
    } finally {
      await server.close();
    }
  });

  /** A client on `baseUrl` that keeps each URL it asks, in `urls`. */
  function recording(baseUrl: string): { c: ElectricityMapsClient; urls: string[] } {
    const urls: string[] = [];
    const c = createElectricityMapsClient({
      baseUrl,
      apiKey: KEY,
      timeoutMs: 2000,
      fetch: (url, init) => {
        urls.push(url);
        return fetch(url, init);
      },
      now: () => clock,
    });
    return { c, urls };
  }

  it('asks for lifecycle factors by name, so an account default cannot change them', async () => {
    const { c, urls } = recording(stub.url);
    await c.latest('DE');
    await c.history('DE');
    for (const url of urls) {
      expect(new URL(url).searchParams.get('emissionFactorType')).to.equal('lifecycle');
    }
    expect(urls).to.have.length(2);
  });

  // A proxy in front of the API that takes a key in the query (`/v3?token=`): the path was
  // appended to that query (`/v3?token=K/carbon-intensity/latest?zone=`), so every call asked /v3.
  it("keeps the base URL's own query, after the endpoint's path", async () => {
    const { c, urls } = recording(`${stub.url}/?token=px-K3y&org=1`);
    expect((await c.latest('DE')).carbonIntensity).to.equal(322);
    const asked = new URL(urls[0]);
    expect(asked.pathname).to.equal('/v3/carbon-intensity/latest');
    expect([...asked.searchParams.keys()]).to.deep.equal([
      'token',
      'org',
      'zone',
      'emissionFactorType',
    ]);
    expect(asked.searchParams.get('token')).to.equal('px-K3y');
  });

  it('refuses direct emission factors as malformed: the averages it falls back to are lifecycle', async () => {
    const at = '2024-03-01T12:00:00.000Z';
    const direct = { zone: 'DE', carbonIntensity: 250, datetime: at, emissionFactorType: 'direct' };
    stub.next({ body: JSON.stringify(direct) });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.message).to.include('direct');
    stub.next({ body: JSON.stringify({ zone: 'DE', history: [direct] }) });
    expect((await failure(client().history('DE'))).kind).to.equal('malformed');
  });

  it('reads the 24 h history shape, dropping points without a value', async () => {
    const points = await client().history('DE');
    expect(points.map((p) => p.carbonIntensity)).to.deep.equal([301, 288]);
    expect(points[1]).to.include({ isEstimated: true, datetime: '2024-03-01T10:00:00.000Z' });
    expect(stub.callsTo('/carbon-intensity/history')).to.have.length(1);
  });

  for (const [name, status, body, kind] of [
    ['401 invalid auth-token', 401, fixture('error-401-invalid.json'), 'unauthorized'],
    ['401 token is invalid', 401, fixture('error-401-token-invalid.json'), 'unauthorized'],
    ['403 plain-text Access denied', 403, 'Access denied', 'unauthorized'],
    ['403 not entitled to the zone', 403, fixture('error-403-not-entitled.json'), 'not-entitled'],
    // The body a plan without the zone or endpoint is answered with (the history and past
    // endpoints on the free tier), as users quote it: a 401 that says "Request", not "Token".
    [
      '401 request unauthorized for the zone',
      401,
      fixture('error-401-request-unauthorized.json'),
      'not-entitled',
    ],
    [
      '401 endpoint not available',
      401,
      '{"message":"Endpoint not available for this token"}',
      'not-entitled',
    ],
    ['401 that is really a rate limit', 401, '{"message":"Rate limit exceeded"}', 'rate-limited'],
  ] as const) {
    it(`classifies ${name} as ${kind}, without retrying`, async () => {
      stub.next({ status, body });
      const err = await failure(client().latest('FR'));
      expect(err.kind).to.equal(kind satisfies UpstreamErrorKind);
      expect(err.upstreamStatus).to.equal(status);
      expect(stub.calls).to.have.length(1);
      expect(sleeps).to.deep.equal([]);
    });
  }

  it('redacts the key when the upstream echoes it in an error body', async () => {
    stub.next({ status: 401, body: `{"message":"The provided token ${KEY} is invalid."}` });
    const err = await failure(client().latest('DE'));
    expect(err.detail).to.include('[redacted]');
  });

  it('redacts a key holding " or \\ that a JSON error body echoes escaped', async () => {
    const key = 'em-"quoted\\key-SECRET42';
    stub.next({ status: 401, body: JSON.stringify({ message: `The token ${key} is invalid.` }) });
    const err = await failure(client({ apiKey: key }).latest('DE'));
    expect(err.detail).to.equal('{"message":"The token [redacted] is invalid."}');
  });

  it('redacts such a key in a gateway error that embeds the JSON body echoing it', async () => {
    const key = 'em-"quoted\\key-SECRET42';
    const upstream = JSON.stringify({ message: `The token ${key} is invalid.` });
    stub.next({ status: 502, body: JSON.stringify({ error: upstream }) });
    const err = await failure(client({ apiKey: key, retry: { retries: 0 } }).latest('DE'));
    expect(err.detail).to.equal(
      JSON.stringify({ error: JSON.stringify({ message: 'The token [redacted] is invalid.' }) }),
    );
  });

  it('redacts a key that straddles the 200-character cut, and keeps the marker whole', async () => {
    // From a key cut in half (the whole key past the cut) to the marker cut in half.
    for (let filler = 200 - KEY.length; filler < 200; filler++) {
      stub.next({ status: 400, body: `${'y'.repeat(filler)}${KEY}` });
      const err = await failure(client().latest('DE'));
      expect(err.detail, `filler of ${filler}`).to.equal(`${'y'.repeat(filler)}[redacted]`);
    }
  });

  for (const status of [301, 302, 307, 308]) {
    it(`never follows a ${status} redirect with the key: the other host never sees auth-token`, async () => {
      const elsewhere = new StubElectricityMaps('another-key');
      await elsewhere.start();
      try {
        stub.next({
          status,
          headers: { location: `${elsewhere.url}/carbon-intensity/latest?zone=DE` },
        });
        const err = await failure(client().latest('DE'));
        expect(
          elsewhere.calls.map((c) => c.token),
          'the key reached the other host',
        ).not.to.include(KEY);
        expect(elsewhere.calls, 'the second host was never asked').to.have.length(0);
        expect(err.kind).to.equal('rejected');
        expect(err.detail).to.include('redirect');
        expect(stub.calls).to.have.length(1);
      } finally {
        await elsewhere.close();
      }
    });
  }

  // Users report the rate limit answered as 401: its Retry-After was dropped, so the zone was
  // asked again after the 30 s hold-down, each time into the limit.
  it('honours the Retry-After of a 401 that is really a rate limit', async () => {
    stub.next({
      status: 401,
      headers: { 'retry-after': '120' },
      body: '{"message":"Rate limit exceeded"}',
    });
    const c = client();
    const err = await failure(c.latest('DE'));
    expect(err.kind).to.equal('rate-limited');
    expect(err.retryAfterMs).to.equal(120_000);
    expect((await failure(c.latest('DE'))).kind).to.equal('rate-limited');
    expect(stub.calls, 'no call while blocked').to.have.length(1);
    clock += 120_000;
    expect((await c.latest('DE')).carbonIntensity).to.equal(322);
  });

  /** A client on the scripted clock whose host share's hold is `share`. */
  function sharingClient(share: ElectricityMapsClientOptions['share']) {
    return createElectricityMapsClient({
      baseUrl: stub.url,
      apiKey: KEY,
      timeoutMs: 2000,
      now: () => clock,
      clock: () => clock,
      share,
    });
  }

  // Written after the call failed, the hold was still on its way when a process waiting on this
  // one's lookup looked for it: that process spent a call to hear the same 429.
  it("writes a rate limit's hold to the host share before the call fails", async () => {
    stub.next({ status: 429, headers: { 'retry-after': '120' }, body: '{}' });
    const written: HeldZone[] = [];
    const share = {
      held: async () => undefined,
      hold: async (held: HeldZone) => {
        await new Promise((r) => setImmediate(r));
        written.push(held);
      },
    };
    const c = sharingClient(share);
    const err = await failure(c.latest('DE'));
    expect(err.kind).to.equal('rate-limited');
    expect(written).to.deep.equal([{ until: clock + 120_000, status: 429, zone: 'DE' }]);
  });

  it("is held by the host share's hold without a call, saying whose it was", async () => {
    const held = { until: clock + 60_000, status: 401, zone: 'FR' };
    const c = sharingClient({ held: async () => held, hold: async () => undefined });
    const err = await failure(c.latest('DE'));
    expect(err.kind).to.equal('rate-limited');
    expect(err.retryAfterMs).to.equal(60_000);
    expect(err.message).to.include('after an HTTP 401 for zone FR');
    expect(stub.calls).to.have.length(0);
  });

  // Held until a wall-clock instant, a zone was held an hour more by a clock set back an hour.
  it('holds a rate-limited zone for its Retry-After on the monotonic clock, whatever the wall clock does', async () => {
    stub.next({ status: 429, headers: { 'retry-after': '60' } });
    const c = client({ retry: { retries: 0 } });
    await failure(c.latest('DE'));
    wallStep = -3600_000;
    clock += 60_000;
    expect((await c.latest('DE')).carbonIntensity).to.equal(322);
  });

  // No call is made while a zone is held: its error said "HTTP 429", a status nobody answered.
  for (const [status, body] of [
    [429, '{"error":"Too many"}'],
    [401, '{"message":"Rate limit exceeded"}'],
  ] as const) {
    it(`says a zone held after a ${status} rate limit is held until a time, with no status of its own`, async () => {
      stub.next({ status, headers: { 'retry-after': '60' }, body });
      const c = client();
      await failure(c.latest('DE'));
      clock += 15_000;
      const held = await failure(c.latest('DE'));
      expect(stub.calls).to.have.length(1);
      expect(held.kind).to.equal('rate-limited');
      expect(held.upstreamStatus).to.equal(undefined);
      expect(held.retryAfterMs).to.equal(45_000);
      expect(held.message).to.equal(
        `Electricity Maps rate limit reached (zone DE, not asked until 2024-03-01T12:01:00.000Z after its HTTP ${status})`,
      );
    });
  }

  it('names the status of a 2xx answer without a body, not 200', async () => {
    stub.next({ status: 204 });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.upstreamStatus).to.equal(204);
    expect(err.message).to.include('HTTP 204');
  });

  it('treats 404 as an unknown zone', async () => {
    const err = await failure(client().latest('AQ-XX'));
    expect(err.kind).to.equal('unknown-zone');
    expect(err.message).to.include('AQ-XX');
    expect(stub.calls).to.have.length(1);
  });

  // Electricity Maps serves its API under /v3: its host or a proxy's root without it was
  // answered 404 for every zone, each said to be one Electricity Maps does not know, DE too.
  it('says a 404 at a base URL with no API version likely lacks /v3, not the zone', async () => {
    const root = stub.url.replace(/\/v3$/, '');
    for (const baseUrl of [root, `${root}/`, `${root}/?token=ab`]) {
      const err = await failure(client({ baseUrl }).latest('DE'));
      expect(err.kind).to.equal('unknown-zone');
      expect(err.message).to.equal(
        'Electricity Maps answered 404 at a base URL with no API version in its path: ' +
          'ELECTRICITY_MAPS_BASE_URL (settings.grid.baseUrl) likely lacks /v3, as in ' +
          'https://api.electricitymaps.com/v3 (zone DE, HTTP 404)',
      );
      expect(err.summary).to.include('likely lacks /v3');
      expect(err.message).not.to.include('token=ab');
    }
    expect(stub.calls.map((call) => call.path)).to.deep.equal(
      Array(3).fill('/carbon-intensity/latest'),
    );
  });

  // A proxy may map its own paths: a versioned one's 404 is the zone's, as the API's is.
  it("keeps a 404 the zone's where the base URL's path names a version", async () => {
    const err = await failure(client().latest('AQ-XX'));
    expect(err.message).to.equal('Electricity Maps does not know this zone (zone AQ-XX, HTTP 404)');
    expect(err.summary).to.equal('Electricity Maps does not know this zone');
  });

  it('honours a short Retry-After on 429, then succeeds', async () => {
    stub.next({ status: 429, headers: { 'retry-after': '2' }, body: '{"error":"Too many"}' });
    const value = await client().latest('DE');
    expect(value.carbonIntensity).to.equal(322);
    expect(sleeps).to.deep.equal([2000]);
    expect(stub.calls).to.have.length(2);
  });

  // Our clock an hour behind the upstream's: its 429 asking for 2 s by date was read as an hour,
  // held for MAX_RATE_LIMIT_HOLD_MS (5 min) with a failed lookup, where a wait of 2 s was asked.
  it('waits the Retry-After date asks from its Date when our wall clock is an hour behind', async () => {
    wallStep = -3_600_000;
    stub.next({
      status: 429,
      headers: {
        'retry-after': 'Fri, 01 Mar 2024 12:00:02 GMT',
        date: 'Fri, 01 Mar 2024 12:00:00 GMT',
      },
      body: '{"error":"Too many"}',
    });
    const value = await client().latest('DE');
    expect(value.carbonIntensity).to.equal(322);
    expect(sleeps).to.deep.equal([2000]);
    expect(stub.calls).to.have.length(2);
  });

  it('does not wait for a Retry-After beyond the bound, and fails fast for that zone until it has passed', async () => {
    stub.next({ status: 429, headers: { 'retry-after': '60' } });
    const c = client();
    const err = await failure(c.latest('DE'));
    expect(err.kind).to.equal('rate-limited');
    expect(err.retryAfterMs).to.equal(60_000);
    expect(sleeps).to.deep.equal([]);
    const again = await failure(c.latest('DE'));
    expect(again.kind).to.equal('rate-limited');
    expect(stub.calls, 'no call while blocked').to.have.length(1);
    clock += 60_000;
    expect((await c.latest('DE')).carbonIntensity).to.equal(322);
    expect(stub.calls).to.have.length(2);
  });

  // The quota is the key's: a 429 for one zone, zone by zone, cost a futile call for each other
  // zone and endpoint asked within its hold, each answered 429, into an hourly quota of tens.
  for (const retryAfter of ['3600', 'Fri, 01 Jan 2099 00:00:00 GMT']) {
    it(`a Retry-After of ${retryAfter} holds every zone, the quota being the key's, for at most the cap`, async () => {
      stub.next({ status: 429, headers: { 'retry-after': retryAfter } });
      const c = client();
      const err = await failure(c.latest('FR'));
      expect(err.retryAfterMs).to.equal(MAX_RATE_LIMIT_HOLD_MS);
      const de = await failure(c.latest('DE'));
      expect(de.kind).to.equal('rate-limited');
      expect(de.message).to.equal(
        'Electricity Maps rate limit reached (zone DE, not asked until 2024-03-01T12:05:00.000Z after an HTTP 429 for zone FR)',
      );
      expect((await failure(c.history('FR'))).kind).to.equal('rate-limited');
      expect(stub.calls).to.have.length(1);
      clock += MAX_RATE_LIMIT_HOLD_MS;
      expect((await c.latest('DE')).carbonIntensity).to.equal(322);
      expect((await c.latest('FR')).carbonIntensity).to.equal(322);
      expect(stub.calls).to.have.length(3);
    });
  }

  it('keeps the longer of two holds, whichever answers last', async () => {
    stub.next(
      { status: 429, headers: { 'retry-after': '300' } },
      { status: 429, headers: { 'retry-after': '60' }, delayMs: 50 },
    );
    const c = client({ retry: { retries: 0 } });
    await Promise.all([failure(c.latest('FR')), failure(c.latest('DE'))]);
    clock += 61_000;
    expect((await failure(c.latest('DE'))).kind).to.equal('rate-limited');
    expect(stub.calls).to.have.length(2);
  });

  for (const [status, body, attempts] of [
    [429, '{"error":"Too many"}', 3],
    [401, '{"message":"Rate limit exceeded"}', 1],
  ] as const) {
    it(`a ${status} rate limit without Retry-After holds every zone for the cap`, async () => {
      stub.next(...Array.from({ length: attempts }, () => ({ status, body })));
      const c = client();
      const err = await failure(c.latest('FR'));
      expect(err.kind).to.equal('rate-limited');
      const calls = stub.calls.length;
      const de = await failure(c.latest('DE'));
      expect(de.retryAfterMs).to.equal(MAX_RATE_LIMIT_HOLD_MS);
      expect(stub.calls).to.have.length(calls);
      clock += MAX_RATE_LIMIT_HOLD_MS;
      expect((await c.latest('DE')).carbonIntensity).to.equal(322);
    });
  }

  it('retries a 500 with jittered backoff and returns the later success', async () => {
    stub.next({ status: 500, body: 'oops' });
    const value = await client().latest('DE');
    expect(value.carbonIntensity).to.equal(322);
    expect(stub.calls).to.have.length(2);
    expect(sleeps).to.have.length(1);
    // Attempt 0 backs off between half and all of baseDelayMs.
    expect(sleeps[0]).to.be.within(50, 100);
  });

  it('gives up after the configured retries on repeated 5xx, with growing backoff', async () => {
    stub.next({ status: 502 }, { status: 503 }, { status: 500 });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('server');
    expect(err.upstreamStatus).to.equal(500);
    expect(stub.calls).to.have.length(3);
    expect(sleeps[0]).to.be.within(50, 100);
    expect(sleeps[1]).to.be.within(100, 200);
  });

  // Each 503 came after 0.7 of the timeout, and each retry had a whole timeout of its own: the
  // caller waited three timeouts, where a hung upstream costs one (a timeout is not retried).
  it('bounds a slowly failing upstream by the timeout, its retries included', async () => {
    const slow = { status: 503, delayMs: 700, body: 'busy' };
    stub.next(slow, slow, slow);
    const c = createElectricityMapsClient({
      baseUrl: stub.url,
      apiKey: KEY,
      timeoutMs: 1000,
      retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    // Counted, not timed: one timeout for all leaves no time for the third attempt (each took
    // its own before: three calls, and the last 503 reported).
    const err = await failure(c.latest('DE'));
    expect(err.kind).to.equal('timeout');
    expect(stub.calls.length).to.be.below(3);
  });

  it('retries network errors and reports them as such', async () => {
    stub.next({ hangUp: true }, { hangUp: true }, { hangUp: true });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('network');
    expect(stub.calls).to.have.length(3);
    expect(sleeps).to.have.length(2);
  });

  it('recovers from one dropped connection', async () => {
    stub.next({ hangUp: true });
    expect((await client().latest('DE')).carbonIntensity).to.equal(322);
    expect(stub.calls).to.have.length(2);
  });

  it('reports a refused connection as a network error', async () => {
    const err = await failure(
      client({ baseUrl: 'http://127.0.0.1:9/v3', retry: { retries: 1 } }).latest('DE'),
    );
    expect(err.kind).to.equal('network');
  });

  it('keeps the user and password of the base URL out of a network error', async () => {
    // fetch refuses such a URL, naming it whole in its message; this password crosses the
    // 100th character, where the message is cut.
    const baseUrl = stub.url.replace('//', '//em-user:PW%2FSECRET9-0123456789abcdef@');
    const err = await failure(client({ baseUrl, retry: { retries: 0 } }).latest('DE'));
    expect(err.kind).to.equal('network');
    const seen = `${err.message} ${err.detail ?? ''} ${JSON.stringify(err)}`;
    for (const secret of ['em-user', 'PW%2FSECRET9', 'PW/SECRET9']) {
      expect(seen, `${secret} in ${seen}`).not.to.include(secret);
    }
    expect(err.detail).to.include('[redacted]');
  });

  it('masks a password that begins with the user name whole, not just its first part', async () => {
    const baseUrl = stub.url.replace('//', '//admin:admin-PW9SECRET@');
    const err = await failure(client({ baseUrl, retry: { retries: 0 } }).latest('DE'));
    expect(err.detail).not.to.include('-PW9');
    // The user and password go as one: the pair is redacted before the password alone.
    expect(err.detail).to.include('//[redacted]@');
  });

  it('times out a slow upstream after the configured timeout, without retrying', async () => {
    stub.next({ delayMs: 1500, body: fixture('latest.json') });
    const err = await failure(client({ timeoutMs: 100 }).latest('DE'));
    expect(err.kind).to.equal('timeout');
    expect(stub.calls).to.have.length(1);
  });

  it('times out a body that stalls after the headers', async () => {
    stub.next({ stallBody: true });
    const err = await failure(client({ timeoutMs: 100 }).latest('DE'));
    expect(err.kind).to.equal('timeout');
    expect(stub.calls).to.have.length(1);
  });

  // Node 20's fetch can leave a body read unsettled when its signal aborts it mid-decompression
  // (a gzip body larger than the timeout lets it inflate): this body stands for it, ignoring
  // every signal. The zone's coalesced lookup, and each request waiting on it, hung for good.
  it('times out a body read that never settles, whatever fetch does with the signal', async () => {
    const neverEnds = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const em = createElectricityMapsClient({
      baseUrl: stub.url,
      apiKey: KEY,
      timeoutMs: 100,
      fetch: async () => new Response(neverEnds, { status: 200 }),
    });
    const outcome = await Promise.race([
      failure(em.latest('DE')),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 2000).unref()),
    ]);
    expect(outcome).not.to.equal('hung');
    expect((outcome as UpstreamError).kind).to.equal('timeout');
  });

  // A body of any size was read whole before its size was checked: 200 MB (or a gzip bomb of
  // 200 KB that fetch inflates to it) took the service from 130 MB to 770 MB.
  it('stops reading a body past its limit, without a Content-Length to refuse it by', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    const huge = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 50_000_000) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const em = createElectricityMapsClient({
      baseUrl: stub.url,
      apiKey: KEY,
      timeoutMs: 2000,
      fetch: async () => new Response(huge, { status: 200 }),
    });
    const err = await failure(em.latest('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.detail).to.equal('body over 1000000 bytes');
    expect(pulled).to.be.at.most(1_000_000 + 3 * chunk.byteLength);
  });

  // An error page is read for an excerpt only: one over the limit (a proxy's 2 MB page) made the
  // 503 an unexpected body, not retried, and logged as one rather than as a server error.
  it('reads an oversized error page as the error it is, retried as such', async () => {
    const page = { status: 503, body: `<html>${' '.repeat(2_000_000)}</html>` };
    stub.next(page, page, page);
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('server');
    expect(err.upstreamStatus).to.equal(503);
    expect(err.detail).to.equal('body over 1000000 bytes');
    expect(stub.calls).to.have.length(3);
  });

  for (const [name, body, kind] of [
    ['a body that is not JSON', '{"zone":"DE","carbonIntensity":', 'malformed'],
    [
      'a non-numeric intensity',
      '{"zone":"DE","carbonIntensity":"high","datetime":"2024-03-01T10:00:00Z"}',
      'malformed',
    ],
    [
      'a negative intensity',
      '{"zone":"DE","carbonIntensity":-5,"datetime":"2024-03-01T10:00:00Z"}',
      'malformed',
    ],
    // Over 5000 g/kWh, the most CARBON_INTENSITY takes: no grid is anywhere near it.
    [
      'an intensity over the bound CARBON_INTENSITY has too',
      '{"zone":"DE","carbonIntensity":5001,"datetime":"2024-03-01T10:00:00Z"}',
      'malformed',
    ],
    ['a missing datetime', '{"zone":"DE","carbonIntensity":300}', 'malformed'],
    ['an HTML page', '<html>maintenance</html>', 'malformed'],
    [
      'a null intensity',
      '{"zone":"DE","carbonIntensity":null,"datetime":"2024-03-01T10:00:00Z"}',
      'no-data',
    ],
  ] as const) {
    it(`rejects ${name} as ${kind}`, async () => {
      stub.next({ body });
      const err = await failure(client().latest('DE'));
      expect(err.kind).to.equal(kind);
      expect(stub.calls).to.have.length(1);
    });
  }

  it('rejects a history body without the history array', async () => {
    stub.next({ body: fixture('latest.json') });
    expect((await failure(client().history('DE'))).kind).to.equal('malformed');
  });

  // A proxy or base URL pointing elsewhere, or a cache keyed on the path alone, could hand back
  // another zone's value: it would be shown and exported as the asked zone's.
  it('rejects a latest value for another zone as malformed, naming both zones', async () => {
    stub.next({ body: latestFor('FR') });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.zone).to.equal('DE');
    expect(err.message).to.include('zone DE').and.to.include('"FR"');
    expect(stub.calls).to.have.length(1);
  });

  it('rejects a history for another zone, or with a point of another zone', async () => {
    stub.next({ body: historyFor('FR') });
    expect((await failure(client().history('DE'))).message).to.include('"FR"');
    const body = JSON.parse(historyFor('DE')) as { history: Array<{ zone: string }> };
    const [first] = body.history;
    if (first) first.zone = 'PL';
    stub.next({ body: JSON.stringify(body) });
    const err = await failure(client().history('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.message).to.include('"PL"');
  });

  // A value for 2999 was taken as live, ageSeconds 0, and no age limit ever reached it. The
  // upstream's clock may run somewhat ahead of ours, and a value stand for an hour just begun:
  // up to 2 h ahead is taken, further is no reading.
  it('rejects a value dated more than 2 h ahead of this clock as malformed, naming its datetime', async () => {
    stub.next({ body: latestAt('DE', '2999-03-01T12:00:00Z') });
    const err = await failure(client().latest('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.message).to.include('2999-03-01T12:00:00.000Z').and.to.include('ahead');
    expect(stub.calls).to.have.length(1);
    stub.next({ body: latestAt('DE', '2024-03-01T14:00:00Z') });
    expect((await client().latest('DE')).datetime).to.equal('2024-03-01T14:00:00.000Z');
  });

  it('rejects a history with a point dated more than 2 h ahead', async () => {
    const body = JSON.parse(historyFor('DE')) as { history: Array<{ datetime: string }> };
    const [first] = body.history;
    if (first) first.datetime = '2024-03-01T14:00:01Z';
    stub.next({ body: JSON.stringify(body) });
    const err = await failure(client().history('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.message).to.include('2024-03-01T14:00:01.000Z');
  });

  // The API dates every point in UTC with its `Z`. One point without an offset (local? UTC?)
  // made the whole 24 h malformed, the history empty; the point alone is unreadable.
  it('drops a history point whose datetime has no offset, warning once per zone; none left is malformed', async () => {
    const body = JSON.parse(historyFor('DE')) as { history: Array<{ datetime: string }> };
    const [first] = body.history;
    if (first) first.datetime = '2024-03-01T08:00:00';
    const warned: string[] = [];
    const c = client({ warn: (line) => warned.push(line) });
    for (let i = 0; i < 2; i++) {
      stub.next({ body: JSON.stringify(body) });
      expect((await c.history('DE')).map((p) => p.datetime)).to.deep.equal([
        '2024-03-01T10:00:00.000Z',
      ]);
    }
    expect(warned).to.deep.equal([
      'grid: Electricity Maps history for DE: dropped 1 of 3 points, a datetime without a UTC ' +
        'offset ("2024-03-01T08:00:00")',
    ]);
    for (const p of body.history) p.datetime = '2024-03-01T08:00:00';
    stub.next({ body: JSON.stringify(body) });
    const err = await failure(c.history('DE'));
    expect(err.kind).to.equal('malformed');
    expect(err.message).to.include('without a UTC offset');
  });

  it('bounds and redacts the zone an answer names before saying it', async () => {
    stub.next({ body: latestFor(`${KEY}${'X'.repeat(500)}`) });
    const err = await failure(client().latest('DE'));
    expect(err.message.length).to.be.below(200);
    expect(err.message).to.include('[redacted]');
  });

  it('takes an answer that names the asked zone in other case, or names none', async () => {
    stub.next({ body: latestFor('se-se3') });
    expect((await client().latest('SE-SE3')).zone).to.equal('SE-SE3');
    const { zone: _, ...unnamed } = JSON.parse(fixture('latest.json')) as Record<string, unknown>;
    stub.next({ body: JSON.stringify(unnamed) });
    expect((await client().latest('DE')).carbonIntensity).to.equal(322);
    stub.next({ body: historyFor('de') });
    expect(await client().history('DE')).to.have.length(2);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-03-01T12:00:00Z');
    expect(parseRetryAfter('3', now)).to.equal(3000);
    expect(parseRetryAfter('Fri, 01 Mar 2024 12:00:10 GMT', now)).to.equal(10_000);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(null, now)).to.equal(undefined);
  });

  // An HTTP date is on the server's clock: told against ours, an hour behind made a 10 s wait an
  // hour's (3,610,000 ms), and a day ahead made it none. Its answer's Date is on the same clock.
  it("reads an HTTP-date Retry-After against the answer's Date, whatever our clock reads", () => {
    const now = Date.parse('2024-03-01T12:00:00Z');
    const date = 'Fri, 01 Mar 2024 12:00:00 GMT';
    const at = 'Fri, 01 Mar 2024 12:00:10 GMT';
    expect(parseRetryAfter(at, now - 3_600_000, date)).to.equal(10_000);
    expect(parseRetryAfter(at, now + 86_400_000, date)).to.equal(10_000);
    // Seconds need no clock; an answer with no readable Date leaves ours.
    expect(parseRetryAfter('3', now - 3_600_000, date)).to.equal(3000);
    expect(parseRetryAfter(at, now, 'yesterday')).to.equal(10_000);
    expect(parseRetryAfter(at, now, null)).to.equal(10_000);
  });

  // V8's Date.parse read asctime's form in the machine's zone: 2 h more under Sao Paulo, none
  // at all under Kathmandu (+05:45); and `3,5` (a decimal comma) as 5 March 2001.
  it("reads Retry-After's three HTTP date forms as UTC whatever TZ says, and nothing else", () => {
    const tz = process.env.TZ;
    const now = Date.parse('1994-11-06T08:49:00Z');
    try {
      for (const zone of ['UTC', 'America/Sao_Paulo', 'Asia/Kathmandu', 'Australia/Lord_Howe']) {
        process.env.TZ = zone;
        for (const date of [
          'Sun, 06 Nov 1994 08:49:37 GMT',
          'Sunday, 06-Nov-94 08:49:37 GMT',
          'Sun Nov  6 08:49:37 1994',
        ]) {
          expect(parseRetryAfter(date, now), `${date} under ${zone}`).to.equal(37_000);
        }
        for (const unreadable of [
          '3,5',
          'Sun, 06 Nov 1994 08:49:37',
          'Sun, 31 Feb 1994 08:49:37 GMT',
        ]) {
          expect(parseRetryAfter(unreadable, now), `${unreadable} under ${zone}`).to.equal(
            undefined,
          );
        }
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

// The fetch may be the application's (options.fetch, or the global one it replaced): one that
// rejected with an Error whose message cannot be read made the network error's own text throw,
// and a Proxy's trap threw from the check for the client's own errors: the caller got a
// TypeError or the trap's error where an UpstreamError was due.
describe('grid: Electricity Maps client, a fetch that rejects with no readable Error', () => {
  const odd = oddValues({ name: 'null', value: () => null, said: 'null' });
  for (const { name, value, said } of odd) {
    it(`${name}: a network error whose detail names it as messageOf does`, async () => {
      const client = createElectricityMapsClient({
        baseUrl: 'http://em.invalid/v3',
        apiKey: KEY,
        timeoutMs: 2000,
        retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
        fetch: () => Promise.reject(value()),
      });
      const err = await failure(client.latest('DE'));
      expect(err.kind).to.equal('network');
      expect(err.detail).to.equal(said);
    });
  }
});
