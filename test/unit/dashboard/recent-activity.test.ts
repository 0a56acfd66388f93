import type { ActiveOperation, OperationFootprint, OperationTracker } from 'carbonscope';
import { expect } from 'chai';
import {
  observeTracker,
  REQUEST_OPERATION,
  RecentActivity,
} from '../../../src/dashboard/recent-activity.js';
import {
  MAX_ENDPOINTS,
  OTHER_ENDPOINT,
  RequestStats,
} from '../../../src/dashboard/request-stats.js';

function footprint(operation: string, energyJoules = 1): OperationFootprint {
  return {
    operation,
    durationSeconds: 0.5,
    energyJoules,
    emissionsGrams: energyJoules / 10,
    estimated: true,
  };
}

/** Counts what reaches the wrapped tracker, so the decorator is shown to pass everything on. */
class CountingTracker implements OperationTracker {
  begun: string[] = [];
  ended = 0;
  begin(operation: string): ActiveOperation {
    this.begun.push(operation);
    let result: OperationFootprint | undefined;
    return {
      end: (name?: string) => {
        if (!result) this.ended++;
        result ??= footprint(name ?? operation);
        return result;
      },
    };
  }
  track<T>(operation: string, fn: () => T): T {
    const op = this.begin(operation);
    const out = fn();
    op.end();
    return out;
  }
}

describe('dashboard tracker decorator and recent activity', () => {
  it('reports each ended operation once, with the name it began under', () => {
    const inner = new CountingTracker();
    const seen: Array<[string, string]> = [];
    const tracker = observeTracker(inner, (begunAs, fp) => seen.push([begunAs, fp.operation]));
    const op = tracker.begin(REQUEST_OPERATION);
    const first = op.end('/predict');
    expect(op.end('/ignored')).to.equal(first, 'end stays idempotent');
    expect(seen).to.deep.equal([[REQUEST_OPERATION, '/predict']]);
    expect(inner.ended).to.equal(1);
  });

  it('tracks sync, async and throwing functions as one operation each', async () => {
    const inner = new CountingTracker();
    const seen: string[] = [];
    const tracker = observeTracker(inner, (_b, fp) => seen.push(fp.operation));
    expect(tracker.track('inference', () => 42)).to.equal(42);
    expect(await tracker.track('chat', async () => 'answer')).to.equal('answer');
    expect(() =>
      tracker.track('inference', () => {
        throw new Error('boom');
      }),
    ).to.throw('boom');
    await tracker
      .track('chat', async () => {
        throw new Error('upstream');
      })
      .catch(() => {});
    expect(seen).to.deep.equal(['inference', 'chat', 'inference', 'chat']);
    expect(inner.begun).to.have.length(4);
    expect(inner.ended).to.equal(4);
  });

  it('keeps the newest operations, newest first, within its capacity', () => {
    let t = Date.UTC(2026, 0, 1);
    const recent = new RecentActivity(3, () => t);
    for (let i = 1; i <= 5; i++) {
      t += 1000;
      recent.record(footprint(`op${i}`, i));
    }
    const list = recent.list();
    expect(list.map((o) => o.operation)).to.deep.equal(['op5', 'op4', 'op3']);
    expect(list[0]).to.include({ energyJoules: 5, emissionsGrams: 0.5, estimated: true });
    expect(list[0].endedAt).to.equal(new Date(t).toISOString());
  });
});

describe('dashboard request stats', () => {
  it('gives requests per second since the last sample and mean energy per request', () => {
    const stats = new RequestStats();
    stats.record(footprint('/predict', 2));
    stats.record(footprint('/predict', 4));
    stats.record(footprint('/chat', 1));
    const rates: Record<string, number> = {};
    stats.drainRates(2, (endpoint, perSecond) => {
      rates[endpoint] = perSecond;
    });
    expect(rates).to.deep.equal({ '/predict': 1, '/chat': 0.5 });
    stats.drainRates(1, (endpoint, perSecond) => {
      rates[endpoint] = perSecond;
    });
    expect(rates).to.deep.equal({ '/predict': 0, '/chat': 0 });
    const [predict] = stats.list();
    expect(predict).to.include({ endpoint: '/predict', requests: 2, joulesPerRequest: 3 });
    expect(predict.gramsPerRequest).to.be.closeTo(0.3, 1e-12);
  });

  it('folds endpoints beyond its cap into one row', () => {
    const stats = new RequestStats();
    for (let i = 0; i < MAX_ENDPOINTS + 10; i++) stats.record(footprint(`/e${i}`));
    const list = stats.list();
    expect(list).to.have.length(MAX_ENDPOINTS);
    expect(list.find((r) => r.endpoint === OTHER_ENDPOINT)?.requests).to.equal(11);
  });
});
