import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type LoadRequest, runLoad } from '../../bench/load.js';

describe('bench: load generation', () => {
  it("leaves the caller's requests as they were: a mix reused by fetch afterwards sends its own bodies", async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Two requests sharing one headers object, as the traffic mix's JSON posts do.
    const json = { 'content-type': 'application/json' };
    const requests: LoadRequest[] = [
      { method: 'POST', path: '/a', headers: json, body: '{"activity":"a long body here"}' },
      { method: 'POST', path: '/b', headers: json, body: '{}' },
    ];
    try {
      let i = 0;
      const pick = () => requests[i++ % requests.length] as LoadRequest;
      const result = await runLoad({ url, connections: 2, durationSeconds: 1, requests, pick });
      expect(result.status2xx).to.be.greaterThan(0);
      expect(i).to.be.greaterThan(2);
      expect(json).to.deep.equal({ 'content-type': 'application/json' });
      expect(requests[1]).to.deep.equal({ method: 'POST', path: '/b', headers: json, body: '{}' });
    } finally {
      server.close();
    }
  });
  it("sends the target's host:port as Host on the requests a mix picks", async () => {
    // autocannon takes setupRequest's answer whole: a request without the target's hostname and
    // port went out as `Host: undefined:undefined`, which the service answers 400 (every soak
    // request since Host is checked, 2026-12-06).
    const hosts = new Set<string | undefined>();
    const server = createServer((req, res) => {
      hosts.add(req.headers.host);
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    try {
      const pick = (): LoadRequest => ({ path: '/picked' });
      await runLoad({ url, connections: 1, durationSeconds: 1, requests: [{ path: '/' }], pick });
      expect([...hosts]).to.deep.equal([`127.0.0.1:${port}`]);
    } finally {
      server.close();
    }
  });
});
