import type { Logger } from '../log.js';
import { countsOf, type PushNote } from '../otel/binding/index.js';
import {
  type ExportResult,
  failureOf,
  partialSuccessOf,
  type ResourceMetrics,
} from '../otel/sdk/index.js';

/** How many lines are kept to tell at the end: a partial success has 16 reasons at most. */
export const KEPT_NOTES_MAX = 32;

/**
 * The push lines `run` tells at its end (PushNote: a partial success, points the carrying
 * dropped), where its pushes' other lines go nowhere: none interrupts the command's output, and
 * none is lost. At most KEPT_NOTES_MAX lines, then a count, so a long outage holds no more. One
 * that comes once they were told is told then, through the logger they were told to, which the
 * session silences (LinesUntilEnd) after a failed end's line and after discard()'s lines: a push
 * answered after either is not told, read as the end's own. `monitor` tells its lines as they
 * come (told to its logger from the start) and counts them for its end as `run`.
 */
export class KeptNotes {
  private readonly lines: string[] = [];
  private untold = 0;
  /** Where the lines were told: the end is past, so a later one goes there at once. */
  private toldTo: Logger | undefined;
  /** Whether the latest push failed: the cap's points dropped since are of an outage under way. */
  private failing = false;
  /** The cap's points dropped in the outage under way (none where the latest push got through). */
  private outagePoints = 0;
  /** The delta data points the carrying's cap dropped, in all (not a 400's: PushNote). */
  droppedPoints = 0;
  /** The data points the collector rejected in its partial successes, every push's. */
  rejectedPoints = 0;
  /**
   * The data points of the pushes that got through, and how many: what rejectedPoints is of.
   * Under cumulative temporality each push sends every series again, so a series rejected at
   * every push counts once for each: `6 data points` alone read as 6 series.
   */
  takenPoints = 0;
  takenPushes = 0;

  readonly note = (line: string, note: PushNote): void => {
    if (note.kind === 'dropped') {
      this.droppedPoints += note.points;
      if (this.failing) this.outagePoints += note.points;
    }
    if (this.toldTo) this.toldTo.warn(line);
    else if (this.lines.length < KEPT_NOTES_MAX) this.lines.push(line);
    else this.untold += 1;
  };

  /**
   * A push's result, seen before the carrying's line about it: its partial success counts even
   * where its reason was told already (a line for each reason), and a push that got through
   * ends the outage, whose total line then counts as dropped before it.
   */
  readonly see = (result: ExportResult, metrics: ResourceMetrics): void => {
    this.rejectedPoints += partialSuccessOf(result)?.rejected ?? 0;
    this.failing = failureOf(result) !== undefined;
    if (this.failing) return;
    this.outagePoints = 0;
    this.takenPoints += countsOf(metrics).points;
    this.takenPushes += 1;
  };

  /**
   * The points the cap dropped before the last push that got through: a last push that fails
   * says it dropped all counted since then, the cap's points of the outage under way within it.
   */
  get droppedBefore(): number {
    return this.droppedPoints - this.outagePoints;
  }

  /** Writes the lines kept through `logger` (which masks the secrets), once; later ones at once. */
  tell(logger: Logger): void {
    for (const line of this.lines.splice(0)) logger.warn(line);
    if (this.untold > 0) logger.warn(`${this.untold} more lines about the pushes not shown`);
    this.untold = 0;
    this.toldTo = logger;
  }
}
