import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActiveOperation, HttpRequestFacts } from '../energy/index.js';
import { nodeHttp } from '../node-http.js';
import { lookUp, nodeShaped } from './look-up.js';
import type { Opened, OpenRequest } from './open-request.js';
import { responseAround } from './response-around.js';

const RESPONSE_PROTOTYPE = nodeHttp.ServerResponse.prototype;

type Carrier = ServerResponse & Record<symbol, OpenRequest | undefined>;

/**
 * The requests being tracked, found from their response in one property read. A Map keyed by
 * the response cost about a microsecond per request in a server (its hash, then a set and a
 * delete that grow and shrink the table), several times what the rest of the start did. Each
 * list has its own symbol, so two trackers in one process never read each other's entries. The
 * entry is written as the request arrives, when the response is still Node's own; it is read at
 * the end with lookUp, since a framework may have reshaped the response by then; and it is
 * never cleared or deleted, only marked taken: a write to a reshaped response costs what a
 * read does, and a delete would turn the response into a dictionary.
 */
export class OpenRequests {
  private readonly key = Symbol('carbonscope.openRequest');
  private head: Opened | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Opens `entry`, the operation just begun for `req` (`http`: its method and scheme). */
  add(entry: OpenRequest, req: IncomingMessage, res: ServerResponse, http: HttpRequestFacts): void {
    entry.req = req;
    entry.res = res;
    entry.http = http;
    entry.nextOpen = this.head;
    if (this.head) this.head.prevOpen = entry;
    this.head = entry as Opened;
    this.count++;
    (res as Carrier)[this.key] = entry;
  }

  /**
   * The response's entry, left on the list; undefined when it is not open. Asked from a `request`
   * listener, which runs after the application's: Express has reshaped the response by then.
   */
  peek(res: ServerResponse, plain = nodeShaped(res, RESPONSE_PROTOTYPE)): Opened | undefined {
    const entry = plain ? (res as Carrier)[this.key] : lookUp<OpenRequest>(res, this.key);
    return entry?.open ? (entry as Opened) : undefined;
  }

  /**
   * The operation of the response's request once it ended (its entry taken), for an access
   * log written as the response finishes; undefined while it runs, or for a response not
   * tracked here. Read with lookUp: the application's logger holds a framework's response.
   * `target` may be a framework's object around the response too; a request that leads to
   * none is told to `onRequest` (see responseAround).
   */
  endedOf(target: object, onRequest: () => void): ActiveOperation | undefined {
    let entry = lookUp<OpenRequest>(target, this.key);
    if (!entry) {
      const res = responseAround(target, onRequest);
      entry = res && lookUp<OpenRequest>(res, this.key);
    }
    return entry && !entry.open ? entry : undefined;
  }

  /**
   * The response's entry, taken off the list; undefined when it is not (or no longer) open.
   * `plain`: whether the response is still Node-shaped, where the caller asked already.
   */
  take(res: ServerResponse, plain?: boolean): Opened | undefined {
    const entry = this.peek(res, plain);
    if (entry) this.remove(entry);
    return entry;
  }

  /** Calls `fn` with each open request; `fn` may take the one it is given. */
  forEach(fn: (entry: Opened) => void): void {
    for (let entry = this.head; entry; ) {
      const next = entry.nextOpen as Opened | undefined;
      fn(entry);
      entry = next;
    }
  }

  private remove(entry: OpenRequest): void {
    entry.open = false;
    if (entry.prevOpen) entry.prevOpen.nextOpen = entry.nextOpen;
    else this.head = entry.nextOpen as Opened | undefined;
    if (entry.nextOpen) entry.nextOpen.prevOpen = entry.prevOpen;
    entry.prevOpen = undefined;
    entry.nextOpen = undefined;
    this.count--;
  }
}
