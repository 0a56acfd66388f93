import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** An export's deadline, in performance.now() ms. */
interface Deadline {
  readonly at: number;
}

/**
 * The deadline of the export whose work runs now: its requests, and its retries' (timers and
 * promises carry it), are made inside it.
 */
const current = new AsyncLocalStorage<Deadline>();
let watching = false;

/** Cuts a request made inside an export at that export's deadline. */
function onRequestStart(message: unknown): void {
  const deadline = current.getStore();
  if (!deadline) return;
  const request = (message as { request: ClientRequest }).request;
  const cut = setTimeout(
    () => {
      // The exporter's own words for its timeout: one reason, whichever timer fires first.
      request.destroy(new Error('Request timed out'));
    },
    Math.max(0, deadline.at - performance.now()),
  );
  cut.unref();
  request.once('close', () => clearTimeout(cut));
}

/** What export()s a batch with a callback: the OTLP exporters of every signal. */
interface Exporting<T, R> {
  export(items: T, done: (result: R) => void): void;
}

/**
 * `exporter`, each export of it ending within `timeoutMs` as a whole. The OTel OTLP/HTTP
 * exporters' timeout is their socket's idle timeout, which every byte restarts: a collector
 * (or a proxy) that answers one byte at a time kept an export, and the periodic reader's
 * next ones queued behind it, alive for as long as it liked. Node's request-start channel
 * sees each request they make; those made for an export are destroyed at its deadline, which
 * the exporter takes as any failed request (no retry: its own deadline is the same).
 */
export function exportsWithin<E extends Exporting<T, R>, T, R>(exporter: E, timeoutMs: number): E {
  if (!watching) {
    watching = true;
    subscribe('http.client.request.start', onRequestStart);
  }
  const inner = exporter.export.bind(exporter);
  exporter.export = (items, done) => {
    const deadline = { at: performance.now() + timeoutMs };
    // Its result is handed back outside: what the caller does next is no part of the export.
    const answer = AsyncResource.bind(done);
    current.run(deadline, () => inner(items, answer));
  };
  return exporter;
}
