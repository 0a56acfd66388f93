import type { IncomingMessage } from 'node:http';
import { typeOf } from '../argument-checks.js';
import { AttributeSets, type OperationAttributes } from '../labels/attribute-sets.js';
import type { RefusalReason } from '../labels/index.js';
import { nodeHttp } from '../node-http.js';
import { defaultLogger } from '../runtime/default-logger.js';
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

type Attributed = IncomingMessage & { [ATTRIBUTES]?: OperationAttributes };

// One for the process, as the metrics it bounds are: made at the first setAttributes() only.
let sets: AttributeSets | undefined;

/**
 * Gives the request's energy these attributes (`{ 'app.tenant': 'acme' }`): its operation
 * histograms' series and its server span carry them, besides its route. Up to four string
 * values, under keys of letters, digits, `_` and `.`; a later call replaces an earlier one's.
 * Bounded for the process: the first MAX_ATTRIBUTE_SETS distinct sets are kept, every later one
 * has each value `other` (one warning says so), and a value over MAX_ATTRIBUTE_LENGTH is `other`.
 * A key carbonscope or Prometheus uses, or named for a secret (a token, a cookie), is a TypeError.
 */
export function setAttributes(req: RoutableRequest, attributes: Readonly<Record<string, string>>) {
  if (typeof req !== 'object' || req === null) {
    throw new TypeError(`setAttributes(): the request must be an object (got ${typeOf(req)})`);
  }
  sets ??= new AttributeSets({
    capacity: MAX_ATTRIBUTE_SETS,
    maxValueLength: MAX_ATTRIBUTE_LENGTH,
    onRefused: tellRefused,
  });
  (req as Attributed)[ATTRIBUTES] = sets.of(attributes, 'setAttributes()');
}

/** Gives `req` its attributes slot, empty, as tracking begins: see reserveRoute. */
export function reserveAttributes(req: IncomingMessage): void {
  (req as Attributed)[ATTRIBUTES] = undefined;
}

/** The attributes given to `req`, read as it ends (see namedRoute for the two reads). */
export function attributesOf(req: IncomingMessage): OperationAttributes | undefined {
  return nodeShaped(req, REQUEST_PROTOTYPE)
    ? (req as Attributed)[ATTRIBUTES]
    : lookUp<OperationAttributes>(req, ATTRIBUTES);
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
