import { expect } from 'chai';
import { KEPT_NOTES_MAX, KeptNotes } from '../../../src/cli/kept-notes.js';
import { stderrLogger } from '../../../src/log.js';

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
});
