/**
 * Preloaded after `carbonscope/register` by the benchmark's same-process comparison: a control
 * server on CARBONSCOPE_SWITCH_PORT (loopback) turns request tracking off (`/tracking/off`) and
 * on again (`/tracking/on`), so carbonscope's per-request cost is measured in one process, on
 * the same JIT state and memory layout, instead of between two processes whose difference on a
 * shared machine is larger than the cost itself. The meter keeps sampling in both states: what
 * is switched is exactly the request path (the diagnostics channel subscribers, the tracker,
 * the histograms).
 */
import { createServer } from 'node:http';
import { start } from 'carbonscope';

const port = Number(process.env.CARBONSCOPE_SWITCH_PORT);
if (!Number.isInteger(port) || port <= 0) {
  throw new Error('tracking-switch: CARBONSCOPE_SWITCH_PORT must be a port number');
}
const cs = await start();
const control = createServer((req, res) => {
  if (req.url === '/tracking/on') cs.trackRequests();
  else if (req.url === '/tracking/off') cs.untrackRequests();
  else res.statusCode = 404;
  res.end();
});
cs.ignoreServer(control);
control.listen(port, '127.0.0.1').unref();
