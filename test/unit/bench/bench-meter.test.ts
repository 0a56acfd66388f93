import { performance } from 'node:perf_hooks';
import { metrics } from '@opentelemetry/api';
import type { OperationFootprint } from 'carbonscope';
import { expect } from 'chai';
import { attributionMeter } from '../../bench/bench-meter.js';

describe("bench: meter.bench's `exact` meter reads the CPU clock a user's meter reads", () => {
  it('charges an operation that waited off the CPU in its callback far less than one that spun as long', async () => {
    const energy = await attributionMeter('exact', metrics.getMeter('bench-meter-test'));
    try {
      const ended: OperationFootprint[] = [];
      energy.tracker.onEnd((f) => ended.push(f));
      energy.meter.sampleNow();
      const spun = energy.tracker.begin('spun');
      spun.run(() => {
        const t0 = performance.now();
        while (performance.now() - t0 < 40);
      });
      spun.end();
      const waited = energy.tracker.begin('waited');
      waited.run(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40));
      waited.end();
      await new Promise((resolve) => setTimeout(resolve, 10));
      energy.meter.sampleNow();
      const joules = (name: string) => ended.find((f) => f.operation === name)?.joules ?? 0;
      expect(joules('spun')).to.be.above(0);
      // By the wall clock (a scripted one) both were 40 ms of "CPU": the same share.
      expect(joules('waited')).to.be.below(joules('spun') / 4);
    } finally {
      await energy.stop();
    }
  });
});
