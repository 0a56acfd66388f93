import { expect } from 'chai';
import type { EndedRequest } from '../../../src/energy/index.js';
import { RequestsEndedEarly } from '../../../src/energy/requests-ended-early.js';

const GET = Object.freeze({ method: 'GET', scheme: 'http' as const });
const POST = Object.freeze({ method: 'POST', scheme: 'https' as const });

/** What `record` was handed as [name, status, method, ms]: the object it gets is reused. */
function replayed(early: RequestsEndedEarly): unknown[] {
  const seen: unknown[] = [];
  early.replay((r) => seen.push([r.name, r.status, r.http?.method, r.endMs - r.startMs]));
  return seen;
}

const request = (
  name: string,
  status: number | undefined,
  http: EndedRequest['http'],
  startMs: number,
  endMs: number,
): EndedRequest => ({ name, status, http, startMs, endMs });

describe('RequestsEndedEarly: requests that ended while the power sources were probed', () => {
  it('replays each in the order they ended, with its series and duration, once', () => {
    const early = new RequestsEndedEarly(10);
    early.add(request('/health', 200, GET, 100, 103.5));
    early.add(request('/health', 200, GET, 200, 201));
    early.add(request('unmatched', 404, POST, 250, 290));
    early.add(request('/health', undefined, undefined, 300, 1300));
    early.add(request('/health', 200, GET, 400, 402));
    expect(early.size).to.equal(5);
    expect(replayed(early)).to.deep.equal([
      ['/health', 200, 'GET', 3.5],
      ['/health', 200, 'GET', 1],
      ['unmatched', 404, 'POST', 40],
      ['/health', undefined, undefined, 1000],
      ['/health', 200, 'GET', 2],
    ]);
    expect(replayed(early), 'kept once').to.deep.equal([]);
  });

  it('keeps up to its bound, past the first block it grows by, and counts the rest', () => {
    const early = new RequestsEndedEarly(3000);
    for (let i = 0; i < 3005; i++) early.add(request(`/r${i % 7}`, 200, GET, 0, i));
    expect(early.dropped).to.equal(5);
    const seen = replayed(early) as [string, number, string, number][];
    expect(seen).to.have.length(3000);
    expect(seen.map((r) => r[3]).reduce((a, b) => a + b, 0)).to.equal((2999 * 3000) / 2);
    expect(seen[2999]?.[0]).to.equal(`/r${2999 % 7}`);
    expect(early.dropped, 'the count goes with them').to.equal(0);
  });

  it('forgets the last series at a clear and a replay: the same route after them is kept anew', () => {
    const early = new RequestsEndedEarly(10);
    early.add(request('/health', 200, GET, 0, 1));
    early.clear();
    expect([early.size, early.dropped]).to.deep.equal([0, 0]);
    // The series are made anew from index 0: a cached '/health' would stand for '/a' here.
    early.add(request('/health', 200, GET, 0, 2));
    early.add(request('/a', 200, GET, 0, 3));
    early.add(request('/health', 200, GET, 0, 4));
    expect(replayed(early)).to.deep.equal([
      ['/health', 200, 'GET', 2],
      ['/a', 200, 'GET', 3],
      ['/health', 200, 'GET', 4],
    ]);
    early.add(request('/health', 200, GET, 0, 5));
    early.add(request('/b', 404, POST, 0, 6));
    expect(replayed(early), 'after a replay').to.deep.equal([
      ['/health', 200, 'GET', 5],
      ['/b', 404, 'POST', 6],
    ]);
  });
});
