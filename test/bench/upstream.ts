/**
 * A mock upstream for the attribution benchmark: answers `ok` after `?ms=` milliseconds (50 by
 * default), like a database or an API the service waits for. Its own process, so its work is
 * not the measured server's. PORT and HOST from the environment; /readyz answers at once.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

createServer((req, res) => {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 50);
  if (req.url === '/readyz') {
    res.end('ready');
    return;
  }
  setTimeout(() => res.end('ok'), Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 5000) : 50);
}).listen(port, host);
