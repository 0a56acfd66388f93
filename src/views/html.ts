import { createHash } from 'node:crypto';
import { rootFrom } from './relative.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A string of markup that is already safe; `html` leaves it as it is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * Tagged template that escapes every interpolated value unless it is SafeHtml (or an array of
 * SafeHtml), so a page cannot be built with an unescaped user string by accident.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

/**
 * Every page's own style; its hash is the only inline style the Content-Security-Policy allows.
 * `.pre` holds text of many lines (a chat's answer): each line takes its own direction. A field
 * is never wider than the page: /predict's 50 characters and /chat's 60 columns scrolled a
 * 320 px screen sideways by 153 and 210 px (WCAG 1.4.10). A table wider than that scrolls in its
 * own `.table-wrap` (see scrollingTable).
 */
const PAGE_STYLE = new SafeHtml(`
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem} table{border-collapse:collapse} td,th{padding:.25rem .5rem;text-align:left}
input,select,textarea,button{font:inherit;padding:.3rem} input,select,textarea{max-width:100%;box-sizing:border-box} .table-wrap{overflow-x:auto} .muted{color:#555} .pre{white-space:pre-wrap;unicode-bidi:plaintext}
`);

/** The CSP source for PAGE_STYLE: `'sha256-…'`. */
export const PAGE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(PAGE_STYLE.value).digest('base64')}'`;

/** What a page adds to the frame: elements of its head; whether it answers with an error. */
export interface PageExtras {
  head?: SafeHtml;
  /** A 4xx or 5xx shown as the page: its title says so, as screen readers announce it first. */
  error?: boolean;
}

/**
 * The shared page frame for the page at `path`: no external resources, readable without styles
 * or colour, its links relative (see rootFrom). Its empty icon stops the browser asking for
 * /favicon.ico, a 404 at every page load.
 */
export function page(path: string, title: string, body: SafeHtml, extras: PageExtras = {}): string {
  const root = rootFrom(path);
  const head = extras.head ?? new SafeHtml('');
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${extras.error ? 'Error: ' : ''}${title} · carbonscope</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
${head}
</head>
<body>
<nav>
<a href="${root}carbon_intensity">Grid intensity</a>
<a href="${root}predict">Predict</a>
<a href="${root}chat">Chat</a>
<a href="${root}energy">Energy</a>
<a href="${root}dashboard">Dashboard</a>
</nav>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.value;
}

/**
 * A table that may be wider than a narrow screen, in a wrapper that scrolls it sideways rather
 * than the page (WCAG 1.4.10 at 320 px: /chat's impacts were 432 px wide, /carbon_intensity's
 * history 397 px). The wrapper is a named region in the tab order: a keyboard scrolls only what
 * it can focus, and a table's cells hold nothing focusable (WCAG 2.1.1).
 */
export function scrollingTable(name: string, table: SafeHtml): SafeHtml {
  return html`<div class="table-wrap" role="region" tabindex="0" aria-label="${name}">${table}</div>`;
}

/**
 * What an Accept header must name for HTML to win over JSON: html, a text/ range, or a wildcard
 * (a wildcard with json at q=0 prefers html). API clients' headers name none of them, and
 * negotiating those cost 1.5-5 µs a request (a Negotiator and two MIME lookups). A regular
 * expression rather than a lower-cased copy: nothing is allocated for the header.
 */
const HTML_MAY_WIN = /html|text\/|\*/i;

/** True when the client prefers an HTML page over JSON (a browser, not an API client). */
export function wantsHtml(ctx: {
  get(field: string): string;
  accepts(...types: string[]): string | false;
}): boolean {
  if (!HTML_MAY_WIN.test(ctx.get('Accept'))) return false;
  return ctx.accepts('json', 'html') === 'html';
}

/** A figure for a page: three significant digits, exponent form when very small or large. */
export function formatNumber(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  return abs < 1e-3 || abs >= 1e6 ? n.toExponential(2) : String(Number(n.toPrecision(3)));
}

/** Isolate initiators (LRI, RLI, FSI) and their terminator (PDI). */
const ISOLATE_CONTROL = /[\u2066-\u2069]/g;
const PDI = '\u2069';
/** Paragraph separators (Bidi_Class B): each ends every isolate it is in, the <bdi>'s too. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+001C-1E are bidi paragraph separators.
const PARAGRAPH_SEPARATOR = /[\n\r\u001c-\u001e\u0085\u2029]/g;

/**
 * User text inside a sentence of a page, in `<bdi>`: its direction is its own (an Arabic text
 * that starts with a digit shows the digit at its right), and its overrides and marks end with
 * it, so they are left as typed. Not its isolates: Chromium ends the `<bdi>` at a PDI that
 * closes nothing in the text, and an isolate left open takes the rest of the sentence in, so
 * such a PDI is dropped and each open isolate closed, as the text's own paragraph would do. Nor
 * its paragraph separators (U+2029, NEL): the rest of the text would be a paragraph of its own,
 * outside the <bdi>, so each is shown as the space a quote on one line would have.
 */
export function isolated(text: string): SafeHtml {
  let open = 0;
  const oneParagraph = text.replace(PARAGRAPH_SEPARATOR, ' ');
  const balanced = oneParagraph.replace(ISOLATE_CONTROL, (c) => {
    if (c !== PDI) open++;
    else if (open > 0) open--;
    else return '';
    return c;
  });
  return html`<bdi>${balanced}${PDI.repeat(open)}</bdi>`;
}

/**
 * Where the double quote that closes a quote opened before `from` is, a backslash escaping the
 * character after it (JSON.stringify's quotes); -1 when none does.
 */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * An error message for a page's alert, each double-quoted part isolated: a message quotes what
 * was sent inside a sentence of its own, where an Arabic zone's number was drawn at its wrong end.
 * Its bidi controls are already escapes (clientError), as the JSON answer gives them. A quote
 * nothing closes ends the search: every later quote was inside it, escaped, so none closes
 * either, and the message is read once (a regular expression searched to its end from each).
 */
export function alertText(message: string): SafeHtml {
  const parts: SafeHtml[] = [];
  let last = 0;
  for (let open = message.indexOf('"'); open >= 0; open = message.indexOf('"', last)) {
    const close = closingQuote(message, open + 1);
    if (close < 0) break;
    parts.push(html`${message.slice(last, open)}"${isolated(message.slice(open + 1, close))}"`);
    last = close + 1;
  }
  return html`${parts}${message.slice(last)}`;
}
