import type { LookupAddress, LookupOptions } from 'node:dns';
import { once } from 'node:events';
import { type Agent, createServer, request } from 'node:http';
import { expect } from 'chai';
import { lastPushAgents } from '../../../src/otel/last-push-agent.js';
import { freePort } from '../../helpers/ports.js';

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
