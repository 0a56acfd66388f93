import { expect } from 'chai';
import type { Logger } from '../../../../src/log.js';
import {
  carryingFailedPushes,
  REASON_REPEAT_MS,
  reportingFailures,
  reportingPushFailures,
} from '../../../../src/otel/binding/push-failures.js';
import type { ExportResult, PushMetricExporter } from '../../../../src/otel/sdk/optional-sdk.js';
import { withPartialSuccess } from '../../../../src/otel/sdk/partial-success.js';
import { oddValues } from '../../../helpers/textless-throws.js';

/** An exporter whose exports end as `results` says, one by one. */
function scriptedExporter(results: ExportResult[]): PushMetricExporter {
  return {
    export: (_metrics, done) => done(results.shift() ?? { code: 0 }),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}

function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (text: unknown) => lines.push(`${level}: ${String(text)}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const refused: ExportResult = { code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:1') };
const timedOut: ExportResult = { code: 1, error: new Error('Request timed out') };
const ok: ExportResult = { code: 0 };

/** An export of `metrics` (aggregationTemporality and dataPointType: the SDK's enums' values). */
function exportOf(...metrics: Array<{ aggregationTemporality: number; dataPointType: number }>) {
  const withPoints = metrics.map((m) => ({ ...m, descriptor: { name: 'm' }, dataPoints: [1] }));
  return { resource: {}, scopeMetrics: [{ scope: { name: 's' }, metrics: withPoints }] } as never;
}
const DELTA = 0;
const CUMULATIVE = 1;
const HISTOGRAM = 0;
const GAUGE = 2;
const SUM = 3;
/** What the SDK exports under OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta. */
const DELTA_EXPORT = exportOf(
  { aggregationTemporality: DELTA, dataPointType: SUM },
  { aggregationTemporality: DELTA, dataPointType: HISTOGRAM },
);
/** And with carbonscope's own histograms beside, which are cumulative whatever the preference. */
const MIXED_EXPORT = exportOf(
  { aggregationTemporality: DELTA, dataPointType: SUM },
  { aggregationTemporality: CUMULATIVE, dataPointType: HISTOGRAM },
);
/** Gauges only: withCurrentGauges makes them delta under cumulative too, so no evidence. */
const GAUGES_EXPORT = exportOf(
  { aggregationTemporality: DELTA, dataPointType: GAUGE },
  { aggregationTemporality: CUMULATIVE, dataPointType: GAUGE },
);
const EMPTY_EXPORT = exportOf();

describe("otel: a collector's partial success, told once for each reason", () => {
  // A collector whose message changes with each push (a count, a series in it) adds no line past
  // PARTIAL_REASONS_MAX; each reason's first push is told, a repeat of one told is not.
  it('one line for each distinct reason, 16 at most, the message cut at 200 characters', () => {
    const lines: string[] = [];
    const long = 'x'.repeat(250);
    const reasons = [long, long, ...Array.from({ length: 20 }, (_, i) => `series ${i} too old`)];
    const results = reasons.map((message) => withPartialSuccess(ok, { rejected: 2, message }));
    const exporter = reportingFailures(
      scriptedExporter([...results]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    for (const _ of results) exporter.export(EMPTY_EXPORT, () => undefined);
    expect(lines).to.have.length(16);
    expect(lines[0]).to.equal(
      `warn: the collector at http://collector:4318/v1/metrics took a push but rejected 2 of its data points: "${'x'.repeat(200)}…" (told once for each reason)`,
    );
    expect(lines[15]).to.include('"series 14 too old"');
  });
});

