import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** axe-core's browser build, read once: the rules a page is checked against. */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The axe tags of WCAG 2.0 and 2.1, levels A and AA: what the pages promise. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeResult {
  violations: Array<{ id: string; nodes: Array<{ target: string[] }> }>;
}

/**
 * Each WCAG 2.1 AA violation axe finds in the page as it is now, as `rule: selector`. Run by
 * evaluation, not a script tag, which the page's Content-Security-Policy would refuse.
 */
export async function wcagViolations(page: Page): Promise<string[]> {
  // Once a page: the source is 0.5 MB to parse.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(
    (tags) =>
      (window as unknown as { axe: { run(c: Document, o: unknown): Promise<AxeResult> } }).axe.run(
        document,
        { runOnly: { type: 'tag', values: tags } },
      ),
    WCAG_21_AA,
  );
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

/** How many CSS pixels the page is wider than its viewport: a horizontal scroll when above 0. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

/** Where the Tab key put the focus. */
export interface FocusStop {
  /** Tag, id and text, to name it in a message. */
  name: string;
  /** Its outline (or a box shadow) is drawn: WCAG 2.4.7. */
  visible: boolean;
  /** It comes after the stop before it in the document (no positive tabindex reorders it). */
  inOrder: boolean;
}

/**
 * Presses Tab from the top of the page until the focus leaves it (back to the body), at most
 * `limit` times. A page that keeps the focus for `limit` presses traps it: the stops then end
 * without the body, which the caller sees as a trap. `missed`: the controls it never reached (the
 * stops alone passed a page whose Classify button took `tabindex="-1"`).
 */
export async function tabThrough(
  page: Page,
  limit = 60,
): Promise<{ stops: FocusStop[]; left: boolean; missed: string[] }> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    const w = window as unknown as TabWindow;
    w.lastStop = null;
    // Tag, id and text: a chart the dashboard draws anew has new buttons of the same names.
    w.nameOf = (el) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
  });
  const stops: FocusStop[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const w = window as unknown as TabWindow;
      const inOrder =
        !w.lastStop ||
        Boolean(w.lastStop.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
      w.lastStop = el;
      const style = getComputedStyle(el);
      const outlined = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
      return {
        name: w.nameOf(el),
        visible: outlined || style.boxShadow !== 'none',
        inOrder,
      };
    });
    if (!stop) break;
    stops.push(stop);
  }
  const reached = new Set(stops.map((s) => s.name));
  const missed = (await controlsShown(page)).filter((name) => !reached.has(name));
  return { stops, left: stops.length < limit, missed };
}

/** What tabThrough keeps in the page between presses. */
interface TabWindow {
  lastStop: Element | null;
  nameOf(el: Element): string;
}

/**
 * The controls shown, by name: every link, field and button not disabled (one with
 * `tabindex="-1"` too, which a keyboard then cannot use), and any other element a tabindex of 0
 * or more puts in the tab order.
 */
function controlsShown(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { nameOf } = window as unknown as TabWindow;
    const native = 'a[href], button, input:not([type=hidden]), select, textarea';
    return [...document.querySelectorAll<HTMLElement>(`${native}, [tabindex]`)]
      .filter((el) => (el.matches(native) ? !el.matches(':disabled') : el.tabIndex >= 0))
      .filter((el) => el.checkVisibility())
      .map(nameOf);
  });
}
