import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import {
  BodyBytes,
  charsetOf,
  escapesDecode,
  HttpError,
  mediaTypeProblem,
  refuseDifferingContentTypes,
  sendContinue,
} from './http/index.js';

/** zlib and brotli name their failures Z_* (Z_DATA_ERROR, Z_BUF_ERROR) and ERR__* / ERR_BROTLI*. */
const DECODING_ERROR = /^(Z_|ERR__|ERR_BROTLI)/;

interface BodyError extends Error {
  status?: number;
  expose?: boolean;
  type?: string;
  code?: string;
  /** co-body's: the text that did not parse. */
  body?: unknown;
}

/** What co-body (strict mode) and its JSON.parse wrapper, bourne, say of JSON they refuse. */
const NOT_OBJECT = 'invalid JSON, only supports object and array';
const PROTO_KEY = 'Object contains forbidden prototype property';

function isJson(text: unknown): boolean {
  try {
    JSON.parse(String(text));
    return true;
  } catch {
    return false;
  }
}

/**
 * Why well-formed JSON was refused, or undefined when it was not well-formed. co-body's strict
 * mode refuses anything but an object or array (`"text"`, `null`, `123`) with the same status
 * as a syntax error, and bourne refuses a `__proto__` key (prototype poisoning).
 */
function refusedJson(error: BodyError): string | undefined {
  if (error.message === PROTO_KEY) return 'request body has a forbidden key __proto__';
  if (error.message === NOT_OBJECT && isJson(error.body)) {
    return 'request body must be a JSON object';
  }
  return undefined;
}

const UTF8 = /^utf-?8$/i;

/** The longest part of a malformed Content-Type echoed in an answer. */
const SHOWN_TYPE_CHARS = 60;

/**
 * The body a route reads, by its charset: a form, JSON, or none. Only application/json: Koa's
 * parser would read more as JSON (application/csp-report, any +json), which no route takes.
 */
function bodyKind(ctx: Context): 'form' | 'JSON' | undefined {
  return ctx.is('urlencoded') ? 'form' : ctx.is('json') ? 'JSON' : undefined;
}

function malformed(type: string, problem: string): HttpError {
  const shown = JSON.stringify(type.slice(0, SHOWN_TYPE_CHARS));
  return new HttpError(
    400,
    `Content-Type ${shown} is malformed: ${problem}; send e.g. application/json; charset=utf-8`,
  );
}

/**
 * Refuses a body route's request whose Content-Type is ambiguous or does not parse as far as
 * the service reads it (400: the body would be read by a guess), and a JSON or form body
 * declared in a charset other than UTF-8 (415), which the parser would read as UTF-8 all the
 * same: UTF-16 as "not JSON", Latin-1 as text with U+FFFD in it, served as if the client had sent
 * that. JSON between systems is UTF-8 (RFC 8259, 8.1) and the form parser decodes UTF-8
 * (browsers send no charset; an API client that names one means it). The media type is read
 * first, and always; the parameters only of a JSON or form body: another type is read by nobody,
 * and its route refuses it (415) however its parameters are written, as RFC 9110 2.2 allows.
 */
function checkContentType(ctx: Context): void {
  refuseDifferingContentTypes(ctx.req);
  const type = ctx.req.headers['content-type'];
  // An empty field names no type, as no field does: the route answers both alike.
  if (type === undefined || type === '') return;
  const typeProblem = mediaTypeProblem(type);
  if (typeProblem !== undefined) throw malformed(type, typeProblem);
  const charset = charsetOf(type);
  if ('malformed' in charset) {
    if (bodyKind(ctx) === undefined) return;
    throw malformed(type, charset.malformed);
  }
  const { value } = charset;
  if (value === undefined || UTF8.test(value)) return;
  const what = bodyKind(ctx);
  if (what === undefined) return;
  throw new HttpError(
    415,
    `request body charset ${JSON.stringify(value.slice(0, 40))} is not supported: send the ${what} body as UTF-8 (charset=utf-8, or no charset)`,
  );
}

