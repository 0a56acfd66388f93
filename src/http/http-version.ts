import type { IncomingMessage } from 'node:http';

/** What a 505 tells the client to send instead. */
const SPOKEN = 'this server speaks HTTP/1.1 (and 1.0) here: send the request as HTTP/1.1';

/**
 * Why a request Node made is refused for its version, or undefined: Node's parser takes
 * `HTTP/2.0` (and `HTTP/0.9`) in a request line and Node serves it as 1.1, answering a client
 * that said it speaks another protocol in one it never asked for. RFC 9110 2.5 has a server
 * serve a higher minor version of a major it implements as its own, but another major is 505.
 */
export function versionProblem(req: IncomingMessage): string | undefined {
  if (req.httpVersionMajor === 1) return undefined;
  // Node's parser takes one digit each side of the dot: the version quoted is that, no more.
  return `HTTP/${req.httpVersionMajor}.${req.httpVersionMinor} is not supported: ${SPOKEN}`;
}

/** A request line's version, `HTTP/` and a digit each side of a dot, where it ends. */
const VERSION_AT_END = /HTTP\/(\d)\.(\d)$/;
const VERSION_BYTES = 'HTTP/1.1'.length;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Why a request whose version Node's parser refused (HPE_INVALID_VERSION) is a 505, or
 * undefined where the version is malformed rather than one it does not take (`HTTP/1.a`, a 400):
 * `HTTP/3.0` or `HTTP/1.2`. RFC 9110 2.5 would have 1.2 served as 1.1, which Node's parser does
 * not allow; the 505 says what to send. The parser stops on the byte after a version of two
 * digits, the line's end, or on the byte that is no version: only the bytes before it are read,
 * never the target, which may hold credentials.
 */
export function refusedVersion(rawPacket: unknown, bytesParsed: unknown): string | undefined {
  if (!Buffer.isBuffer(rawPacket) || typeof bytesParsed !== 'number') return undefined;
  const next = rawPacket[bytesParsed];
  if (bytesParsed < VERSION_BYTES || (next !== CR && next !== LF)) return undefined;
  const version = VERSION_AT_END.exec(
    rawPacket.toString('latin1', bytesParsed - VERSION_BYTES, bytesParsed),
  );
  if (!version) return undefined;
  return `HTTP/${version[1]}.${version[2]} is not supported: ${SPOKEN}`;
}
