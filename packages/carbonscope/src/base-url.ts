/**
 * A path's trailing slashes, with the character before them (group 1, put back): `\/+$` alone
 * ran from each slash of a run to its end, quadratic (196 ms on 16 KiB of slashes before `x/`).
 */
export const TRAILING_SLASHES = /([^/])\/+$|^\/+$/;

/**
 * A base URL (`ELECTRICITY_MAPS_BASE_URL`, `LLM_BASE_URL`, a Prometheus') as its path and its
 * own query: a proxy in front of the API may take a key in the query (`?token=`), or Azure its
 * `?api-version=`, which must follow the path the caller appends, not precede it. The path
 * without its trailing slashes, which the appended path brings; a fragment is never sent.
 */
export function splitBaseUrl(baseUrl: string): { base: string; query: string } {
  const withoutFragment = baseUrl.split('#')[0];
  const at = withoutFragment.indexOf('?');
  const base = at === -1 ? withoutFragment : withoutFragment.slice(0, at);
  return {
    base: base.replace(TRAILING_SLASHES, '$1'),
    query: at === -1 ? '' : withoutFragment.slice(at + 1),
  };
}

/** `<base path><path>?<the base URL's own query&><query>`, each query as written. */
export function joinedUrl(baseUrl: string, path: string, query = ''): string {
  const { base, query: own } = splitBaseUrl(baseUrl);
  const both = [own, query].filter((part) => part !== '').join('&');
  return `${base}${path}${both ? `?${both}` : ''}`;
}

/** A path segment that names an API version (`v3`, `V2`). */
const VERSION_SEGMENT = /^v\d+$/i;

/**
 * Whether a base URL's path names no API version: `https://api.electricitymap.org`, a proxy's
 * root. False for one that does not parse (refused where it is read) and for one that names any
 * (`/v3`, `/em/v4`): a proxy may map its own paths, so only the version's absence is a hint.
 */
export function lacksVersionSegment(baseUrl: string): boolean {
  const { base } = splitBaseUrl(baseUrl);
  if (!URL.canParse(base)) return false;
  return !new URL(base).pathname.split('/').some((segment) => VERSION_SEGMENT.test(segment));
}
