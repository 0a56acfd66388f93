import type { Agent, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long an exporter's kept-alive connection may sit unused and still carry its next push:
 * under Node's own agent's 5 s. A process stopped between pushes (SIGSTOP, a serverless platform
 * freezing it between invocations, `docker pause`) comes back with its connection as it left it,
 * though the collector, a proxy or a NAT closed or dropped it meanwhile (the OTel Collector gives
 * no Keep-Alive hint that would tell the agent when), and Node runs the push's timer before it
 * reads that close: the push went out on the dead connection ("socket hang up", or no answer at
 * all where a NAT dropped it), and failed where the exporter's timeout left no room for its retry
 * a second later. A new connection per push where pushes are further apart costs one connect.
 */
export const REUSE_IDLE_MS = 4_000;

/**
 * The kept-alive connections one exporter's pushes used, and when a push last used them. Those
 * alone: an agent given to otlpMetricExporter may be the application's too, its connections to
 * other hosts kept alive for its own requests.
 */
export class IdleSockets {
  private readonly agents = new Set<Agent>();
  private readonly sockets = new WeakSet<Socket>();
  private lastUsed = Number.NEGATIVE_INFINITY;

  constructor(private readonly reuseIdleMs: number = REUSE_IDLE_MS) {}

  /** A push's request, sent through `agent`: its connection, once it has one. */
  saw(agent: Agent, request: ClientRequest): void {
    this.agents.add(agent);
    // A request is handed its connection a tick after it starts, or later where one is made.
    if (request.socket) this.sockets.add(request.socket);
    else request.once('socket', (socket: Socket) => this.sockets.add(socket));
  }

  /** A push ended: its connections were last used at `now` (performance.now() ms). */
  used(now: number): void {
    if (now > this.lastUsed) this.lastUsed = now;
  }

  /**
   * Before a push: closes the free connections pushes used when none was used for longer than
   * the bound. A destroyed socket is skipped by the agent at once, so the push opens a new one.
   */
  dropStale(now: number): void {
    if (now - this.lastUsed <= this.reuseIdleMs) return;
    for (const agent of this.agents) {
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const socket of sockets ?? []) if (this.sockets.has(socket)) socket.destroy();
      }
    }
  }
}
