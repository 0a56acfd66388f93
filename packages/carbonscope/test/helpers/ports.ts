import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

async function listening(): Promise<Server> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/**
 * `count` free loopback ports, all different, for processes that must be told their ports up
 * front. Each is held until all are chosen: the OS may hand a port it just got back to the next
 * listener on port 0 (4 pairs in 20,000 here), and two processes told one port make the second
 * fail to listen while a scrape of it reads the first.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listening());
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(
      servers.map((s) => {
        s.close();
        return once(s, 'close');
      }),
    );
  }
}

/** One free loopback port (see freePorts for more than one at a time). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}
