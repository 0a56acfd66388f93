import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActiveOperation } from '../energy/index.js';

/** One tracked request between its start and its end: a node of the list below. */
export interface OpenRequest {
  readonly op: ActiveOperation;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  prev: OpenRequest | undefined;
  next: OpenRequest | undefined;
}

type Carrier = ServerResponse & Record<symbol, OpenRequest | undefined>;

/**
 * The requests being tracked, found from their response in one property read. A Map keyed by
 * the response cost about a microsecond per request in a server (its hash, then a set and a
 * delete that grow and shrink the table), several times what the rest of the start did. Each
 * list has its own symbol, so two trackers in one process never read each other's entries; the
 * property is cleared, never deleted (a delete would turn the response into a dictionary).
 */
export class OpenRequests {
  private readonly key = Symbol('carbonscope.openRequest');
  private head: OpenRequest | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(op: ActiveOperation, req: IncomingMessage, res: ServerResponse): void {
    const entry: OpenRequest = { op, req, res, prev: undefined, next: this.head };
    if (this.head) this.head.prev = entry;
    this.head = entry;
    this.count++;
    (res as Carrier)[this.key] = entry;
  }

  /** The response's entry, left on the list; undefined when it is not open. */
  peek(res: ServerResponse): OpenRequest | undefined {
    return (res as Carrier)[this.key];
  }

  /** The response's entry, taken off the list; undefined when it is not (or no longer) open. */
  take(res: ServerResponse): OpenRequest | undefined {
    const entry = (res as Carrier)[this.key];
    if (!entry) return undefined;
    this.remove(entry);
    return entry;
  }

  /** Calls `fn` with each open request; `fn` may take the one it is given. */
  forEach(fn: (entry: OpenRequest) => void): void {
    for (let entry = this.head; entry; ) {
      const next = entry.next;
      fn(entry);
      entry = next;
    }
  }

  private remove(entry: OpenRequest): void {
    (entry.res as Carrier)[this.key] = undefined;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    this.count--;
  }
}
