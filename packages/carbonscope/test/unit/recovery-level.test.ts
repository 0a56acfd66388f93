import { expect } from 'chai';
import { withHandover } from '../../src/energy/sources/index.js';
import type { PowerSource } from '../../src/energy/sources/source.js';
import { type LookupFailure, UpstreamOutages } from '../../src/grid/upstream-outages.js';
import type { Logger } from '../../src/log.js';
import { reportingFailures } from '../../src/otel/binding/push-failures.js';
import type { ExportResult, PushMetricExporter } from '../../src/otel/sdk/optional-sdk.js';

/** Each line as `level: text`. */
function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (first: unknown, message?: string) =>
    lines.push(`${level}: ${typeof first === 'string' ? first : message}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const levels = (lines: readonly string[]) => lines.map((line) => line.split(':')[0]);

/** A host source whose samples throw while `failing()` says so. */
function source(name: 'kepler' | 'estimate', failing: () => boolean): PowerSource {
  return {
    name,
    estimated: name === 'estimate',
    kind: 'host',
    probe: async () => ({ ok: true }) as never,
    sample: () => {
      if (failing()) throw Object.assign(new Error('unreachable'), { kind: 'unreachable' });
      return [];
    },
    close: async () => undefined,
  };
}

// The stderr logger shows warn and above by default (CARBONSCOPE_LOG_LEVEL): an outage told at
// warn and ended at info left the warning as the last word, the figures flowing again unsaid.
describe('an outage is ended at the level it was told at, so its end shows where it did', () => {
  it('an OTLP push that gets through again after failing', () => {
    const lines: string[] = [];
    const results: ExportResult[] = [{ code: 1, error: new Error('refused') }, { code: 0 }];
    const scripted: PushMetricExporter = {
      export: (_metrics, done) => done(results.shift() ?? { code: 0 }),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const exporter = reportingFailures(scripted, 'http://collector:4318/v1/metrics', {
      ...recordingLogger(lines),
    });
    for (let i = 0; i < 2; i++)
      exporter.export({ resource: {}, scopeMetrics: [] } as never, () => {});
    expect(lines).to.deep.equal([
      'warn: could not push metrics to http://collector:4318/v1/metrics: refused; the next export tries again',
      'warn: metrics pushed to http://collector:4318/v1/metrics again',
    ]);
  });

  it("a grid zone's lookups, and the end of their flapping", () => {
    const lines: string[] = [];
    const outages = new UpstreamOutages(recordingLogger(lines), 'latest');
    const failure: LookupFailure = { reason: 'answered 503', level: 'warn', fields: {} };
    outages.failed('DE', failure, 'using the annual average', 0);
    outages.recovered('DE', 30_000);
    outages.failed('DE', failure, 'using the annual average', 60_000);
    outages.recovered('DE', 90_000);
    outages.recovered('DE', 60 * 60_000);
    expect(levels(lines)).to.deep.equal(['warn', 'warn', 'warn', 'warn']);
    expect(lines[1]).to.include('answers again');
    expect(lines[3]).to.include('answers steadily again');
  });

  it('a refused key, told as an error, ends in a line the default level shows', () => {
    const lines: string[] = [];
    const outages = new UpstreamOutages(recordingLogger(lines), 'latest');
    const failure: LookupFailure = { reason: 'key refused', level: 'error', fields: {} };
    outages.failed('DE', failure, 'using the annual average', 0);
    outages.recovered('DE', 30_000);
    expect(levels(lines)).to.deep.equal(['error', 'warn']);
  });

  it("a measuring source's first hand-over to the estimate, and its first return", () => {
    const lines: string[] = [];
    let down = false;
    const host = withHandover({
      primary: source('kepler', () => down),
      fallback: source('estimate', () => false),
      logger: recordingLogger(lines),
    });
    const tick = { nowMs: 0, elapsedMs: 1000, hostCpu: {} } as never;
    for (const state of [true, false, true, false]) {
      down = state;
      host.sample(tick);
    }
    expect(lines.map((line) => line.replace(/: .*/, ''))).to.deep.equal([
      'warn',
      'warn',
      'debug',
      'debug',
    ]);
    expect(lines[1]).to.equal('warn: energy: kepler (measured) readings are used again');
  });
});
