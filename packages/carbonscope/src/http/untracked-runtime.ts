import type { Logger } from '../log.js';

/** `process.versions`: Bun's and Deno's name their runtime (`bun`, `deno`) beside `node`. */
export type RuntimeVersions = Readonly<Record<string, string | undefined>>;

/**
 * What request tracking cannot see under this runtime, in one line; none under Node. Requests
 * are found through Node's `http.server.*` diagnostics channels alone: Bun 1.x publishes none
 * (its node:http, Express and Bun.serve requests all went uncounted, without a word), and Deno's
 * node:http publishes them, but its own Deno.serve does not.
 */
export function untrackedRequests(versions: RuntimeVersions): string | undefined {
  if (typeof versions.bun === 'string') {
    return (
      `Bun ${versions.bun} publishes no http.server diagnostics channel: no HTTP request is ` +
      'tracked (node:http, Express, Bun.serve alike); the process, track(), measure() and ' +
      'begin() are measured. Serve on Node or Deno to count requests'
    );
  }
  if (typeof versions.deno === 'string') {
    return (
      `under Deno ${versions.deno} the requests of node:http servers (Express, Fastify…) are ` +
      'tracked, not those of Deno.serve, which publishes no http.server diagnostics channel'
    );
  }
  return undefined;
}

// Once a process: each start() after a stop() tracks requests anew, and would say it again.
let told = false;

/** Says once, through `logger`, which requests this runtime serves that go uncounted. */
export function warnUntrackedRequests(
  logger: Logger | undefined,
  versions: RuntimeVersions = process.versions,
): void {
  if (told || !logger) return;
  const note = untrackedRequests(versions);
  if (note === undefined) return;
  told = true;
  logger.warn(note);
}
