import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

const CONTENT_TYPE = 'content-type';

/**
 * One parameter of a media type and the whitespace and `;` before it (RFC 9110 5.6.6):
 * `parameters = *( OWS ";" OWS [ parameter ] )`, a parameter `token "=" ( token /
 * quoted-string )`. The parameter is optional: `application/json;` and `;;` are well formed.
 */
const PARAMETER =
  /[ \t]*;[ \t]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)|"((?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*)"))?/y;

/** What a Content-Type's parameters say of its charset. */
export type Charset =
  /** The charset parameter's value, unquoted; undefined when there is none. */
  | { value: string | undefined }
  /** The parameters do not parse, or name a charset twice: what was wrong, for the client. */
  | { malformed: string };

const NO_CHARSET: Charset = { value: undefined };

/**
 * The charset of a Content-Type value, read by RFC 9110's grammar. Koa's (the `content-type`
 * package's, RFC 7231's) refuses an empty parameter and then says "no charset", as it says for
 * one that does not parse: `charset="iso-8859-1` or `charset=latin1;` was read as UTF-8.
 */
export function charsetOf(contentType: string): Charset {
  const start = contentType.indexOf(';');
  // No parameters (the usual `application/json`): nothing to parse.
  if (start === -1) return NO_CHARSET;
  let value: string | undefined;
  PARAMETER.lastIndex = start;
  while (PARAMETER.lastIndex < contentType.length) {
    const match = PARAMETER.exec(contentType);
    if (match === null) {
      return { malformed: 'its parameters must be name=value pairs after ";"' };
    }
    const [, name, token, quoted] = match;
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
