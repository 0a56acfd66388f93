import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { httpFactsReader } from '../../../src/http/index.js';
import { loadSettings, SettingsError } from '../../../src/settings.js';

/** What the reader looks at of a request: its method and whether its socket is TLS. */
function request(method: string, encrypted = false): IncomingMessage {
  return { method, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('HTTP request facts (http.request.method, url.scheme)', () => {
  it("names the conventions' known methods, every other one _OTHER, and the scheme", () => {
    const factsOf = httpFactsReader();
    expect(factsOf(request('GET'))).to.deep.equal({ method: 'GET', scheme: 'http' });
    expect(factsOf(request('PATCH', true))).to.deep.equal({ method: 'PATCH', scheme: 'https' });
    for (const method of ['PROPFIND', 'get', 'MKCOL']) {
      expect(factsOf(request(method)).method, method).to.equal('_OTHER');
    }
  });

  it('answers each request by its own method when methods alternate or repeat', () => {
    const factsOf = httpFactsReader();
    const methods = ['GET', 'GET', 'POST', 'PROPFIND', 'PROPFIND', 'GET', 'DELETE', 'GET'];
    const got = methods.map((m, i) => factsOf(request(m, i % 3 === 0)));
    expect(got.map((f) => f.method)).to.deep.equal(
      methods.map((m) => (m === 'PROPFIND' ? '_OTHER' : m)),
    );
    expect(got.map((f) => f.scheme)).to.deep.equal(
      methods.map((_m, i) => (i % 3 === 0 ? 'https' : 'http')),
    );
  });

  it('answers from a fixed set of objects: a request allocates nothing', () => {
    const factsOf = httpFactsReader();
    expect(factsOf(request('POST'))).to.equal(factsOf(request('POST')));
    expect(factsOf(request('LOCK'))).to.equal(factsOf(request('UNLOCK')));
  });

  it('takes OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS as the whole list, and refuses a bad one', () => {
    const { knownMethods } = loadSettings({
      OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET, PROPFIND',
    }).http;
    expect(knownMethods).to.deep.equal(['GET', 'PROPFIND']);
    const factsOf = httpFactsReader(knownMethods);
    expect(factsOf(request('PROPFIND')).method).to.equal('PROPFIND');
    expect(factsOf(request('POST')).method).to.equal('_OTHER');
    expect(loadSettings({}).http.knownMethods).to.equal(undefined);
    expect(() => loadSettings({ OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET,,POST' }))
      .to.throw(SettingsError)
      .with.property('variable', 'OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS');
  });
});
