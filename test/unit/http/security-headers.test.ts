import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { addSecurityHeaders } from '../../../src/http/security-headers.js';

function contextWith(set: (ctx: Koa.Context) => void): Koa.Context {
  const req = new IncomingMessage(new Socket());
  const ctx = new Koa().createContext(req, new ServerResponse(req));
  set(ctx);
  return ctx;
}

describe('security headers', () => {
  // Koa 3's response.get() returns undefined for a header not set (its types say string): a
  // 204 or 304 has no Content-Type, and the envelope's finally threw, losing the log line.
  for (const status of [204, 304]) {
    it(`adds nosniff to a ${status}, which has no Content-Type, without throwing`, () => {
      const ctx = contextWith((c) => {
        c.status = status;
      });
      expect(() => addSecurityHeaders(ctx)).not.to.throw();
      expect(ctx.response.get('X-Content-Type-Options')).to.equal('nosniff');
      expect(ctx.response.get('Content-Security-Policy')).to.equal(undefined);
    });
  }

  it('gives an HTML page its policy, whatever the case of its type', () => {
    const ctx = contextWith((c) => {
      c.set('Content-Type', 'TEXT/HTML; charset=utf-8');
    });
    addSecurityHeaders(ctx);
    expect(ctx.response.get('Content-Security-Policy')).to.be.a('string').and.not.be.empty;
    expect(ctx.response.get('X-Frame-Options')).to.equal('DENY');
  });
});
