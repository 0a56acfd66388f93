import type { IncomingMessage, ServerResponse } from 'node:http';
import { TrackedOperation } from '../energy/index.js';

/**
 * One tracked request between its start and its end, its operation itself (begun with
 * EnergyTracker.beginAs): a node of OpenRequests' list too. An entry of its own beside the
 * operation was a second object a request (~80 B; ~40 net, its fields being here now). Its
 * method and scheme, read as it arrived, are the operation's `http`, which its end sets to the
 * same.
 */
export class OpenRequest extends TrackedOperation {
  /** Its request and response while it runs; let go once it ended (see release). */
  req: IncomingMessage | undefined;
  res: ServerResponse | undefined;
  /** False once taken: the response keeps its entry (see take). */
  open = true;
  prevOpen: OpenRequest | undefined;
  nextOpen: OpenRequest | undefined;

  /**
   * Lets go of its request and response once it ended: where the tracker holds an ended
   * operation till the next sample (its CPU measured, `exact`), they went with it.
   */
  release(): void {
    this.req = undefined;
    this.res = undefined;
  }
}

/** What a list is given to add: an open request with its request and response set. */
export type Opened = OpenRequest & { req: IncomingMessage; res: ServerResponse };
