import type { Logger } from '../log.js';
import type { PushNote } from '../otel/binding/index.js';

/** How many lines are kept to tell at the end: a partial success has 16 reasons at most. */
export const KEPT_NOTES_MAX = 32;

/**
 * The push lines `run` tells at its end (PushNote: a partial success, points the carrying
 * dropped), where its pushes' other lines go nowhere: none interrupts the command's output, and
 * none is lost. At most KEPT_NOTES_MAX lines, then a count, so a long outage holds no more.
 */
export class KeptNotes {
  private readonly lines: string[] = [];
  private untold = 0;
  /** The delta data points the carrying's cap dropped, in all (not a 400's: PushNote). */
  droppedPoints = 0;

  readonly note = (line: string, note: PushNote): void => {
    if (note.kind === 'dropped') this.droppedPoints += note.points;
    if (this.lines.length < KEPT_NOTES_MAX) this.lines.push(line);
    else this.untold += 1;
  };

  /** Writes the lines kept through `logger` (which masks the secrets), once. */
  tell(logger: Logger): void {
    for (const line of this.lines.splice(0)) logger.warn(line);
    if (this.untold > 0) logger.warn(`${this.untold} more lines about the pushes not shown`);
    this.untold = 0;
  }
}
