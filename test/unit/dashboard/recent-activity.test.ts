import type { OperationContext, OperationFootprint } from 'carbonscope';
import { expect } from 'chai';
import { underLocale } from '#library-tests/helpers/under-locale.js';
import { RecentActivity } from '../../../src/dashboard/recent-activity.js';
import {
  MAX_ENDPOINTS,
  OTHER_ENDPOINT,
  RequestStats,
} from '../../../src/dashboard/request-stats.js';

function footprint(operation: string, joules = 1, context?: OperationContext): OperationFootprint {
  return {
    operation,
    kind: 'operation',
    durationSeconds: 0.5,
    joules,
    grams: joules / 10,
    embodiedGrams: joules / 4,
    estimated: true,
    provisional: false,
    context,
  };
}

describe('dashboard recent activity', () => {
  it('lists what the page shows of an operation, never what it carried (a span)', () => {
    const recent = new RecentActivity(2, () => Date.UTC(2026, 0, 1));
    const span = { settle: () => {}, spanContext: 'not for the page' };
    recent.record(footprint('inference', 2, span));
    expect(recent.list()).to.deep.equal([
      {
        operation: 'inference',
        durationSeconds: 0.5,
        energyJoules: 2,
        emissionsGrams: 0.2,
        embodiedGrams: 0.5,
        sci: {
          operationalGrams: 0.2,
          embodiedGrams: 0.5,
          units: 1,
          gramsPerUnit: 0.7,
          estimated: true,
        },
        estimated: true,
        provisional: false,
        endedAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
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

  // The meter settles a second's operations at once: a view built for each as it was recorded,
  // most overwritten before anyone listed them, was garbage that survived the service's
  // scavenges. Only what list() shows is read.
  it('reads an operation when it is listed, not when it is recorded', () => {
    const recent = new RecentActivity(3);
    let reads = 0;
    for (let i = 1; i <= 10; i++) {
      const f = footprint(`op${i}`, i);
      Object.defineProperty(f, 'joules', {
        get: () => {
          reads++;
          return i;
        },
      });
      recent.record(f);
    }
    expect(reads).to.equal(0);
    const list = recent.list();
    expect(list.map((o) => o.energyJoules)).to.deep.equal([10, 9, 8]);
    expect(reads).to.be.above(0);
    const perList = reads;
    recent.list();
    expect(reads).to.equal(2 * perList);
  });

  // sciOf throws on a part that is no number: thrown in the meter's ended-operation listener, the
  // operation was missing from the list, and the same view answers /chat: a 500 after its LLM
  // call was paid for. Its SCI reads unknown instead (null in JSON).
  it('lists an operation whose emissions are no number with its SCI unknown', () => {
    const recent = new RecentActivity(2);
    recent.record({ ...footprint('chat', 1), grams: Number.NaN });
    const [op] = recent.list();
    expect(op.operation).to.equal('chat');
    expect(op.sci).to.deep.include({ gramsPerUnit: null, operationalGrams: null, units: 1 });
  });
});

/** The endpoints' order as a process under `locale` lists them, each endpoint asked once. */
function orderUnder(locale: string, endpoints: string[]): string {
  const module = new URL('../../../src/dashboard/request-stats.js', import.meta.url).href;
  const script = `const { RequestStats } = await import(${JSON.stringify(module)});
const stats = new RequestStats();
for (const operation of ${JSON.stringify(endpoints)}) {
  stats.record({ operation, kind: 'request', durationSeconds: 0, joules: 1, grams: 1,
    embodiedGrams: 1, estimated: false, provisional: false });
}
process.stdout.write(stats.list().map((s) => s.endpoint).join(' '));`;
  return underLocale(locale, script);
}

describe('dashboard request stats', () => {
  // A bare localeCompare followed LANG: under et_EE `/z` came before `/t`, under da_DK `/aa` last.
  it('orders endpoints of equal counts the same whatever LC_ALL says', () => {
    for (const locale of ['C', 'et_EE.UTF-8', 'da_DK.UTF-8', 'lt_LT.UTF-8']) {
      expect(orderUnder(locale, ['/z', '/t', '/aa', '/y', '/j']), locale).to.equal(
        '/aa /j /t /y /z',
      );
    }
  });

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

  // A footprint whose emissions are no number went into the endpoint's running totals for
  // good: sciOf threw on every list() after it, and /dashboard/data answered 500 until restart.
  it("keeps an endpoint's figures when one request's emissions are no number", () => {
    const stats = new RequestStats();
    stats.record(footprint('/predict', 2));
    stats.record({ ...footprint('/predict', 2), grams: Number.NaN });
    stats.record(footprint('/predict', 2));
    const [predict] = stats.list();
    expect(predict.requests).to.equal(3);
    expect(predict.gramsPerRequest).to.be.closeTo(0.4 / 3, 1e-12);
    expect(predict.sciGramsPerRequest).to.be.closeTo((0.4 + 1.0) / 3, 1e-12);
  });

  it('folds endpoints beyond its cap into one row', () => {
    const stats = new RequestStats();
    for (let i = 0; i < MAX_ENDPOINTS + 10; i++) stats.record(footprint(`/e${i}`));
    const list = stats.list();
    expect(list).to.have.length(MAX_ENDPOINTS);
    expect(list.find((r) => r.endpoint === OTHER_ENDPOINT)?.requests).to.equal(11);
  });
});
