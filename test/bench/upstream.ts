/**
 * A mock upstream for the attribution benchmark: answers `ok` after `?ms=` milliseconds (50 by
 * default), like a database or an API the service waits for. Its own process, so its work is
 * not the measured server's. PORT and HOST from the environment; /readyz answers at once.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer((req, res) => {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 50);
  if (req.url === '/readyz') {
    res.end('ready');
    return;
  }
  setTimeout(() => res.end('ok'), Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 5000) : 50);
});
// Idle keep-alive connections are never closed from this side: a server closing one as the
// client's agent reuses it resets that request (ECONNRESET), which the attribution server
// answers with a 500 and the bench counts as a failed run (seen once at one connection, where
// a socket idles longest between requests). The process lives only as long as the bench.
server.keepAliveTimeout = 0;
server.listen(port, host);
