// A plain node:http service for overhead.mjs: one cached JSON answer, nothing else.
import { createServer } from 'node:http';

const body = JSON.stringify({ hello: 'world', zone: 'DE', carbonIntensity: 300 });
const length = String(Buffer.byteLength(body));
createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
