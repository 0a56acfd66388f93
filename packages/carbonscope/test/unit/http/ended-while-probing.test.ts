import { expect } from 'chai';
import { MAX_REQUESTS_ENDED_EARLY } from '../../../src/energy/index.js';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import { bindMetrics, endedEarlyDroppedText } from '../../../src/otel/binding/bind-metrics.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { createTestMetrics, parseSamples } from '../../helpers/metrics.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  StubGrid,
  steadyCarbonscope,
  testConfig,
} from '../energy/scripted.js';

const COUNT = `${prometheusName(METRICS.httpDuration)}_count`;

/** The requests `http.server.request.duration` counted, over every series. */
async function counted(metrics: ReturnType<typeof createTestMetrics>): Promise<number> {
  const series = parseSamples(await metrics.scrape()).filter((s) => s.name === COUNT);
  return series.reduce((sum, s) => sum + s.value, 0);
}

// Requests that end before the meter's start (while the power sources are probed) end
// before the instrumentation binds: its `http: true` histogram had 1 of 15 where the energy
// histogram had 15. The binding replays what the tracker kept, up to its bound, and says how
// many were past it.
describe('http: requests that ended while the power sources were probed', () => {
  for (const local of [true, false]) {
    it(`are in http.server.request.duration once bound (${local ? "carbonscope's" : "the SDK's"} histograms), and those past the bound said`, async function () {
      this.timeout(60_000);
      const { logger, lines } = memoryLogger();
      const cs = await steadyCarbonscope({ logger });
      const metrics = createTestMetrics({ local });
      const total = MAX_REQUESTS_ENDED_EARLY + 3;
      for (let i = 0; i < total; i++) cs.begin('/health', 'request').end('/health', 200);
      bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
      expect(await counted(metrics)).to.equal(MAX_REQUESTS_ENDED_EARLY);
      const warned = lines.filter((l) => l.level === 40).map((l) => l.msg);
      expect(warned).to.deep.equal([endedEarlyDroppedText(3)]);
      expect(warned[0]).to.match(/^3 HTTP requests that ended while the power sources were probed/);
      // Once started, a request is recorded as it ends; a second binding replays nothing again.
      await cs.start();
      cs.begin('/health', 'request').end('/health', 200);
      bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
      expect(await counted(metrics)).to.equal(MAX_REQUESTS_ENDED_EARLY + 1);
      await cs.stop();
      await metrics.shutdown();
    });
  }

  // The default instance (start(), register, the instrumentation) takes its baseline at create(),
  // before the sources are probed: kept only until then, none were (0 of 3 under a 1.2 s
  // nvidia-smi). Kept until the meter's start, which every binding follows; none after it.
  it('are kept where the baseline is at create() (the default instance), until the start', async () => {
    const cs = await Carbonscope.create(
      {
        settings: testConfig(),
        logger: memoryLogger().logger,
        grid: new StubGrid(intensityReading('DE', 300)),
        sources: { host: constantSource(5), gpus: [] },
        timer: new ManualTimer(),
      },
      'test',
      {},
    );
    for (let i = 0; i < 3; i++) cs.begin('/health', 'request').end('/health', 200);
    await cs.start();
    const listeners = (cs.tracker as unknown as { requestListeners: { all: unknown[] } })
      .requestListeners.all;
    expect(listeners, 'nothing per request once the meter started').to.deep.equal([]);
    cs.begin('/late', 'request').end('/late', 200);
    const metrics = createTestMetrics({ local: true });
    bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
    expect(await counted(metrics)).to.equal(3);
    cs.begin('/health', 'request').end('/health', 200);
    expect(await counted(metrics), 'recorded once: as it ended, not replayed too').to.equal(4);
    await cs.stop();
    await metrics.shutdown();
  });
});
