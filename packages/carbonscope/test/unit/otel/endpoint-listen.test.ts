import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { stderrLogger } from '../../../src/log.js';
import { nodeHttp } from '../../../src/node-http.js';
import { listeningEndpoint } from '../../../src/otel/endpoint-listen.js';
import { freePorts } from '../../helpers/ports.js';

const quiet = stderrLogger({ level: 'silent' });

/** Whether each of `servers` listens once what their listens started has ended (100 ms). */
async function listeningLater(servers: readonly Server[]): Promise<boolean[]> {
  await new Promise((r) => setTimeout(r, 100));
  return servers.map((s) => s.listening);
}

// An endpoint stopped as it starts (register's hand-over, a reader after it that throws): no
// loopback may listen after, holding the port a restarted exporter asks for.
describe('the Prometheus endpoint on localhost, stopped as it starts', () => {
  it('listens on neither loopback, on port 0 or a set one', async () => {
    const [port = 0] = await freePorts(1);
    for (const asked of [0, port]) {
      const servers = listeningEndpoint((_req, res) => res.end(), 'localhost', asked, quiet);
      for (const server of servers) server.close();
      expect(await listeningLater(servers), String(asked)).to.deep.equal([false, false]);
    }
  });

  // Port 0's ::1 listens once 127.0.0.1 has its port: closed before that turn, it stays closed
  // (a net.Server listens again when told to after close()).
  it("leaves port 0's second loopback closed where it was closed before its turn", async () => {
    const servers = listeningEndpoint((_req, res) => res.end(), 'localhost', 0, quiet);
    servers[1]?.close();
    try {
      expect(await listeningLater(servers)).to.deep.equal([true, false]);
    } finally {
      for (const server of servers) server.close();
    }
  });
});

/** What Node's server emits where an accept fails (net.js onconnection): the server listens on. */
function acceptError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, errno: -24, syscall: 'accept' });
}

/**
 * An endpoint on 127.0.0.1 that listens on `asked` (a free port where undefined), and the error
 * lines it says, the port it serves on written PORT: port 0's line telling that port is a warning.
 */
async function servingEndpoint(asked?: number): Promise<{ server: Server; lines: () => string[] }> {
  const said: string[] = [];
  const logger = stderrLogger({ level: 'error', write: (l) => said.push(l) });
  const [port = 0] = asked === undefined ? await freePorts(1) : [asked];
  const [server] = listeningEndpoint((_req, res) => res.end('ok'), '127.0.0.1', port, logger);
  if (!server) throw new Error('no server');
  await once(server, 'listening');
  const served = String((server.address() as AddressInfo).port);
  return { server, lines: () => said.map((l) => l.replaceAll(served, 'PORT')) };
}

// An error the server emits once it listened (an accept that failed) was told as a listen that
// failed, "could not listen on", on an endpoint that served on, and again at each error.
describe('the Prometheus endpoint: an error after it listened', () => {
  it('says once that it had an error while serving, and serves on', async () => {
    const { server, lines } = await servingEndpoint();
    try {
      for (let i = 0; i < 3; i++) server.emit('error', acceptError('EMFILE'));
      expect(lines()).to.deep.equal([
        'carbonscope: error: Prometheus endpoint on 127.0.0.1:PORT: an error while serving, told once (it still serves): accept EMFILE\n',
      ]);
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect([server.listening, res.status, await res.text()]).to.deep.equal([true, 200, 'ok']);
    } finally {
      server.close();
    }
  });

  // Told once in all, an error of another code after the first (ENOMEM after EMFILE) was
  // never said: the first one's cause may be gone, and the user read of that one only.
  it('says an error of another code too, once each', async () => {
    const { server, lines } = await servingEndpoint();
    try {
      for (const code of ['EMFILE', 'ENOMEM', 'EMFILE', 'ENOMEM']) {
        server.emit('error', acceptError(code));
      }
      expect(lines()).to.deep.equal(
        ['EMFILE', 'ENOMEM'].map(
          (code) =>
            `carbonscope: error: Prometheus endpoint on 127.0.0.1:PORT: an error while serving, told once (it still serves): accept ${code}\n`,
        ),
      );
    } finally {
      server.close();
    }
  });

  // Its line named the port asked, 127.0.0.1:0, where a user looks for the one the OS chose.
  it('names the port it serves on, the one the OS chose on port 0', async () => {
    const { server, lines } = await servingEndpoint(0);
    try {
      server.emit('error', acceptError('EMFILE'));
      expect(lines()).to.deep.equal([
        'carbonscope: error: Prometheus endpoint on 127.0.0.1:PORT: an error while serving, told once (it still serves): accept EMFILE\n',
      ]);
    } finally {
      server.close();
    }
  });

  it('says that it stopped serving where the error found it no longer listening', async () => {
    const { server, lines } = await servingEndpoint();
    const { port } = server.address() as AddressInfo;
    // Its handle closed by something other than carbonscope's close (which says nothing).
    nodeHttp.Server.prototype.close.call(server);
    server.emit('error', acceptError('EMFILE'));
    server.emit('error', acceptError('ENFILE'));
    expect(lines()).to.deep.equal([
      'carbonscope: error: Prometheus endpoint on 127.0.0.1:PORT stopped serving: accept EMFILE\n',
    ]);
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (res) => res.status,
      (e: { cause?: { code?: string } }) => e.cause?.code,
    );
    expect(scrape).to.equal('ECONNREFUSED');
  });

  it('says nothing of an error after carbonscope closed it', async () => {
    const { server, lines } = await servingEndpoint();
    server.close();
    server.emit('error', acceptError('EMFILE'));
    expect(lines()).to.deep.equal([]);
  });
});
