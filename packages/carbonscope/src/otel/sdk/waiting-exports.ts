import type { Agent, ClientRequest } from 'node:http';
import { nodeHttp } from '../../node-http.js';
import { setImmediate } from '../../real-timers.js';

/** How an export answered at the stop, with no request of its exporter open, is worded. */
export const STOPPED_WAITING = 'the process began to end while the push waited to be tried again';

/**
 * One exporter's exports not yet answered, and its requests open: at the process's end
 * (stop()), an export with no request open only waits (the exporter's retry backoff after a
 * refusal, 1 s ± 20 % or the Retry-After, within its timeout) and is answered failed at once, so
 * the last push behind it goes now, carrying what it carried (cumulative totals, or a failed
 * push's delta points carried again). Its retry must then never reach the collector, or its delta
 * points would count twice: from the stop, the agents its requests went through refuse every
 * request before a byte is written (the `http.client.request.start` channel tells of a request
 * only once its body went to its socket, on the wire already where a kept-alive one took it). An
 * export with a request open is left to its answer, and answered at once should it go back to
 * waiting.
 */
export class WaitingExports {
  private readonly unanswered = new Set<() => void>();
  private readonly agents = new Set<Agent>();
  /** Of those, how many never ran the patched addRequest: their requests may not be counted. */
  private unseen = 0;
  /** Requests counted open, from their creation where their agent was seen before. */
  private readonly counted = new WeakSet<ClientRequest>();
  private open = 0;
  private stopAt = false;
  /** True once an export was answered at the stop: a request after it may be its retry. */
  private failedAtStop = false;

  /**
   * `calls`: whether this runtime hands a request to its agent's own addRequest
   * (runtimeCallsAddRequest), which stands for an agent's patch seen to run before it ran;
   * asked at the stop alone, where an agent's patch was not seen to run yet.
   */
  constructor(private readonly calls: () => boolean = runtimeCallsAddRequest) {}

  /** True once stop() was called: its exports fail at once, and its agents take no request. */
  get stopped(): boolean {
    return this.stopAt;
  }

  /** An export began: `fail` answers it failed. Returns what to call when it is answered. */
  began(fail: () => void): () => void {
    this.unanswered.add(fail);
    return () => this.unanswered.delete(fail);
  }

  /** A request of one of its exports started (the channel says so once its body is sent). */
  sent(request: ClientRequest, agent: Agent | undefined): void {
    if (agent !== undefined && REFUSABLE && !this.agents.has(agent)) {
      this.agents.add(agent);
      this.watch(agent);
    }
    // Through an agent none went through before: its new connection has sent nothing yet. Only
    // once an export was answered: before, it is an export's first request, to be awaited (with
    // gzip its body may be on the wire already, the stop having come while it was compressed).
    if (this.failedAtStop) request.destroy(new Error(STOPPED_WAITING));
    this.count(request);
  }

  /** The process's end began: exports that only wait are answered failed now. */
  stop(): void {
    if (this.stopAt) return;
    this.stopAt = true;
    this.failIdle();
  }

  /**
   * Each request `agent` is handed counted open from then, before its body goes out (a kept-alive
   * connection takes it at once, where the channel tells of it only once sent); after the stop,
   * refused with nothing sent.
   */
  private watch(agent: Agent): void {
    const { addRequest } = agent as unknown as AddingAgent;
    let seen = false;
    this.unseen += 1;
    const adding: AddingAgent['addRequest'] = (request, ...rest) => {
      if (!seen) {
        seen = true;
        this.unseen -= 1;
      }
      if (this.stopAt) {
        refuse(request);
        return;
      }
      this.count(request);
      addRequest.call(agent, request, ...rest);
    };
    Object.assign(agent, { addRequest: adding });
  }

  private count(request: ClientRequest): void {
    if (this.counted.has(request)) return;
    this.counted.add(request);
    this.open += 1;
    request.once('close', () => {
      this.open -= 1;
      // After the answer's own callbacks: a push that got through is answered by then.
      if (this.stopAt) setImmediate(() => this.failIdle());
    });
  }

  private failIdle(): void {
    // No agent watched: no request of its exports was counted from its creation (none went
    // through yet, or this Node lacks the internals), so one may be under way: all are awaited.
    // So too where one was never seen to run its patched addRequest: a runtime that keeps
    // Agent.prototype.addRequest but no longer calls it would neither count a request nor
    // refuse a retry, which would then carry delta points twice.
    if (this.open > 0 || this.agents.size === 0) return;
    // Patched once its first request was sent: only the runtime's way tells of that one. Asked
    // here, at the stop, not as a request starts: the probe makes a ClientRequest.
    if (this.unseen > 0 && !this.calls()) return;
    for (const fail of [...this.unanswered]) {
      this.failedAtStop = true;
      fail();
    }
  }
}

/**
 * `request` refused as Node's Agent refuses one whose connection failed: it errs (STOPPED_WAITING,
 * no code, so the exporter does not retry it) with nothing sent. Only through the exporter's
 * agents (OwnRequests.has), which no request but its exports' goes through.
 */
function refuse(request: ClientRequest): void {
  // ClientRequest.onSocket is how Node's Agent hands a request its socket or its error.
  (request as unknown as RefusedRequest).onSocket(null, new Error(STOPPED_WAITING));
}

/**
 * Whether this Node has the internals the refusal relies on: a ClientRequest hands itself to its
 * agent's addRequest, and takes its socket or its error through onSocket (Node 20 to 24). Where
 * they are gone, no export is answered at the stop: it is awaited, as before stop 83.
 */
const REFUSABLE =
  typeof (nodeHttp.Agent.prototype as unknown as Partial<AddingAgent>).addRequest === 'function' &&
  typeof (nodeHttp.ClientRequest.prototype as unknown as Partial<RefusedRequest>).onSocket ===
    'function';

let called: boolean | undefined;

/**
 * Whether a ClientRequest made here hands itself to its agent's own addRequest, tried once: an
 * agent that takes it and does nothing, so no socket is made. False where the runtime goes round
 * it (as a ClientRequest would round the patch) or throws.
 */
export function runtimeCallsAddRequest(): boolean {
  if (called !== undefined) return called;
  let took = false;
  const agent = new nodeHttp.Agent();
  Object.assign(agent, { addRequest: () => (took = true) });
  try {
    const request = new nodeHttp.ClientRequest({ agent, host: '127.0.0.1', port: 9 });
    request.on('error', () => undefined);
    request.destroy();
  } catch {
    took = false;
  }
  agent.destroy();
  called = took;
  return called;
}

/** Node's Agent, as a ClientRequest calls it: @types/node leaves addRequest out. */
interface AddingAgent {
  addRequest(request: ClientRequest, ...rest: unknown[]): void;
}

interface RefusedRequest {
  onSocket(socket: null, err: Error): void;
}
