import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** Holds the event loop for `ms`, as a stopped process (SIGSTOP) or a synchronous job does. */
export function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Two ends of one loopback TCP connection: what `peer` writes waits in `client`'s socket. */
export interface LoopbackPair {
  client: Socket;
  peer: Socket;
  close(): void;
}

export async function loopbackPair(): Promise<LoopbackPair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = createConnection(port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [Socket];
  return {
    client,
    peer,
    close() {
      client.destroy();
      peer.destroy();
      server.close();
    },
  };
}

/**
 * An HTTP server on 127.0.0.1 in a worker thread, so that it answers while this thread's loop is
 * held: every request, once received whole, gets `body` at once (JSON, text under /metrics).
 */
export interface AnsweringServer {
  url: string;
  /**
   * Holds this loop once the next request is out: until its answer is written, then `ms` more,
   * as a process stopped right after sending it. The answer waits in the socket, unread, with
   * every deadline shorter than `ms` expired. Resolves a loop turn later: undici hands a
   * keep-alive socket back to its pool only then (setImmediate, in case the server closes it
   * after all), and a fetch started before opened a second connection, whose connect a loaded
   * host stretched past a 100 ms deadline before the request had left (4 runs in 10 at load 20).
   */
  holdNextRequest(ms: number): Promise<void>;
  /** How many requests it received, whole. */
  received(): number;
  /** How many connections it accepted. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * `closeAfterMs`: the server closes each connection that long after its answer, as a collector
 * (or a proxy, a NAT) drops an idle one, with no Keep-Alive hint that would tell Node's agent
 * when: the OTel Collector gives none.
 */
export async function answeringServer(
  body: string,
  closeAfterMs?: number,
): Promise<AnsweringServer> {
  const closing =
    closeAfterMs === undefined ? '' : `setTimeout(() => req.socket.destroy(), ${closeAfterMs});`;
  // [answer written, requests received, connections accepted]
  const shared = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(
    `const http = require('node:http');
     const { parentPort, workerData } = require('node:worker_threads');
     const server = http.createServer((req, res) => {
       req.resume();
       req.on('end', () => {
         Atomics.add(workerData, 1, 1);
         res.setHeader('content-type', req.url.startsWith('/metrics') ? 'text/plain' : 'application/json');
         res.end(${JSON.stringify(body)}, () => {
           Atomics.store(workerData, 0, 1);
           Atomics.notify(workerData, 0);
           ${closing}
         });
       });
     });
     server.on('connection', () => Atomics.add(workerData, 2, 1));
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true, workerData: shared },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  // fetch's, and node:http's (published once the request is written).
  const channels = ['undici:client:sendHeaders', 'http.client.request.start'];
  let holdMs: number | undefined;
  const onSend = () => {
    if (holdMs === undefined) return;
    const ms = holdMs;
    holdMs = undefined;
    const from = performance.now();
    // Once the request has left (a corked socket writes it on the next tick).
    setImmediate(() => {
      Atomics.wait(shared, 0, 0, 10_000);
      blockFor(ms - (performance.now() - from));
    });
  };
  for (const channel of channels) subscribe(channel, onSend);
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => Atomics.load(shared, 1),
    connections: () => Atomics.load(shared, 2),
    async holdNextRequest(ms) {
      await new Promise((resolve) => setImmediate(resolve));
      Atomics.store(shared, 0, 0);
      holdMs = ms;
    },
    async close() {
      for (const channel of channels) unsubscribe(channel, onSend);
      await worker.terminate();
    },
  };
}
