import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Requests whose client waits for 100 Continue before it sends the body. */
const awaiting = new WeakSet<IncomingMessage>();

/**
 * The server's `checkContinue` listener: the request goes on as a `request` event with no 100
 * Continue sent. Node's own handling sent it before the app saw the request, so a client was told
 * to send a body over the limit, or one no route reads (a 404, 405 or 415), and learnt otherwise
 * only as it sent it: Expect's one use is to refuse that body before it is sent (RFC 9110
 * 10.1.1). Emitted, not handed to the app's listener: every `request` listener sees it as before,
 * OTel's HTTP instrumentation among them, which makes the server span only where `request` is
 * emitted, and request tracking's, which puts the request's figures on that span.
 */
export function holdContinue(server: Server): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    awaiting.add(req);
    server.emit('request', req, res);
  };
}

/** Sends the 100 Continue a request's client waits for, if it waits: its body is to be read. */
export function sendContinue(req: IncomingMessage, res: ServerResponse): void {
  if (awaiting.delete(req)) res.writeContinue();
}
