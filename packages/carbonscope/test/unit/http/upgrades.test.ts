import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import type { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { steadyCarbonscope } from '../energy/scripted.js';

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
const SWITCHING =
  'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

async function until(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 200 && !ok(); t++) await new Promise((r) => setTimeout(r, 5));
}

/** carbonscope tracking `server`'s requests, listening; the operations it ended. */
async function tracked(server: Server) {
  const cs = await steadyCarbonscope();
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests({ servers: [server] });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { cs, ended, port: (server.address() as AddressInfo).port };
}

/** A raw connection that writes `text`; what it was sent, by its first lines. */
async function rawClient(port: number, text: string) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let got = '';
  socket.on('data', (d) => {
    got += d;
  });
  socket.write(text);
  return { socket, statusLines: () => got.match(/^HTTP\/1\.1 \d+/gm) ?? [] };
}

/** An `upgrade` listener as a WebSocket server's: answers 101, owns the socket until it ends. */
function upgrading(server: Server): Socket[] {
  const upgraded: Socket[] = [];
  server.on('upgrade', (_req, socket: Socket) => {
    upgraded.push(socket);
    socket.write(SWITCHING);
    socket.on('data', () => {});
    socket.on('end', () => socket.destroy());
  });
  return upgraded;
}

function names(ended: OperationFootprint[]): string[] {
  return ended.map((f) => `${f.operation} ${f.status ?? '-'}`);
}

async function sampled(cs: Carbonscope): Promise<void> {
  cs.meter.sampleNow();
  await new Promise((r) => setTimeout(r, 20));
}

// An upgraded connection is no request: Node publishes no request start for it, as OTel's HTTP
// instrumentation makes no server span for it; these say it is neither left open nor counted.
describe('http: an upgraded (WebSocket) connection', () => {
  it('begins no operation and leaves none open; a plain request of its server counts once', async () => {
    const server = createServer((_req, res) => res.end('plain'));
    const upgraded = upgrading(server);
    const { cs, ended, port } = await tracked(server);
    try {
      const plain = await rawClient(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
      const ws = await rawClient(port, UPGRADE);
      await until(() => plain.statusLines().length === 1 && ws.statusLines().length === 1);
      expect([...plain.statusLines(), ...ws.statusLines()]).to.deep.equal([
        'HTTP/1.1 200',
        'HTTP/1.1 101',
      ]);
      await sampled(cs);
      expect(cs.trackRequests().inFlight).to.equal(0);
      expect(names(ended)).to.deep.equal(['unmatched 200']);
      ws.socket.end();
      plain.socket.destroy();
      await until(() => upgraded[0].destroyed);
      await sampled(cs);
      expect(cs.trackRequests().inFlight).to.equal(0);
      expect(ended).to.have.length(1);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('asked of a server with no upgrade listener, is one request with the status it was given', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 426;
      res.end('no upgrades here');
    });
    const { cs, ended, port } = await tracked(server);
    try {
      const client = await rawClient(port, UPGRADE);
      // The operation ends as Node hands the answer to the socket; the client reads it a turn or
      // more later, later still on a loaded machine.
      await until(() => ended.length === 1 && client.statusLines().length === 1);
      expect(client.statusLines()).to.deep.equal(['HTTP/1.1 426']);
      client.socket.destroy();
      await sampled(cs);
      expect(names(ended)).to.deep.equal(['unmatched 426']);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('switched by a request handler itself stays in flight while the client is there, then ends once', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(101, { Connection: 'Upgrade', Upgrade: 'websocket' });
      res.flushHeaders();
    });
    const { cs, ended, port } = await tracked(server);
    try {
      const client = await rawClient(port, UPGRADE);
      await until(() => client.statusLines().length === 1);
      await sampled(cs);
      expect(cs.trackRequests().inFlight).to.equal(1);
      client.socket.destroy();
      await until(() => ended.length === 1);
      await sampled(cs);
      // Its head went before its client left: the status it sent, as for any such response.
      expect(names(ended)).to.deep.equal(['unmatched 101']);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      server.close();
      await cs.stop();
    }
  });
});
