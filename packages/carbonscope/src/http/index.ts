export {
  EarlyRequestWatch,
  earlyRequestsText,
  tellEarlyRequests,
  watchEarlyRequests,
} from './early-requests.js';
export { GRPC_SERVER_ERRORS, GRPC_STATUS_NAMES } from './grpc-status.js';
export { routeOf } from './named-route.js';
export {
  type AttributableRequest,
  MAX_ATTRIBUTE_LENGTH,
  MAX_ATTRIBUTE_SETS,
  setAttributes,
} from './request-attributes.js';
export {
  httpFactsReader,
  httpMethodLabel,
  KNOWN_HTTP_METHODS,
  OTHER_HTTP_METHOD,
} from './request-facts.js';
export {
  REQUEST_OPERATION,
  type RequestTracking,
  type RequestTrackingOptions,
  type TrackableServer,
  trackHttpRequests,
} from './request-tracking.js';
export {
  MAX_ROUTE_LENGTH,
  type RoutableRequest,
  setRoute,
  UNMATCHED_ROUTE,
} from './route.js';
