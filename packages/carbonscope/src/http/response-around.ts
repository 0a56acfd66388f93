import { nodeHttp } from '../node-http.js';
import { lookUp } from './look-up.js';

/**
 * The Node response behind what requestFootprint() was handed, where that carries no entry of
 * its own: Fastify's reply (`raw`), Koa's ctx (`res`) and Express's request (`res`). A Node
 * request that leads to no response (Node's own, Fastify's `request.raw`) is told to
 * `onRequest`, then undefined: asked about a request it can never give a figure, and every line
 * left without one would read as requests not tracked. Not thrown: it is asked from a logger's
 * serializer or a response's 'finish', where a throw ends the server at its first request.
 * Undefined for anything else (an HTTP/2 response, a response not tracked). Read only after the
 * given object's own read missed, so a logger's `res` costs one.
 */
export function responseAround(target: object, onRequest: () => void): object | undefined {
  const outer = objectAt(target, 'raw') ?? objectAt(target, 'res');
  const req =
    outer instanceof nodeHttp.IncomingMessage
      ? outer
      : target instanceof nodeHttp.IncomingMessage
        ? target
        : undefined;
  if (!req) return outer;
  const res = objectAt(req, 'res');
  if (!res) onRequest();
  return res;
}

function objectAt(target: object, key: string): object | undefined {
  const value: unknown = lookUp(target, key);
  return typeof value === 'object' && value !== null ? value : undefined;
}
