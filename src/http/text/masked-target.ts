import { withoutCredentials } from 'carbonscope';

/**
 * An `@`, raw or percent-encoded (`%40`, `%2540`): what a path needs to hold the userinfo of a
 * URL nested in it (`/redirect/http://u:pw@idp/`).
 */
const MAY_NEST_USERINFO = /@|%(?:25)*40/i;

/**
 * Whether `path` may hold a credential: a matrix parameter (`;token=`, which servlet containers
 * and Spring read) or the userinfo of a nested URL. One without is not parsed: it runs on every
 * request (its log line, its span).
 */
export function pathMayHoldCredentials(path: string): boolean {
  return path.includes(';') || MAY_NEST_USERINFO.test(path);
}

/** A base for a request target alone: withoutCredentials reads whole URLs. */
const BASE = 'http://h';

/**
 * A request target (a path, a query after it) with its credentials written `[redacted]`, as the
 * library masks a URL everywhere else: secret-named parameters, the userinfo of nested URLs.
 */
export function maskedTarget(target: string): string {
  return withoutCredentials(`${BASE}${target}`).slice(BASE.length);
}
