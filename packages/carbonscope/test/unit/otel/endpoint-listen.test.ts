import type { Server } from 'node:http';
import { expect } from 'chai';
import { stderrLogger } from '../../../src/log.js';
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
