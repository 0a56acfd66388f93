/**
 * The service's OTLP reader under delta temporality against a loopback receiver that refuses
 * one push and takes the others: the refused push's points go with the next export
 * (carryingFailedPushes), so the receiver's sum is what was counted, each interval once.
 */

import { expect } from 'chai';
import {
  metricsOf,
  type OtlpNumberPoint,
  otlpReceiver,
} from '#library-tests/helpers/otlp-receiver.js';
import { telemetryChildOutput } from '../helpers/telemetry-child.js';

const COUNTER = 'test.carried';

/** Points of the test's counter in a push. */
function counted(push: Parameters<typeof metricsOf>[0]): OtlpNumberPoint[] {
  return metricsOf(push).find((m) => m.name === COUNTER)?.sum?.dataPoints ?? [];
}

describe("the service's OTLP pushes under delta temporality, one refused", function () {
  this.timeout(60_000);

  it('sends the refused push again with the next: what was counted arrives, none twice', async () => {
    let refused = 0;
    // The first push that holds the counter is refused (401: not retried by the exporter).
    const receiver = await otlpReceiver({
      answer: (push) => {
        if (refused > 0 || counted(push.body).length === 0) return 200;
        refused = 401;
        return refused;
      },
    });
    try {
      const { stdout, stderr } = await telemetryChildOutput(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
          OTEL_METRIC_EXPORT_INTERVAL: '300',
          OTEL_TRACES_EXPORTER: 'none',
        },
        `const counter = telemetry.meter.createCounter(${JSON.stringify(COUNTER)});
         let total = 0;
         for (let i = 0; i < 20; i++) {
           counter.add(i + 1);
           total += i + 1;
           await new Promise((resolve) => setTimeout(resolve, 100));
         }
         return total;`,
        '{ otlpMetricsEnabled: true }',
      );
      const total = JSON.parse(stdout) as number;
      expect(refused, stderr).to.equal(401);
      const points = receiver.pushes.flatMap((push) => counted(push.body));
      const sum = points.reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? 0), 0);
      expect(sum, stderr).to.equal(total);
      // None twice: each interval arrived in one push.
      const intervals = points.map((p) => `${p.startTimeUnixNano} ${p.timeUnixNano}`);
      expect(new Set(intervals).size).to.equal(intervals.length);
      // And the line says so: lost, not carried, where nothing carried them (stop 80's risk).
      expect(stderr).to.include('the next export carries what each failed push carried again');
    } finally {
      await receiver.close();
    }
  });
});
