import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { wantsHtml } from '../../../src/views/html.js';

const app = new Koa();

/** A real Koa context for a GET with this Accept header (none when undefined). */
function contextWith(accept: string | undefined): Koa.Context {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/carbon_intensity';
  req.headers = accept === undefined ? {} : { accept };
  return app.createContext(req, new ServerResponse(req)) as Koa.Context;
}

/** What full content negotiation says: the answer wantsHtml must keep. */
const negotiated = (accept: string | undefined) =>
  contextWith(accept).accepts('json', 'html') === 'html';

const HEADERS: Array<string | undefined> = [
  undefined,
  '',
  'application/json',
  'APPLICATION/JSON',
  'application/json, text/plain;q=0.5',
  'image/png',
  '*/*',
  'application/json;q=0, */*',
  'text/*',
  'text/*;q=0.5, application/json',
  'text/html',
  'TEXT/HTML',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'application/json, text/html',
  'text/html;q=0.1, application/json',
  'application/xhtml+xml',
];

describe('wantsHtml', () => {
  for (const accept of HEADERS) {
    it(`agrees with content negotiation for Accept: ${accept ?? '(none)'}`, () => {
      expect(wantsHtml(contextWith(accept))).to.equal(negotiated(accept));
    });
  }

  it('answers an API client without negotiating (the request path does not pay for it)', () => {
    for (const accept of [undefined, 'application/json', 'application/json, image/png']) {
      const ctx = contextWith(accept);
      let negotiations = 0;
      const counted = {
        get: (field: string) => ctx.get(field),
        accepts: (...types: string[]) => {
          negotiations++;
          return ctx.accepts(...types);
        },
      };
      expect(wantsHtml(counted)).to.equal(false);
      expect(negotiations, accept).to.equal(0);
    }
  });

  it('still negotiates whenever html could win', () => {
    expect(negotiated('text/html')).to.equal(true);
    expect(wantsHtml(contextWith('text/html'))).to.equal(true);
    expect(wantsHtml(contextWith('application/json;q=0, */*'))).to.equal(true);
    expect(wantsHtml(contextWith('text/*'))).to.equal(true);
  });
});
