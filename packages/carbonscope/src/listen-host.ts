import { isIPv6 } from 'node:net';

/**
 * A host to listen on, read from a setting. An IPv6 address given in brackets, as a URL writes it
 * (`[::1]`, what the scraper is given), is taken without them: Node looks the bracketed form up
 * as a name, and the endpoint never opened (ENOTFOUND).
 */
export function listenHost(host: string): string {
  const inner = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIPv6(inner) ? inner : host;
}

/** `host:port` as a URL writes it: an IPv6 host in brackets, or its colons run into the port's. */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