/** The content codings the parser decodes (inflation's), as Accept-Encoding lists them. */
const READ_CODINGS = ['gzip', 'deflate', 'br'];
const ACCEPT_ENCODING = READ_CODINGS.join(', ');
const DECODED: ReadonlySet<string> = new Set([...READ_CODINGS, 'identity']);

/** The longest part of an unsupported Content-Encoding echoed in an answer. */
const SHOWN_CODING_CHARS = 40;

/**
 * Names the request's Content-Encoding as the parser's inflation matches it, case-sensitively:
 * content codings are case-insensitive (RFC 9110 8.4.1) and x-gzip is gzip (8.4.1.3), and
 * inflation would refuse `GZIP` or `x-gzip` as unsupported. Written back on the request because
 * co-body reads it there. A coding it does not decode is refused here, not by inflation, whose
 * 415 quotes the whole field (up to 16 KiB) and does not say what would be read, as an
 * Accept-Encoding does (RFC 9110 15.5.16).
 */
function normalizeContentEncoding(ctx: Context): void {
  const field = ctx.req.headers['content-encoding'];
  if (field === undefined || field === '') return;
  const lower = field.trim().toLowerCase();
  const coding = lower === 'x-gzip' ? 'gzip' : lower;
  if (DECODED.has(coding)) {
    ctx.req.headers['content-encoding'] = coding;
    return;
  }
  ctx.set('Accept-Encoding', ACCEPT_ENCODING);
  const shown = JSON.stringify(field.slice(0, SHOWN_CODING_CHARS));
  throw new HttpError(
    415,
    `Content-Encoding ${shown}${field.length > SHOWN_CODING_CHARS ? '…' : ''} is not supported: send the body compressed as gzip, deflate or br, or not at all`,
  );
}

/** The fields of a form qs reads (its parameterLimit, which co-body leaves at its default). */
const FORM_FIELD_LIMIT = 1000;
const AMPERSAND = 0x26;

/**
 * Refuses a form with more fields than qs reads: it drops the rest without a word, and a field a
 * route reads among them (a /chat model) was read as absent, the default served at 200. Fields
 * are counted as qs splits them, at each `&`, an empty one too; what follows the last it reads
 * is refused only where it holds more than `&`s: a trailing `&` after the last field loses
 * nothing, and refused, a form of exactly FORM_FIELD_LIMIT fields sent so was a 400.
 */
function refuseDroppedFields(ctx: Context): void {
  const raw: unknown = ctx.request.rawBody;
  if (typeof raw !== 'string') return;
  let at = -1;
  for (let fields = 0; fields < FORM_FIELD_LIMIT; fields++) {
    at = raw.indexOf('&', at + 1);
    if (at === -1) return;
  }
  for (let i = at + 1; i < raw.length; i++) {
    if (raw.charCodeAt(i) === AMPERSAND) continue;
    throw new HttpError(
      400,
      `the form has more than ${FORM_FIELD_LIMIT} fields, past which the parser reads none: send the route's own fields alone`,
    );
  }
}

/**
 * Refuses a form whose percent-escapes do not decode as UTF-8: `caf%E9` (Latin-1's é), or a `%`
 * that starts no escape (`100%`). qs leaves such a field undecoded, every escape in it, and the
 * route served `caf%E9` or `100% caf%C3%A9` as the text sent. Looked at only where a `%` is.
 */
function refuseUndecodedEscapes(ctx: Context): void {
  const raw: unknown = ctx.request.rawBody;
  if (typeof raw !== 'string' || escapesDecode(raw)) return;
  throw new HttpError(
    400,
    "the form's percent-escapes do not decode as UTF-8: encode its fields as UTF-8, a % itself as %25",
  );
}

/**
 * Refuses a JSON or form body that is no UTF-8 (Latin-1's `é`, a stray byte) sent with no
 * charset or as UTF-8: the parser read each such byte as U+FFFD and the route served the text
 * as if the client had sent that, which a charset other than UTF-8 named is refused for (415).
 */
