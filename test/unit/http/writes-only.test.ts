import { expect } from 'chai';
import type { Context, Middleware, Next } from 'koa';
import { writesOnly } from '../../../src/http/writes-only.js';

/** Runs `method` through writesOnly(middleware); returns the order in which things ran. */
async function run(method: string): Promise<string[]> {
  const ran: string[] = [];
  const middleware: Middleware = async (_ctx, next) => {
    ran.push('middleware');
    await next();
  };
  const next: Next = async () => {
    ran.push('rest');
  };
  await writesOnly(middleware)({ method } as Context, next);
  return ran;
}

describe('writesOnly', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    it(`passes a ${method} straight on`, async () => {
      expect(await run(method)).to.deep.equal(['rest']);
    });
  }

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) {
    it(`runs the middleware, then the rest, for a ${method}`, async () => {
      expect(await run(method)).to.deep.equal(['middleware', 'rest']);
    });
  }
});
