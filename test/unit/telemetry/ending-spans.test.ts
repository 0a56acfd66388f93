import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { settlesWithin } from 'carbonscope';
import { expect } from 'chai';
import { endingWith } from '../../../src/telemetry/traces.js';

type Spans = Parameters<SpanExporter['export']>[0];
type Done = Parameters<SpanExporter['export']>[1];
type Result = Parameters<Done>[0];

const SUCCESS = 0;
const FAILED = 1;

/**
 * A span exporter whose exports wait until the test answers them; its shutdown, as the OTLP
 * exporter's, waits for every export under way.
 */
function heldExporter() {
  const held: Array<{ spans: Spans; done: Done }> = [];
  let drained: () => void = () => {};
  const exporter: SpanExporter = {
    export: (spans, done) => {
      held.push({ spans, done });
    },
    shutdown: () =>
      held.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            drained = resolve;
          }),
  };
  const answer = (result: Result) => {
    const export_ = held.shift();
    export_?.done(result);
    if (held.length === 0) drained();
  };
  return { exporter, held, answer };
}

const spans = (n: number) => Array.from({ length: n }, () => ({})) as unknown as Spans;

function warnings() {
  const lines: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (line: unknown) => {
      lines.push(String(line));
    },
    error: (line: unknown) => {
      lines.push(String(line));
    },
  };
  return { lines, logger };
}

const TARGET = 'http://u:pw-s3cret@collector:4318/v1/traces';

/** endingWith over two held exporters, its warnings collected. */
function endingOverHeld(deadlineMs = 2000) {
  const periodic = heldExporter();
  const last = heldExporter();
  const { lines, logger } = warnings();
  const exporter = endingWith(periodic.exporter, last.exporter, TARGET, logger, deadlineMs);
  return { periodic, last, lines, exporter };
}

describe("the spans' exporter at the stop (endingWith)", () => {
  it('passes exports and their failures through before the stop, saying nothing', () => {
    const { periodic, last, lines, exporter } = endingOverHeld();
    const results: Result[] = [];
    exporter.export(spans(3), (r) => results.push(r));
    const error = new Error('503');
    periodic.answer({ code: FAILED, error });
    expect(results).to.deep.equal([{ code: FAILED, error }]);
    expect(last.held).to.have.length(0);
    expect(lines).to.deep.equal([]);
  });

  it("sends the stop's flush through the last exporter; its failure is a line with a count", () => {
    const { periodic, last, lines, exporter } = endingOverHeld();
    exporter.ending();
    const results: Result[] = [];
    exporter.export(spans(5), (r) => results.push(r));
    expect(periodic.held).to.have.length(0);
    last.answer({ code: FAILED, error: new Error('connect ECONNREFUSED') });
    expect(results).to.deep.equal([{ code: SUCCESS }]);
    expect(lines).to.deep.equal([
      'could not export the last spans to http://[redacted]@collector:4318/v1/traces within 2 s: ' +
        'connect ECONNREFUSED; dropped 5 spans',
    ]);
  });

  // A batch under way at the stop stayed the periodic exporter's: its shutdown waited for it
  // (up to the exporter's 10 s, retrying a refusal), 6 s from SIGTERM with the collector down
  // and the service in use, and its spans were lost without a count.
  it('says what an export under way at the stop dropped when it fails', () => {
    const { periodic, lines, exporter } = endingOverHeld();
    const results: Result[] = [];
    exporter.export(spans(7), (r) => results.push(r));
    exporter.ending();
    periodic.answer({ code: FAILED, error: new Error('connect ECONNREFUSED') });
    // A success to the processor: its failure rejected NodeSDK's shutdown at once.
    expect(results).to.deep.equal([{ code: SUCCESS }]);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /could not export .*within 2 s: connect ECONNREFUSED; dropped 7 spans/,
    );
    expect(lines[0]).not.to.include('s3cret');
  });

  it('stops waiting for an export under way at the deadline, and says what it dropped', async () => {
    const { periodic, lines, exporter } = endingOverHeld(50);
    const results: Result[] = [];
    exporter.export(spans(4), (r) => results.push(r));
    exporter.ending();
    expect(await settlesWithin(exporter.shutdown(), 10_000), 'shutdown settled').to.equal(true);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/within 0\.05 s: .*; dropped 4 spans/);
    // Its late end is not told again: neither here nor by the SDK's error handler (a failure).
    periodic.answer({ code: FAILED, error: new Error('timed out') });
    expect(lines).to.have.length(1);
    expect(results).to.deep.equal([{ code: SUCCESS }]);
  });
});