describe('otel: a failing OTLP push is told once, and its recovery once', () => {
  it('one warning for a run of failures, whatever their reasons, then one line when one gets through', () => {
    // The refusal 2 s after the recovery is no new run: the collector flaps, and says so.
    const lines: string[] = [];
    let clock = 0;
    const results = [refused, refused, timedOut, refused, timedOut, ok, ok, refused];
    const exporter = reportingFailures(
      scriptedExporter([...results]),
      'http://al:PW-SECRET-1@collector:4318/v1/metrics?api_key=QUERY-SECRET-2',
      recordingLogger(lines),
      { now: () => clock },
    );
    for (const _ of results) {
      exporter.export(EMPTY_EXPORT, () => undefined);
      clock += 1000;
    }
    expect(lines).to.deep.equal([
      'warn: could not push metrics to http://[redacted]@collector:4318/v1/metrics?api_key=[redacted]: connect ECONNREFUSED 127.0.0.1:1; the next export tries again',
      'warn: metrics pushed to http://[redacted]@collector:4318/v1/metrics?api_key=[redacted] again',
      'warn: could not push metrics to http://[redacted]@collector:4318/v1/metrics?api_key=[redacted] on and off, failed 6 of the last 8 pushes in 7 s: connect ECONNREFUSED 127.0.0.1:1; the next export tries again',
    ]);
  });

  it('never shows a matrix token, a form-encoded password or a password with a tab', () => {
    for (const [target, shown] of [
      [
        'http://collector:4318/v1/metrics;token=MATRIX-SECRET-1',
        'http://collector:4318/v1/metrics;token=[redacted]',
      ],
      [
        'http://collector:4318/v1/metrics?password=PART1-SECRET+PART2-SECRET',
        'http://collector:4318/v1/metrics?password=[redacted]',
      ],
      [
        'http://push:TAB-\tSECRET-3@collector:4318/v1/metrics',
        'http://[redacted]@collector:4318/v1/metrics',
      ],
    ]) {
      const lines: string[] = [];
      // A collector's refusal that echoes the URL as it was written, parsed and form-decoded.
      const form = decodeURIComponent(target.replace(/\+/g, ' '));
      const echoed = `401 for ${target} (${new URL(target).href}): ${JSON.stringify({ form })}`;
      const exporter = reportingFailures(
        scriptedExporter([{ code: 1, error: new Error(echoed) }]),
        target,
        recordingLogger(lines),
      );
      exporter.export(EMPTY_EXPORT, () => undefined);
      expect(lines, target).to.have.length(1);
      expect(lines[0], target).to.not.match(/SECRET|PART/);
      expect(lines[0], target).to.contain(`could not push metrics to ${shown}: 401 for `);
    }
  });

  it('a reason that changes within a long run of failures is told again, once per repeat period', () => {
    const lines: string[] = [];
    let clock = 0;
    const exporter = reportingFailures(
      scriptedExporter([refused, timedOut, refused, timedOut]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
      { now: () => clock },
    );
    exporter.export(EMPTY_EXPORT, () => undefined);
    clock += REASON_REPEAT_MS - 1;
    exporter.export(EMPTY_EXPORT, () => undefined);
    clock += 1;
    // The reason told last, then another: only the other is news.
    exporter.export(EMPTY_EXPORT, () => undefined);
    exporter.export(EMPTY_EXPORT, () => undefined);
    expect(lines.map((l) => l.split(': ').slice(2).join(': '))).to.deep.equal([
      'connect ECONNREFUSED 127.0.0.1:1; the next export tries again',
      'Request timed out; the next export tries again',
    ]);
  });
});

describe('otel: a failing OTLP push under delta temporality', () => {
  /** The warning for one failed push of `batch`, after one that got through with `before`. */
  function warningFor(batch: never, before: never = EMPTY_EXPORT): string[] {
    const lines: string[] = [];
    const exporter = reportingFailures(
      scriptedExporter([ok, refused]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    exporter.export(before, () => undefined);
    exporter.export(batch, () => undefined);
    return lines;
  }

  it('says what the failed pushes carried is lost, not that the next export tries again', () => {
    expect(warningFor(DELTA_EXPORT)).to.deep.equal([
      'warn: could not push metrics to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:1; what each failed push carried is lost (delta temporality)',
    ]);
  });

  it('says which part is lost where cumulative metrics go beside the delta ones', () => {
    expect(warningFor(MIXED_EXPORT)).to.deep.equal([
      'warn: could not push metrics to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:1; what each failed push carried of its delta metrics is lost, the next export carries the others again',
    ]);
  });

  it('remembers delta from an earlier export where the failed one carries no delta metric', () => {
    expect(warningFor(GAUGES_EXPORT, DELTA_EXPORT)[0]).to.match(/lost \(delta temporality\)$/);
  });

  it('takes no gauge for evidence: current gauges are delta under cumulative too', () => {
    expect(warningFor(GAUGES_EXPORT)[0]).to.match(/; the next export tries again$/);
  });
});

describe('otel: a failing delta push whose points the next export carries (carries)', () => {
  const malformed: ExportResult = {
    code: 1,
    error: Object.assign(new Error('Bad Request'), { code: 400 }),
  };

  /** The lines for `results`, each the answer to one push of `batch`, then `ending`'s. */
  function linesFor(batch: never, results: ExportResult[], atEnd?: ExportResult): string[] {
    const lines: string[] = [];
    const reporting = reportingFailures(
      scriptedExporter(atEnd ? [...results, atEnd] : [...results]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
      { now: () => 0 },
    );
    const exporter = carryingFailedPushes(reporting, reporting);
    for (const _ of results) exporter.export(batch, () => undefined);
    if (atEnd) {
      reporting.ending(true);
      exporter.export(batch, () => undefined);
    }
    // A push line's end; carryingFailedDeltas' own lines (`metrics for …`) whole.
    return lines.map((l) => (l.includes('; ') ? l.split('; ').slice(1).join('; ') : l));
  }

  it('says the next export carries them, not that they are lost', () => {
    expect(linesFor(DELTA_EXPORT, [refused])).to.deep.equal([
      'the next export carries what each failed push carried again',
    ]);
    expect(linesFor(MIXED_EXPORT, [refused])).to.deep.equal([
      'the next export carries what each failed push carried again',
    ]);
  });

  it('says lost where the collector refused them as malformed (HTTP 400): not sent again', () => {
    expect(linesFor(DELTA_EXPORT, [malformed])).to.deep.equal([
      'what each push refused as malformed carried is lost: it is not sent again',
    ]);
    expect(linesFor(MIXED_EXPORT, [malformed])).to.deep.equal([
      'what each push refused as malformed carried of its delta metrics is lost: it is not sent again',
    ]);
    expect(
      linesFor(exportOf({ aggregationTemporality: CUMULATIVE, dataPointType: SUM }), [malformed]),
    ).to.deep.equal(['the next export tries again']);
  });

  it('says the next export carries them where 503s follow a 400 in one outage, and the reverse', () => {
    // One line for the 400 said lost; the 503s after it, whose points are carried, were untold.
    const unavailable: ExportResult = {
      code: 1,
      error: Object.assign(new Error('Service Unavailable'), { code: 503 }),
    };
    const carriedText = 'the next export carries what each failed push carried again';
    const lostText = 'what each push refused as malformed carried is lost: it is not sent again';
    expect(linesFor(DELTA_EXPORT, [malformed, unavailable, unavailable])).to.deep.equal([
      lostText,
      carriedText,
    ]);
    // Each 400 took the 503 before it's two points with it, told by carryingFailedDeltas.
    const dropped = `warn: metrics for http://collector:4318/v1/metrics: dropped 2 delta data points that failed pushes carried: the push that carried them again was refused as malformed (HTTP 400)`;
    expect(linesFor(DELTA_EXPORT, [unavailable, malformed, unavailable, malformed])).to.deep.equal([
      carriedText,
      lostText,
      dropped,
      dropped,
    ]);
  });

  it('is not carried until carryingFailedPushes wraps the reader exporter with it', () => {
    const reporting = reportingFailures(scriptedExporter([]), 'http://c:4318/v1/metrics', {
      ...recordingLogger([]),
    });
    expect(reporting.carries).to.equal(false);
    carryingFailedPushes(scriptedExporter([]), reporting);
    expect(reporting.carries).to.equal(true);
    const foreign = { ...reporting, carries: false };
    expect(() => carryingFailedPushes(scriptedExporter([]), foreign)).to.throw(TypeError);
  });

  it('says a last push that fails dropped what was counted since the last push that got through', () => {
    const [line] = linesFor(DELTA_EXPORT, [], refused);
    expect(line).to.equal(
      'dropped 2 data points of 2 metrics (what was counted since the last push that got through)',
    );
  });

  it('tells no push under way that fails at the end: the last push carries it', () => {
    const lines: string[] = [];
    const pending: Array<(result: ExportResult) => void> = [];
    const reporting = reportingFailures(
      { ...scriptedExporter([]), export: (_metrics, done) => pending.push(done) },
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
      { now: () => 0 },
    );
    carryingFailedPushes(reporting, reporting).export(DELTA_EXPORT, () => undefined);
    reporting.ending(false);
    pending.shift()?.(refused);
    expect(lines).to.deep.equal([]);
  });
});

describe('otel: a push that fails at the end of the process', () => {
  /** Three data points of two metrics. */
  const batch = {
    resource: {},
    scopeMetrics: [
      { scope: { name: 's' }, metrics: [{ dataPoints: [1, 2] }, { dataPoints: [3] }] },
    ],
  } as never;

  /** An exporter whose exports end when the test says, one by one. */
  function heldExporter(): { exporter: PushMetricExporter; end(result: ExportResult): void } {
    const pending: Array<(result: ExportResult) => void> = [];
    return {
      exporter: { ...scriptedExporter([]), export: (_metrics, done) => pending.push(done) },
      end: (result) => pending.shift()?.(result),
    };
  }

  it('says what the last push dropped, not that a next export tries again', () => {
    const lines: string[] = [];
    const held = heldExporter();
    const exporter = reportingFailures(
      held.exporter,
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    exporter.export(batch, () => undefined);
    exporter.ending(true);
    // The push under way fails: the reader's last push comes after it, and tells.
    held.end(refused);
    expect(lines).to.deep.equal([]);
    exporter.export(batch, () => undefined);
    held.end(refused);
    exporter.export(batch, () => undefined);
    held.end(timedOut);
    expect(lines).to.deep.equal([
      'warn: could not push the last metrics to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:1; dropped 3 data points of 2 metrics (what was counted since the last push that got through)',
    ]);
  });

  it('under delta, says the last push dropped what was counted since the previous push', () => {
    const lines: string[] = [];
    const exporter = reportingFailures(
      scriptedExporter([refused]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    exporter.ending(true);
    exporter.export(DELTA_EXPORT, () => undefined);
    expect(lines).to.deep.equal([
      'warn: could not push the last metrics to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:1; dropped 2 data points of 2 metrics (what was counted since the previous push)',
    ]);
  });

  it('under delta, tells a push under way that fails at the end: the last push does not carry it', () => {
    const lines: string[] = [];
    const held = heldExporter();
    const exporter = reportingFailures(
      held.exporter,
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    exporter.export(DELTA_EXPORT, () => undefined);
    exporter.ending(false);
    held.end(refused);
    expect(lines).to.deep.equal([
      'warn: could not push metrics to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:1; what each failed push carried is lost (delta temporality)',
    ]);
  });

  it('leaves the line to its caller where the caller tells the last push', () => {
    const lines: string[] = [];
    const exporter = reportingFailures(
      scriptedExporter([refused, refused]),
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
    );
    exporter.ending(false);
    exporter.export(batch, () => undefined);
    exporter.export(batch, () => undefined);
    expect(lines).to.deep.equal([]);
  });
});

describe('otel: a collector that takes every other push', () => {
  /** An hour of exports 5 s apart through reportingFailures, failing where `fails(t)`. */
  function anHour(fails: (t: number) => boolean): string[] {
    const lines: string[] = [];
    let clock = 0;
    const exporter = reportingFailures(
      { ...scriptedExporter([]), export: (_m, done) => done(fails(clock) ? refused : ok) },
      'http://collector:4318/v1/metrics',
      recordingLogger(lines),
      { now: () => clock },
    );
    for (; clock < 3_600_000; clock += 5000) exporter.export(EMPTY_EXPORT, () => undefined);
    return lines;
  }

  it('is told in a handful of lines over an hour at a 5 s interval, not one pair per export', () => {
    const lines = anHour((t) => t % 10_000 === 0);
    // Before: 720 lines, a warning and a recovery per pair of exports.
    expect(lines, lines.join('\n')).to.have.length(8);
    expect(lines[3]).to.equal(
      'warn: could not push metrics to http://collector:4318/v1/metrics on and off, failed 60 of the last 120 pushes in 10 min: connect ECONNREFUSED 127.0.0.1:1; the next export tries again',
    );
  });

  it('says when it is steady again, once no push failed for 10 min', () => {
    const lines = anHour((t) => t < 1_200_000 && t % 10_000 === 0);
    expect(lines.at(-1)).to.equal(
      'warn: metrics pushed to http://collector:4318/v1/metrics steadily again, none failed for 10 min (120 of 359 pushes failed in 29 min)',
    );
    expect(lines).to.have.length(5);
  });
});

describe('otel: the target a failing push names', () => {
  // The exporter appends v1/metrics after one slash and keeps what the base ends with: a
  // warning that tidied the URL named another than the one pushed to.
  const named = (env: Record<string, string>) => {
    const lines: string[] = [];
    const exporter = reportingPushFailures(
      scriptedExporter([refused]),
      env,
      recordingLogger(lines),
    );
    exporter.export(EMPTY_EXPORT, () => undefined);
    return /push metrics to (\S+):/.exec(lines[0] ?? '')?.[1];
  };

  it('is the URL the exporter pushes to, by its own rules', () => {
    expect(named({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318//' })).to.equal(
      'http://c:4318//v1/metrics',
    );
    expect(named({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base' })).to.equal(
      'http://c:4318/base/v1/metrics',
    );
    expect(named({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).to.equal(
      'http://localhost:4318/v1/metrics',
    );
    expect(named({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/x' })).to.equal(
      'http://m:4318/x',
    );
  });
});

describe("otel: a refused push's line says the collector's reason", () => {
  // A proxy refusing the push echoes the header it refused; the logger an application gives
  // masks nothing, and the reason is cut at 200 characters: masked before, or half the token
  // would show.
  it("with the headers' tokens masked, however the line is cut", () => {
    const token = 'tok-0123456789abcdef0123456789';
    const lines: string[] = [];
    const echo = `${'p'.repeat(195)}Bearer ${token}`;
    const error = Object.assign(new Error('Unauthorized'), { code: 401, data: echo });
    const exporter = reportingPushFailures(
      scriptedExporter([{ code: 1, error }]),
      { OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${token}` },
      recordingLogger(lines),
    );
    exporter.export(EMPTY_EXPORT, () => undefined);
    expect(lines).to.deep.equal([
      `warn: could not push metrics to http://localhost:4318/v1/metrics: Unauthorized (HTTP 401): "${'p'.repeat(195)}[redacted]"; the next export tries again`,
    ]);
  });
});

// An application's exporter (reportingPushFailures is public) may end an export with any value as
// its error: reading its message, or asking `'code' in` a string, threw in the export's callback,
// which the SDK's reader does not catch, and the push's report was lost with the reader's flush.
describe('otel: a push that fails with a value whose text cannot be read', () => {
  const odd = oddValues({
    name: 'a string',
    value: () => 'refused by the gateway',
    said: 'refused by the gateway',
  });
  for (const { name, value, said } of odd) {
    it(`${name}: told in the warning as messageOf names it`, () => {
      const lines: string[] = [];
      const results = [{ code: 1, error: value() } as ExportResult];
      const exporter = reportingFailures(
        scriptedExporter(results),
        'http://collector:4318/v1/metrics',
        recordingLogger(lines),
        { now: () => 0 },
      );
      let done: ExportResult | undefined;
      exporter.export(EMPTY_EXPORT, (result) => {
        done = result;
      });
      expect(done?.code).to.equal(1);
      expect(lines).to.deep.equal([
        `warn: could not push metrics to http://collector:4318/v1/metrics: ${said}; the next export tries again`,
      ]);
    });
  }
});
