import type { IncomingMessage } from 'node:http';
import { HttpError } from './text/index.js';

const CONTENT_TYPE = 'content-type';

/**
 * One parameter of a media type and the whitespace and `;` before it (RFC 9110 5.6.6):
 * `parameters = *( OWS ";" OWS [ parameter ] )`, a parameter `token "=" ( token /
 * quoted-string )`. The parameter is optional: `application/json;` and `;;` are well formed.
 */
const PARAMETER =
  /[ \t]*;[ \t]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)|"((?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*)"))?/y;

/**
 * A media type (RFC 9110 8.3.1), `type "/" subtype` in tokens, and the whitespace before its
 * parameters' first `;`: written before any parameter, so it is read even when they do not parse.
 */
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*(?:;|$)/;

/** A parameter name with no `=` or nothing after it, up to the next `;` or the end. */
const NO_VALUE = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)=?[ \t]*(?:;|$)/y;

/** A parameter whose quoted-string runs to the end unclosed (a `\"` inside closes nothing). */
const UNCLOSED = /[!#$%&'*+.^_`|~0-9A-Za-z-]+="(?:[^"\\]|\\[\s\S])*\\?$/y;

/** Why a Content-Type's media type does not parse, or undefined when it does. */
export function mediaTypeProblem(contentType: string): string | undefined {
  return MEDIA_TYPE.test(contentType) ? undefined : 'its media type must be type/subtype';
}

/** What a Content-Type's parameters say of its charset. */
export type Charset =
  /** The charset parameter's value, unquoted; undefined when there is none. */
  | { value: string | undefined }
  /** The parameters do not parse, or name a charset twice: what was wrong, for the client. */
  | { malformed: string };

const NO_CHARSET: Charset = { value: undefined };

/** The most of a parameter's name a problem shows: the client's own text, up to 16 KiB. */
const SHOWN_NAME_CHARS = 40;

function shortened(name: string): string {
  return name.length > SHOWN_NAME_CHARS ? `${name.slice(0, SHOWN_NAME_CHARS)}…` : name;
}

/**
 * Why the parameters stop parsing at `at`: right after a `;` (`parameter` is the one there), a
 * name with no value or a quote never closed are named; anything else, or text after a
 * parameter, is not a parameter list.
 */
function parameterProblem(contentType: string, at: number, parameter: boolean): string {
  if (parameter) {
    NO_VALUE.lastIndex = at;
    const name = NO_VALUE.exec(contentType)?.[1];
    if (name !== undefined) return `parameter ${shortened(name)} has no value`;
    UNCLOSED.lastIndex = at;
    if (UNCLOSED.test(contentType)) return 'a quoted parameter value is not closed';
  }
  return 'its parameters must be name=value pairs after ";"';
}

/**
 * The charset of a Content-Type value, read by RFC 9110's grammar. Koa's (the `content-type`
 * package's, RFC 7231's) refuses an empty parameter and then says "no charset", as it says for
 * one that does not parse: `charset="iso-8859-1` or `charset=latin1;` was read as UTF-8.
 */
export function charsetOf(contentType: string): Charset {
  let at = contentType.indexOf(';');
  // No parameters (the usual `application/json`): nothing to parse.
  if (at === -1) return NO_CHARSET;
  let value: string | undefined;
  // Whether the last match ended after a `;` and no parameter: one that did not parse is next.
  let parameter = false;
  while (at < contentType.length) {
    PARAMETER.lastIndex = at;
    const match = PARAMETER.exec(contentType);
    if (match === null) return { malformed: parameterProblem(contentType, at, parameter) };
    at = PARAMETER.lastIndex;
    const [, name, token, quoted] = match;
    parameter = name === undefined;
    if (name === undefined || name.toLowerCase() !== 'charset') continue;
    if (value !== undefined) return { malformed: 'it names a charset twice' };
    value = token ?? quoted?.replace(/\\(.)/g, '$1') ?? '';
  }
  return value === undefined ? NO_CHARSET : { value };
}

/**
 * Refuses a request whose Content-Type lines differ: Node keeps the first and drops the rest,
 * and a proxy before the service may have read the body by another (RFC 9110 5.3: the field is
 * a singleton). Only a request that has one is scanned, and only on a route that reads a body.
 */
export function refuseDifferingContentTypes(req: IncomingMessage): void {
  const first = req.headers[CONTENT_TYPE];
  if (first === undefined) return;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length !== CONTENT_TYPE.length || name.toLowerCase() !== CONTENT_TYPE) continue;
    if (raw[i + 1] !== first) {
      throw new HttpError(
        400,
        'the request has more than one Content-Type header, and they differ',
      );
    }
  }
}
