import type { IncomingMessage } from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import { expect } from 'chai';
import type { HttpRequestFacts } from '../../../src/energy/index.js';
import { httpFactsReader } from '../../../src/http/index.js';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { LocalHistogram } from '../../../src/otel/binding/local-histograms.js';
import { createTestMetrics, parseSamples } from '../../helpers/metrics.js';
import { steadyCarbonscope } from '../energy/scripted.js';

const COUNT = `${prometheusName(METRICS.httpDuration)}_count`;
const METHODS = ['GET', 'POST', 'PROPFIND', 'get', 'BREW', 'X-'];

/** What a JavaScript caller may pass where the types say otherwise. */
const untyped = <T>(value: unknown) => value as T;
const tls = { encrypted: true };

describe('http: a request ended by hand (begin(name, "request"), end(name, status, facts))', () => {
  it('keeps the HTTP series and their recorders bounded, whatever facts objects come in', async () => {
    const metrics = createTestMetrics({ local: true });
    // One seriesOf per recorder the HTTP metrics make: what they keep per entry.
    const seriesOf = LocalHistogram.prototype.seriesOf;
    let recorders = 0;
    LocalHistogram.prototype.seriesOf = function (this: LocalHistogram, attributes: Attributes) {
      recorders++;
      return seriesOf.call(this, attributes);
    };
    after(() => {
      LocalHistogram.prototype.seriesOf = seriesOf;
    });
    const cs = await steadyCarbonscope();
    bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
    let seed = 1;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // The high bits: the low ones of this generator alternate.
      return Math.floor(seed / 65_536) % n;
    };
    for (let i = 0; i < 10_000; i++) {
      const method = `${METHODS[random(METHODS.length)]}${random(3) === 0 ? random(1000) : ''}`;
      const facts: HttpRequestFacts = { method, scheme: random(2) ? 'http' : 'https' };
      cs.begin('route', 'request').end('route', 200 + random(4), facts);
    }
    const series = parseSamples(await metrics.scrape()).filter((s) => s.name === COUNT);
    const methods = new Set(series.map((s) => s.labels.http_request_method));
    expect([...methods].sort()).to.deep.equal(['GET', 'POST', '_OTHER']);
    expect(series).to.have.length(3 * 2 * 4);
    expect(series.reduce((sum, s) => sum + s.value, 0)).to.equal(10_000);
    expect(recorders, 'one recorder per series').to.be.at.most(3 * 2 * 4 + 10);
    await cs.stop();
    await metrics.shutdown();
  });

  it('gives the footprint the one frozen facts object request tracking uses', async () => {
    const cs = await steadyCarbonscope();
    const a = cs.begin('r', 'request').end('r', 200, { method: 'GET', scheme: 'https' });
    const b = cs.begin('r', 'request').end('r', 200, { method: 'GET', scheme: 'https' });
    expect(a.http).to.deep.equal({ method: 'GET', scheme: 'https' });
    expect(a.http).to.equal(b.http);
    expect(Object.isFrozen(a.http)).to.equal(true);
    const tracked = httpFactsReader()(untyped<IncomingMessage>({ method: 'GET', socket: tls }));
    expect(a.http).to.equal(tracked);
    const other = cs.begin('r', 'request').end('r', 200, { method: 'BREW', scheme: 'http' });
    expect(other.http).to.deep.equal({ method: '_OTHER', scheme: 'http' });
    await cs.stop();
  });

  it('knows the methods OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS names, as request tracking', async () => {
    const cs = await steadyCarbonscope({}, { OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'PROPFIND' });
    const end = (method: string) =>
      cs.begin('r', 'request').end('r', 207, { method, scheme: 'http' }).http?.method;
    expect([end('PROPFIND'), end('GET')]).to.deep.equal(['PROPFIND', '_OTHER']);
    await cs.stop();
  });

  it('refuses a status or facts no response has, at the call, and the operation runs on', async () => {
    const cs = await steadyCarbonscope();
    const op = cs.begin('job', 'request');
    for (const status of [1e9, 42.5, -1, 99, 600, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => op.end('job', status), String(status)).to.throw(
        RangeError,
        /^end\(\): an HTTP status is a whole number from 100 to 599, not /,
      );
    }
    for (const status of ['200', null, {}]) {
      expect(() => op.end('job', untyped<number>(status))).to.throw(
        TypeError,
        /^end\(\): an HTTP status is a number/,
      );
    }
    for (const facts of [null, 'GET', { method: 'GET', scheme: 'ftp' }, { scheme: 'http' }]) {
      expect(() => op.end('job', 200, untyped<HttpRequestFacts>(facts))).to.throw(
        TypeError,
        /^end\(\): /,
      );
    }
    expect(() => op.end('renamed', 1e9)).to.throw(RangeError);
    expect(op.end(undefined, 201, { method: 'PUT', scheme: 'http' })).to.include({
      operation: 'job',
      status: 201,
    });
    await cs.stop();
  });
});
