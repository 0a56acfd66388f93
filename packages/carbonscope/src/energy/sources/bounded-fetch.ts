import { deadlineSignal } from '../../deadline.js';
import { BodyTooLargeError, readChunks, untilAborted } from '../../fetch-body/index.js';
import { messageOf } from '../../thrown-text.js';
import { withoutCredentials } from '../../url-credentials.js';
import {
  ExpositionError,
  lineMetricName,
  parseExpositionLine,
  type SeriesSample,
} from './exposition.js';

export interface BoundedFetchOptions {
  /** For the whole exchange, body included. */
  timeoutMs: number;
  /** A body larger than this is refused (an exporter of a huge node, or not an exporter). */
  maxBytes: number;
  /** The global fetch by default; tests pass one whose body misbehaves. */
  fetch?: typeof fetch;
}

/** Why an endpoint gave nothing usable, in words for the log (never the URL or its query). */
export class FetchFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'status' | 'too-large' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'FetchFailure';
  }
}

/** A sample line of a wanted metric longer than this is refused; others are skipped. */
const MAX_LINE_CHARS = 64 * 1024;
/** More wanted series than this is not one exporter's answer. */
const MAX_SAMPLES = 100_000;

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return messageOf(err);
}

async function get(
  url: string,
  accept: string,
  o: BoundedFetchOptions,
  signal: AbortSignal,
): Promise<Response> {
  let res: Response;
  try {
    res = await untilAborted(
      (o.fetch ?? fetch)(url, {
        headers: { accept },
        // A redirect could carry the request somewhere the settings never named.
        redirect: 'error',
        signal,
      }),
      signal,
    );
  } catch (err) {
    throw failureOf(err, o);
  }
  if (!res.ok) {
    // Not awaited: a body that ignores its signal may ignore the cancel too.
    res.body?.cancel().catch(() => undefined);
    throw new FetchFailure('status', `HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (declared > o.maxBytes) {
    res.body?.cancel().catch(() => undefined);
    throw new FetchFailure('too-large', `body of ${declared} bytes (limit ${o.maxBytes})`);
  }
  return res;
}

/**
 * What a failed request or read is told as. The fetch may be the application's (it replaced the
 * global one): a value whose parts cannot be read (null, a Proxy's trap) is named as it can be.
 */
function failureOf(err: unknown, o: BoundedFetchOptions): FetchFailure {
  try {
    return errorFailure(err, o);
  } catch {
    return new FetchFailure('unreachable', messageOf(err));
  }
}

function errorFailure(err: unknown, o: BoundedFetchOptions): FetchFailure {
  if (err instanceof FetchFailure) return err;
  if (err instanceof ExpositionError) return new FetchFailure('malformed', err.message);
  if (err instanceof BodyTooLargeError) return new FetchFailure('too-large', err.message);
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new FetchFailure('timeout', `no answer within ${o.timeoutMs} ms`);
  }
  return new FetchFailure('unreachable', causeOf(err));
}

/**
 * Hands the body on as text chunk by chunk, refusing it past maxBytes and giving up on it when
 * `signal` aborts, whatever the stream does: a read that never settled (Node 20's fetch, a gzip
 * body aborted mid-inflate) kept the exporter from ever being read again, one read at a time.
 */
async function eachChunk(
  res: Response,
  o: BoundedFetchOptions,
  signal: AbortSignal,
  onText: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  try {
    await readChunks(res.body, { maxBytes: o.maxBytes, signal }, (chunk) =>
      onText(decoder.decode(chunk, { stream: true })),
    );
    onText(decoder.decode());
  } catch (err) {
    throw failureOf(err, o);
  }
}

/**
 * GETs a Prometheus text exposition and keeps the samples of the wanted metrics, parsing it
 * line by line as it streams in: memory holds one line and the wanted samples, never the body.
 */
export async function fetchExposition(
  url: string,
  wanted: (name: string) => boolean,
  o: BoundedFetchOptions,
): Promise<SeriesSample[]> {
  const deadline = deadlineSignal(o.timeoutMs);
  try {
    return await exposition(url, wanted, o, deadline.signal);
  } finally {
    deadline.clear();
  }
}

async function exposition(
  url: string,
  wanted: (name: string) => boolean,
  o: BoundedFetchOptions,
  signal: AbortSignal,
): Promise<SeriesSample[]> {
  const res = await get(url, 'text/plain;version=0.0.4', o, signal);
  const out: SeriesSample[] = [];
  let pending = '';
  let skipping = false;
  const take = (line: string) => {
    const sample = parseExpositionLine(line.endsWith('\r') ? line.slice(0, -1) : line, wanted);
    if (!sample) return;
    if (out.length >= MAX_SAMPLES) {
      throw new FetchFailure('too-large', `more than ${MAX_SAMPLES} wanted series`);
    }
    out.push(sample);
  };
  await eachChunk(res, o, signal, (text) => {
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      if (!skipping) take(pending + text.slice(start, nl));
      pending = '';
      skipping = false;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (skipping) return;
    pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      // A long label (a process's command line) of a metric nobody asked for is skipped.
      if (wanted(lineMetricName(pending))) {
        throw new FetchFailure('malformed', `a line over ${MAX_LINE_CHARS} characters`);
      }
      pending = '';
      skipping = true;
    }
  });
  try {
    if (!skipping && pending) take(pending);
  } catch (err) {
    throw failureOf(err, o);
  }
  return out;
}

/** GETs a JSON body of at most maxBytes. */
export async function fetchJson(url: string, o: BoundedFetchOptions): Promise<unknown> {
  const deadline = deadlineSignal(o.timeoutMs);
  let text = '';
  try {
    const res = await get(url, 'application/json', o, deadline.signal);
    await eachChunk(res, o, deadline.signal, (chunk) => {
      text += chunk;
    });
  } finally {
    deadline.clear();
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FetchFailure('malformed', 'the answer is not JSON');
  }
}

/**
 * A URL as it may appear in a log line: origin and path, no query (it may hold a token), and of
 * the path what withoutCredentials shows (`;token=[redacted]`, a nested URL's userinfo).
 */
export function urlForLog(url: string): string {
  try {
    const u = new URL(url);
    return withoutCredentials(`${u.origin}${u.pathname}`);
  } catch {
    return '(invalid URL)';
  }
}
