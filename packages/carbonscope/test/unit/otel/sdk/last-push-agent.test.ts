import type { LookupAddress, LookupOptions } from 'node:dns';
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { lastPushAgents } from '../../../../src/otel/sdk/last-push-agent.js';
import { freePort } from '../../../helpers/ports.js';

type Lookup = (
  host: string,
  options: LookupOptions,
  done: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** A POST through `agent`: the status, or the error the request ended with. */
function post(agent: Agent, port: number, lookup?: Lookup): Promise<number | Error> {
  return new Promise((resolve) => {
    const host = lookup ? 'localhost' : '127.0.0.1';
    const req = request({ host, port, method: 'POST', path: '/v1/metrics', agent, lookup });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', resolve);
    req.end('x');
  });
}

/**
 * A POST through a last-push agent whose sockets fail to connect with `code`, as the kernel
 * fails one to an address it has no route to (which a test cannot reach on purpose).
 */
async function failingConnect(code: string): Promise<number | Error> {
  const original = Agent.prototype.createConnection;
  Agent.prototype.createConnection = () => {
    const socket = new PassThrough();
    const err = Object.assign(new Error(`connect ${code} 10.0.0.1:4318`), { code });
    process.nextTick(() => socket.destroy(err));
    return socket as unknown as Socket;
  };
  try {
    const agent = await lastPushAgents({}, 1000)('http:');
    const result = await post(agent, 4318);
    agent.destroy();
    return result;
  } finally {
    Agent.prototype.createConnection = original;
  }
}

describe("the last push's agents", () => {
  // The OTLP exporter retries an error whose code is ECONNREFUSED, 1 s (± 20 %) later.
  it('give a refused connection as an error without the code the exporter retries on', async () => {
    const agent = await lastPushAgents({}, 1000)('http:');
    const result = await post(agent, await freePort());
    expect(result).to.be.instanceOf(Error);
    const err = result as Error & { code?: string };
    expect(err.code).to.equal(undefined);
    expect(err.message).to.match(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    agent.destroy();
  });

  // `localhost` is ::1 and 127.0.0.1 on most hosts: Node tries each, and where all refuse it
  // gives one AggregateError, its message empty. Made final as it was, the warning read
  // "within 2 s: Error;", nothing of the refusal or the address.
  it('say each address a name refused', async () => {
    const both: Lookup = (_host, _options, done) =>
      done(null, [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ]);
    const agent = await lastPushAgents({}, 1000)('http:');
    const result = await post(agent, await freePort(), both);
    expect(result).to.be.instanceOf(Error);
    const err = result as Error & { code?: string };
    expect(err.code).to.equal(undefined);
    expect(err.message).to.match(
      /^connect ECONNREFUSED 127\.0\.0\.1:\d+, connect ECONNREFUSED 127\.0\.0\.2:\d+$/,
    );
    agent.destroy();
  });

  // A name that does not resolve, or a host or network with no route to it: a second later
  // is no likelier to reach it, and the script's end waited for that second.
  it('give a name that does not resolve as a final error too', async () => {
    const unknown: Lookup = (host, _options, done) =>
      done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    const agent = await lastPushAgents({}, 1000)('http:');
    const result = await post(agent, await freePort(), unknown);
    expect(result).to.be.instanceOf(Error);
    expect((result as Error & { code?: string }).code).to.equal(undefined);
    expect((result as Error).message).to.equal('getaddrinfo ENOTFOUND localhost');
    agent.destroy();
  });

  for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
    it(`give a connection that fails ${code} as a final error`, async () => {
      const result = await failingConnect(code);
      expect(result).to.be.instanceOf(Error);
      expect((result as Error & { code?: string }).code).to.equal(undefined);
      expect((result as Error).message).to.equal(`connect ${code} 10.0.0.1:4318`);
    });
  }

  // The resolver's own "try again" (no answer from the DNS server in time): a retry may get one.
  it('leave a temporary resolver failure (EAI_AGAIN) for the exporter to retry', async () => {
    const later: Lookup = (host, _options, done) =>
      done(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' }), []);
    const agent = await lastPushAgents({}, 1000)('http:');
    const result = await post(agent, await freePort(), later);
    expect((result as Error & { code?: string }).code).to.equal('EAI_AGAIN');
    agent.destroy();
  });

  it('carry a request to a collector that listens', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const agent = await lastPushAgents({}, 1000)('http:');
    try {
      const { port } = server.address() as { port: number };
      expect(await post(agent, port)).to.equal(200);
    } finally {
      agent.destroy();
      server.close();
    }
  });
});
