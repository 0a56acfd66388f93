// A plain node:http service. It has no router, so it names its routes for carbonscope with
// setRoute (a no-op until carbonscope runs); the rest is carbonscope-free.
import { createServer } from 'node:http';
import { setRoute } from 'carbonscope';

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const user = /^\/users\/([^/]+)$/.exec(pathname);
  if (user) {
    setRoute(req, '/users/:id');
    let sum = 0;
    for (let i = 0; i < 200_000; i++) sum += i % 7;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: user[1], sum }));
  } else if (pathname === '/hello') {
    setRoute(req, '/hello');
    res.end('hello');
  } else {
    res.statusCode = 404;
    res.end('not found');
  }
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
