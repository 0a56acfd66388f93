import { redactedExcerpt, redactSecrets } from '../../log.js';
import { quotedText } from '../../shown-value.js';
import { statusMessage } from './rpc-status.js';

/** The most characters of a collector's reason a line shows, `…` after where it is cut. */
export const REASON_MAX = 200;

/** The most bytes of a refusal's body read for its reason: a title or a Status comes first. */
export const BODY_READ = 16 * 1024;

// The tags a google.rpc.Status begins with (code, message, details): never the start of text.
const STATUS_TAGS = new Set([0x08, 0x12, 0x1a]);

/**
 * Why a collector (or a proxy before it) refused a push, as the body of its answer says it,
 * raw: OTLP/HTTP's `google.rpc.Status` message, in protobuf or JSON; an HTML page's <title>
 * (nothing where it has none: its markup says nothing); else a text body's first line.
 * Undefined where the body says nothing readable (empty, binary, a Status without a message).
 */
export function bodyReason(body: Uint8Array | string, contentType = ''): string | undefined {
  const type = contentType.toLowerCase();
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const head = bytes.subarray(0, BODY_READ);
  if (head.length === 0) return undefined;
  if (type.includes('protobuf') || (type === '' && STATUS_TAGS.has(head[0]))) {
    const message = statusMessage(head);
    return message === undefined ? undefined : firstLine(message);
  }
  const text = new TextDecoder().decode(head);
  if (text.includes('\0')) return undefined;
  if (type.includes('json') || text.trimStart().startsWith('{')) {
    const message = jsonMessage(text);
    if (message !== undefined) return firstLine(message);
  }
  if (type.includes('html') || /^\s*<(!doctype\s+html|html)[\s>]/i.test(text)) {
    return htmlTitle(text);
  }
  return firstLine(text);
}

/**
 * The reason as a log line shows it: the secrets masked before it is cut (a cut token would
 * no longer match), cut at REASON_MAX with `…`, and quoted as other quoted text is (control
 * and bidi characters escaped: a proxy's page may hold `\x1b[2J`).
 */
export function shownReason(reason: string, secrets: readonly string[]): string {
  const masked = redactSecrets(reason, secrets);
  const excerpt = redactedExcerpt(reason, secrets, REASON_MAX);
  return quotedText(excerpt.length < masked.length ? `${excerpt}…` : excerpt, Infinity);
}

/** A JSON Status's `message`; undefined where the text is no JSON object with one. */
function jsonMessage(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const message = (parsed as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/**
 * A <title> element, its text in group 1. Its attributes stop at a `<` too (a `<title a="<">`,
 * which no proxy's page writes, is no title now): `[^>]*` ran from each `<title` over every
 * later one to a `>`, quadratic in a page a proxy writes (16–40 ms on 16 KiB of `<title`, read
 * for each refused push).
 */
export const HTML_TITLE = /<title[^<>]*>([^<]*)<\/title>/i;

/**
 * An HTML page's title, spaces collapsed, the common entities and every numeric reference read
 * (the secrets are masked in the text as read: a template may write a token's `+` as `&#43;`);
 * undefined if none.
 */
function htmlTitle(text: string): string | undefined {
  const title = HTML_TITLE.exec(text)?.[1];
  if (title === undefined) return undefined;
  const read = title.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[\da-f]{1,6});/gi, entityText);
  return nonEmpty(read.replace(/\s+/g, ' ').trim());
}

/** The character an entity or a numeric reference stands for; as written where it is none. */
function entityText(written: string, name: string): string {
  const named = ENTITIES[name.toLowerCase()];
  if (named !== undefined) return named;
  if (!name.startsWith('#')) return written;
  const hex = name[1] === 'x' || name[1] === 'X';
  const point = Number.parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
  return point > 0 && point <= 0x10ffff ? String.fromCodePoint(point) : written;
}

/** The first line of the text that is not blank, trimmed; undefined if none. */
function firstLine(text: string): string | undefined {
  for (const line of text.split(/\r\n|\r|\n/, 20)) {
    if (line.trim() !== '') return line.trim();
  }
  return undefined;
}

function nonEmpty(text: string): string | undefined {
  return text === '' ? undefined : text;
}
