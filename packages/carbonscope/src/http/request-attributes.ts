import type { IncomingMessage } from 'node:http';
import { typeOf } from '../argument-checks.js';
import { defaultLogger } from '../default-logger.js';
import type { RefusalReason } from '../labels/index.js';
import { AttributeSets, type OperationAttributes } from '../labels/index.js';
import { nodeHttp } from '../node-http.js';
import { lookUp, nodeShaped } from './look-up.js';
import type { RoutableRequest } from './route.js';

/** Where a request's attributes are kept once the application gave them (setAttributes). */
const ATTRIBUTES = Symbol.for('carbonscope.http.attributes');
const REQUEST_PROTOTYPE = nodeHttp.IncomingMessage.prototype;

/**
 * Distinct attribute sets over the process's life; each new one after is its keys with every
 * value `other`. Each set is one more series per operation of each operation histogram (three
 * of them), so 100 sets beside 50 routes are up to 15,000 more series: bounded, not small.
 */
export const MAX_ATTRIBUTE_SETS = 100;
/** The longest attribute value kept, as an operation name's; a longer one is `other`. */
export const MAX_ATTRIBUTE_LENGTH = 100;

/** Node's request (or HTTP/2 stream), or a framework's request or context around it. */
export type AttributableRequest =
  | RoutableRequest
  | { readonly raw: object }
  | { readonly req: object };

type Attributed = IncomingMessage & { [ATTRIBUTES]?: OperationAttributes };

// One for the process, as the metrics it bounds are: made at the first setAttributes() only.
let sets: AttributeSets | undefined;

/**
 * Gives the request's energy these attributes (`{ 'app.tenant': 'acme' }`): `req` is Node's
 * request or a framework's around it (Fastify's `request`, Koa's `ctx`, hapi's). Its operation
 * histograms' series and its server span carry them, besides its route. Up to four string
 * values, under keys of letters, digits, `_` and `.`; a later call replaces an earlier one's.
 * Bounded for the process: the first MAX_ATTRIBUTE_SETS distinct sets are kept, every later one
 * has each value `other` (one warning says so), and a value over MAX_ATTRIBUTE_LENGTH is `other`.
 * A key carbonscope or Prometheus uses, or named for a secret (a token, a cookie), is a TypeError.
 */
export function setAttributes(
  req: AttributableRequest,
  attributes: Readonly<Record<string, string>>,
): void {
  if (typeof req !== 'object' || req === null) {
    throw new TypeError(`setAttributes(): the request must be an object (got ${typeOf(req)})`);
  }
  sets ??= new AttributeSets({
    capacity: MAX_ATTRIBUTE_SETS,
    maxValueLength: MAX_ATTRIBUTE_LENGTH,
    onRefused: tellRefused,
  });
  (nodeRequestOf(req) as Attributed)[ATTRIBUTES] = sets.of(attributes, 'setAttributes()');
}

/**
 * The object request tracking reads: Node's request (Express's is it), or the one a framework's
 * own request wraps. Given Fastify's `request` or Koa's `ctx` for the Node request inside (a
 * handler has those at hand), the attributes went on an object nothing reads, without a word.
 */
function nodeRequestOf(target: object): object {
  if (target instanceof nodeHttp.IncomingMessage) return target;
  // Fastify's request, or hapi's, whose `raw` holds `req` and `res`.
  const raw: unknown = Reflect.get(target, 'raw');
  if (typeof raw === 'object' && raw !== null) {
    const inner: unknown = Reflect.get(raw, 'req');
    return typeof inner === 'object' && inner !== null ? inner : raw;
  }
  // Koa's ctx, or its ctx.request.
  const req: unknown = Reflect.get(target, 'req');
  return typeof req === 'object' && req !== null ? req : target;
}

/**
 * Gives `req` its attributes slot, empty, as tracking begins (see reserveRoute), in an app that
 * never calls setAttributes too: V8 sizes a request from its first few, so a slot reserved from
 * the start sits in the request's own room (no allocation; one more field). Reserved only from
 * the first call on, a call after the first few hundred requests (a readiness probe's) left no
 * room: each request then allocated a property array as it ended (Node 20 and 24, %DebugPrint).
 */
export function reserveAttributes(req: IncomingMessage): void {
  (req as Attributed)[ATTRIBUTES] = undefined;
}

/**
 * The attributes given to `req`, read as it ends (see namedRoute for the two reads). `shaped`:
 * whether `req` still has Node's prototype, where the caller asked already.
 */
export function attributesOf(
  req: IncomingMessage,
  shaped = nodeShaped(req, REQUEST_PROTOTYPE),
): OperationAttributes | undefined {
  return shaped ? (req as Attributed)[ATTRIBUTES] : lookUp<OperationAttributes>(req, ATTRIBUTES);
}

/** The same on an HTTP/2 compat request or core stream, never Node's IncomingMessage. */
export function attributesOfHttp2(target: object): OperationAttributes | undefined {
  return lookUp<OperationAttributes>(target, ATTRIBUTES);
}

function tellRefused(reason: RefusalReason): void {
  defaultLogger(process.env).warn(
    reason === 'capacity'
      ? `setAttributes(): more than ${MAX_ATTRIBUTE_SETS} distinct attribute sets; every new one is counted with each value 'other' from now on (are the values built from input?)`
      : `setAttributes(): a value longer than ${MAX_ATTRIBUTE_LENGTH} characters is counted as 'other'`,
  );
}
