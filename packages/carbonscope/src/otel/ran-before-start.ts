import { quotedText } from '../shown-value.js';

/** The instrumentation as the starter: it has a ready() of its own to await. */
const INSTRUMENTATION = 'CarbonscopeInstrumentation';

/**
 * The one line that says `count` track() calls, the first of them `first`, ran unmetered while
 * the default instance that `starter` began was still starting; and how to wait for it. The name
 * is the application's, of any length and characters: quoted, cut, no line break of its own.
 */
export function ranBeforeStartText(first: string, count: number, starter: string): string {
  const which =
    count === 1
      ? `track(${quotedText(first)}) ran`
      : `track(${quotedText(first)}) and ${count - 1} more operations ran`;
  const wait =
    starter === INSTRUMENTATION
      ? '`await instrumentation.ready()` (or `await start()`)'
      : '`await start()`';
  return `${which} before carbonscope's meter had started (${starter} starts it in the background: its power sources probed, the grid's intensity fetched): ${count === 1 ? 'it' : 'they'} ran unmetered, with no figure in the metrics or on a span; ${wait} before work that is to be counted`;
}
