import { once } from 'node:events';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { freePorts } from '../helpers/spawn-server.js';

/** Whether a listener can have the port now. */
async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  const [outcome] = await Promise.race([once(server, 'listening'), once(server, 'error')]);
  if (outcome instanceof Error) return false;
  server.close();
  await once(server, 'close');
  return true;
}

describe('freePorts: ports for processes told theirs up front', () => {
  it('never gives one port twice in a call, and each is free once it returns', async () => {
    // Taken one at a time, a port can come back at once: 4 pairs in 20,000 gave the same port
    // twice here. A call holds every port until all are chosen, so 200 are all different.
    const ports = await freePorts(200);
    expect(new Set(ports).size).to.equal(200);
    for (const port of ports) expect(await bindable(port), String(port)).to.equal(true);
  });
});
