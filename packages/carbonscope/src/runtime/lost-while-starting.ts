import { printable } from '../printable.js';
import { messageOf } from '../thrown-text.js';

/**
 * The one line that says a default instance's start failed (`err`) after its tracker was lent
 * (StartingNow): the `ended` operations it had tracked and the `running` ones it still tracks
 * have no figure anywhere. None where it had tracked nothing: the failure is its caller's to
 * say (start() rejects with it, register and the instrumentation log it).
 */
export function lostWhileStartingText(err: unknown, ended: number, running: number): string {
  const count = ended + running;
  // The error's own text may span lines (a maker's message): the warning stays one.
  const why = printable(messageOf(err));
  const what = count === 1 ? 'the operation' : `the ${count} operations`;
  const still =
    running === 0 ? '' : count === 1 ? ' (still running)' : ` (${running} of them still running)`;
  const are = count === 1 ? 'is' : 'are';
  const their = count === 1 ? 'its function' : 'their functions';
  return `carbonscope could not start (${why}): ${what} tracked while it was starting${still} ${are} counted nowhere, in no metric and on no span; ${their} ran as without carbonscope`;
}
