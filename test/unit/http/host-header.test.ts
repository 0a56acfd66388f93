import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { hostProblem, targetOrigin } from '../../../src/http/host-header.js';

/** An HTTP/1.1 request for `url` with one valid Host, as the envelope sees it. */
function contextFor(url: string): Koa.Context {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.headers.host = 'service:3000';
  req.rawHeaders = ['Host', 'service:3000'];
  return new Koa().createContext(req, new ServerResponse(req));
}

const NEITHER = 'the request target is neither a path nor an http(s) URL';
const USER = 'the request target names a user (user@host)';
const AUTHORITY = "the request target's authority is not a host with an optional port";

// Each target as [the authority targetOrigin reads of it, what hostProblem answers for it]: both read
// an absolute-form target the one way (the hostile-HTTP spec has them over a socket).
const TARGETS: [string, string | undefined, string | undefined][] = [
  ['/healthz', undefined, undefined],
  ['/a?b=http://c', undefined, undefined],
  ['*', undefined, undefined],
  ['http://a/b', 'a', undefined],
  ['HTTPS://a:8080?q=1', 'a:8080', undefined],
  ['http://[::1]:3000#f', '[::1]:3000', undefined],
  ['http://', '', AUTHORITY],
  ['ftp://a/healthz', undefined, NEITHER],
  ['healthz', undefined, NEITHER],
  ['', undefined, NEITHER],
  ['http:/a', undefined, NEITHER],
  ['http://u:pw@a/', 'u:pw@a', USER],
  ['http://a:b:c/', 'a:b:c', AUTHORITY],
  ['http://[/x', '[', AUTHORITY],
];

describe('host header: the absolute-form target, read once for its authority and its problem', () => {
  for (const [url, authority, problem] of TARGETS) {
    it(`reads ${JSON.stringify(url)} as ${JSON.stringify(authority) ?? 'no authority'}, ${problem ?? 'served'}`, () => {
      expect(targetOrigin(url)?.host, 'targetOrigin').to.equal(authority);
      expect(hostProblem(contextFor(url)), 'hostProblem').to.equal(problem);
    });
  }

  it("reads the scheme of an absolute-form target as URL's protocol, in any case", () => {
    expect(targetOrigin('http://a/b')?.protocol).to.equal('http:');
    expect(targetOrigin('HTTPS://a:8080?q=1')?.protocol).to.equal('https:');
    expect(targetOrigin('https://')?.protocol).to.equal('https:');
  });

  it("answers a bad Host before the target's problem", () => {
    const ctx = contextFor('ftp://a/');
    ctx.req.headers.host = 'a@b';
    ctx.req.rawHeaders = ['Host', 'a@b'];
    expect(hostProblem(ctx)).to.equal('the Host header is not a host with an optional port');
  });
});
