import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { addSecurityHeaders } from '../../../src/http/security-headers.js';
import { PAGE_STYLE_SOURCE } from '../../../src/views/html.js';

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

  // default-src 'self' let a page load frames, workers, fonts, media and manifests from the
  // service, none of which any page uses: each directive now names only what the pages load.
  it("allows a page only what the service's pages load", () => {
    const ctx = contextWith((c) => {
      c.set('Content-Type', 'text/html; charset=utf-8');
    });
    addSecurityHeaders(ctx);
    const policy = String(ctx.response.get('Content-Security-Policy'));
    const directives = Object.fromEntries(
      policy.split(';').map((d) => {
        const [name, ...sources] = d.trim().split(/\s+/);
        return [name, sources.join(' ')];
      }),
    );
    expect(directives).to.deep.equal({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': `'self' ${PAGE_STYLE_SOURCE}`,
      'img-src': 'data:',
      'connect-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
    });
  });
});
