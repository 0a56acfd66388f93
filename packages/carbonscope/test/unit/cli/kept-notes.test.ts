import { expect } from 'chai';
import { KEPT_NOTES_MAX, KeptNotes } from '../../../src/cli/kept-notes.js';
import { stderrLogger } from '../../../src/log.js';
import type { ResourceMetrics } from '../../../src/otel/sdk/index.js';
import { withPartialSuccess } from '../../../src/otel/sdk/partial-success.js';

/** ExportResultCode.SUCCESS and FAILED of @opentelemetry/core. */
const TAKEN = { code: 0 };
const REFUSED = { code: 1, error: new Error('Service Unavailable (HTTP 503)') };
/** A push of 4 data points, of two metrics (countsOf reads no more of it). */
const PUSH = {
  resource: {},
  scopeMetrics: [
    {
      scope: { name: 'carbonscope' },
      metrics: [{ dataPoints: [{}, {}, {}] }, { dataPoints: [{}] }],
    },
  ],
} as unknown as ResourceMetrics;

describe("run's kept push lines", () => {
  it('keeps KEPT_NOTES_MAX lines and counts the rest, and sums the dropped points of all', () => {
    const kept = new KeptNotes();
    for (let i = 0; i < KEPT_NOTES_MAX + 5; i++)
      kept.note(`dropped ${i}`, { kind: 'dropped', points: 2 });
    kept.note('partial', { kind: 'partial' });
    expect(kept.droppedPoints).to.equal(2 * (KEPT_NOTES_MAX + 5));
    const lines: string[] = [];
    const logger = stderrLogger({
      level: 'warn',
      write: (l) => lines.push(l),
      secrets: ['s3cret'],
    });
    kept.tell(logger);
    expect(lines).to.have.length(KEPT_NOTES_MAX + 1);
    expect(lines[0]).to.equal('carbonscope: warning: dropped 0\n');
    expect(lines.at(-1)).to.equal(
      'carbonscope: warning: 6 more lines about the pushes not shown\n',
    );
    // Told once: a second close() writes nothing again.
    kept.tell(logger);
    expect(lines).to.have.length(KEPT_NOTES_MAX + 1);
  });

  it("masks the secrets through the session's logger", () => {
    const kept = new KeptNotes();
    kept.note('rejected: token s3cret invalid', { kind: 'partial' });
    const lines: string[] = [];
    kept.tell(stderrLogger({ level: 'warn', write: (l) => lines.push(l), secrets: ['s3cret'] }));
    expect(lines).to.deep.equal(['carbonscope: warning: rejected: token [redacted] invalid\n']);
  });

  it('counts the points the cap dropped before the last push that got through, not after', () => {
    const kept = new KeptNotes();
    // An outage that a push ended: its first line, then its total's rest once a push got through.
    kept.see(REFUSED, PUSH);
    kept.note('dropped 5, the oldest', { kind: 'dropped', points: 5 });
    kept.see(TAKEN, PUSH);
    kept.note('dropped 7 in all', { kind: 'dropped', points: 2 });
    // An outage under way at the end: within `since the last push that got through`.
    kept.see(REFUSED, PUSH);
    kept.note('dropped 4, the oldest', { kind: 'dropped', points: 4 });
    expect(kept.droppedBefore).to.equal(7);
    expect(kept.droppedPoints).to.equal(11);
    // A push that gets through ends it: all of it dropped before.
    kept.see(TAKEN, PUSH);
    expect(kept.droppedBefore).to.equal(11);
  });

  it("sums the points of every push's partial success, a reason told once or not, and what they are of", () => {
    const kept = new KeptNotes();
    const partial = withPartialSuccess(TAKEN, { rejected: 3, message: 'unit J not allowed' });
    kept.see(partial, PUSH);
    kept.see(partial, PUSH);
    kept.see(REFUSED, PUSH);
    expect(kept.rejectedPoints).to.equal(6);
    // Of the points of the pushes that got through: a refused one is not counted.
    expect([kept.takenPoints, kept.takenPushes]).to.deep.equal([8, 2]);
  });

  it('tells a line that comes after the kept ones were told, at once', () => {
    const kept = new KeptNotes();
    const lines: string[] = [];
    kept.tell(stderrLogger({ level: 'warn', write: (l) => lines.push(l) }));
    // A push in flight answered after the end's deadline: stop 81 kept its line untold.
    kept.note('took a push but rejected 2', { kind: 'partial' });
    expect(lines).to.deep.equal(['carbonscope: warning: took a push but rejected 2\n']);
  });
});