function refuseNotUtf8(ctx: Context, bytes: BodyBytes, kind: string, limitBytes: number): void {
  const coding = ctx.req.headers['content-encoding'];
  if (!bytes.notUtf8(ctx.request.rawBody, coding, limitBytes)) return;
  const what = kind === 'urlencoded' ? 'form' : 'JSON';
  throw new HttpError(
    400,
    `request body is not valid UTF-8 (a Latin-1 é, a stray byte): send the ${what} body as UTF-8`,
  );
}

/**
 * Tells a client that waits for it (Expect: 100-continue) to send its body, unless its
 * Content-Length is over the limit already: the parser answers that 413 without reading it.
 * Only a body whose length it cannot know before decoding (gzip) is cut as it is read.
 */
function continueUnlessTooLarge(ctx: Context, limitBytes: number): void {
  const { headers } = ctx.req;
  const coding = headers['content-encoding'];
  const identity = coding === undefined || coding === '' || coding === 'identity';
  if (identity && Number(headers['content-length']) > limitBytes) return;
  sendContinue(ctx.req, ctx.res);
}

/**
 * JSON and form bodies up to `limitBytes`, as route middleware: only a route that reads a body
 * runs it, so a write no route takes is the router's 404/405 whatever its body. A failure is the
 * client's, said in its words: a body that is not JSON is 400 `entity.parse.failed`, JSON that
 * is not an object or has a `__proto__` key is 400 saying which, a body that does not
 * decompress under its Content-Encoding (zlib answers with no status, which read as a 500 with a
 * stack in the log) is 400 too, as is one whose bytes are no UTF-8, a Content-Type that does
 * not parse (its media type, or a JSON or form type's parameters) or two that differ, and a body
 * declared in a charset other than UTF-8 is 415, as is a Content-Encoding it does not decode
 * (with Accept-Encoding).
 */
export function parseBodies(limitBytes: number): Middleware {
  const parse = bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: limitBytes,
    formLimit: limitBytes,
    onError: (err, ctx) => {
      const error = err as BodyError;
      if (typeof error.code === 'string' && DECODING_ERROR.test(error.code)) {
        const encoding = String(ctx.get('content-encoding')).slice(0, 40);
        const decoding = new Error(
          `request body is not valid ${encoding} data: it does not decompress under its Content-Encoding`,
        ) as BodyError;
        decoding.status = 400;
        decoding.expose = true;
        throw decoding;
      }
      if (error.type === 'entity.too.large') {
        throw new HttpError(413, `request body is larger than the limit of ${limitBytes} bytes`);
      }
      if (error.status !== 400) throw error;
      const refused = refusedJson(error);
      if (refused !== undefined) throw new HttpError(400, refused);
      // co-body marks a malformed body only with status 400; name it so the error handler can
      // tell the client what was wrong instead of echoing the parser's message.
      error.type ??= 'entity.parse.failed';
      throw error;
    },
  });
  return (ctx, next) => {
    checkContentType(ctx);
    // A type no route reads is not read at all: the route answers 415 saying what to send,
    // whatever the body holds (not JSON, over the limit). No type (null) is the parser's {}.
    const kind = ctx.is('json', 'urlencoded');
    if (kind === false) return next();
    normalizeContentEncoding(ctx);
    continueUnlessTooLarge(ctx, limitBytes);
    if (kind === null) return parse(ctx, next);
    const bytes = new BodyBytes();
    const parsed = parse(ctx, () => {
      // The body has ended: the bytes are examined, then let go of, not kept while the route runs.
      try {
        refuseNotUtf8(ctx, bytes, kind, limitBytes);
      } finally {
        bytes.stop();
      }
      // Only a form's escapes and fields are read so: a JSON body's `%` and `&` are text.
      if (kind === 'urlencoded') {
        refuseUndecodedEscapes(ctx);
        refuseDroppedFields(ctx);
      }
      return next();
    });
    // After the parser's own listener: the body flows to both from the next turn on.
    bytes.start(ctx.req);
    return parsed.finally(() => bytes.stop());
  };
}
