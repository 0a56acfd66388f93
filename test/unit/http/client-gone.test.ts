import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import type { Context } from 'koa';
import { ClientGoneError, clientGoneSignal } from '../../../src/http/client-gone.js';

interface Asked {
  url: string;
  signal: AbortSignal;
  res: WeakRef<ServerResponse>;
  answer(): void;
}

// A full collection on demand: the flag holds for contexts made after it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A server that holds each request until the test answers it, with its client-gone signal. */
async function holdingServer() {
  const asked: Asked[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const signal = clientGoneSignal({ req, res } as unknown as Context);
    req.resume();
    // Held weakly, so that the test keeps no answered response alive itself.
    const held = new WeakRef(res);
    asked.push({ url: req.url ?? '', signal, res: held, answer: () => held.deref()?.end('ok') });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    asked,
    port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi`;

/** A client connection kept alive across requests, and what it has been sent back so far. */
function keptAlive(port: number) {
  const socket = connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (d: Buffer) => {
    got += d;
  });
  return { socket, got: () => got };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('http/client-gone', () => {
  // Node 20 closes only the response whose turn it is when the connection goes: one pipelined
  // behind it was never closed, so its LLM call ran on for nobody (Node 24 closes both).
  it('aborts every request of a connection that goes away, pipelined ones too', async () => {
    const server = await holdingServer();
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.write(post('/first') + post('/second'));
      await until(() => server.asked.length === 2);
      socket.destroy();
      await until(() => server.asked.every((a) => a.signal.aborted));
      for (const a of server.asked)
        expect(a.signal.reason, a.url).to.be.instanceOf(ClientGoneError);
    } finally {
      await server.close();
    }
  });

  it('aborts nothing answered, pipelined or kept alive, when the client stays then leaves', async () => {
    const server = await holdingServer();
    try {
      const { socket, got } = keptAlive(server.port);
      socket.write(post('/first') + post('/second'));
      await until(() => server.asked.length === 2);
      for (const a of server.asked) a.answer();
      await until(() => got().split('HTTP/1.1 200').length === 3);
      socket.write(post('/third'));
      await until(() => server.asked.length === 3);
      server.asked[2]?.answer();
      await until(() => got().split('HTTP/1.1 200').length === 4);
      socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(server.asked.map((a) => a.signal.aborted)).to.deep.equal([false, false, false]);
    } finally {
      await server.close();
    }
  });

  // The connection's close listener shared a scope with the first request's watcher, so every
  // kept-alive connection held its first response (and its tracked operation) until it closed.
  it('lets an answered response go while its keep-alive connection stays open', async () => {
    const server = await holdingServer();
    try {
      const { socket, got } = keptAlive(server.port);
      socket.write(post('/first'));
      await until(() => server.asked.length === 1);
      server.asked[0]?.answer();
      await until(() => got().includes('HTTP/1.1 200'));
      const first = server.asked[0]?.res;
      for (let i = 0; i < 5 && first?.deref(); i++) {
        await new Promise((r) => setTimeout(r, 20));
        collectGarbage();
      }
      expect(first?.deref(), 'the first response, collected').to.equal(undefined);
      expect(socket.destroyed).to.equal(false);
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
