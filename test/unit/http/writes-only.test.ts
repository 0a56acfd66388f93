import { expect } from 'chai';
import type { Context, Middleware, Next } from 'koa';
import { writesOnly } from '../../../src/http/writes-only.js';

/** Runs `method` through writesOnly(first, second); returns the order in which things ran. */
async function run(method: string): Promise<string[]> {
  const ran: string[] = [];
  const step =
    (name: string): Middleware =>
    async (_ctx, next) => {
      ran.push(name);
      await next();
    };
  const next: Next = async () => {
    ran.push('rest');
  };
  await writesOnly(step('first'), step('second'))({ method } as Context, next);
  return ran;
}

describe('writesOnly', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    it(`passes a ${method} straight on`, async () => {
      expect(await run(method)).to.deep.equal(['rest']);
    });
  }

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) {
    it(`runs both, in order, for a ${method}`, async () => {
      expect(await run(method)).to.deep.equal(['first', 'second', 'rest']);
    });
  }
});
