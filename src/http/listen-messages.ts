import { isIPv6 } from 'node:net';

/** Where a server was asked to listen, and the variable that sets its port. */
export interface ListenTarget {
  host: string;
  port: number;
  portVariable: string;
}

/** What a failed listen means to the person who started the service (or the mock LLM). */
export function listenFailure(err: NodeJS.ErrnoException, target: ListenTarget): string {
  const { host, port, portVariable } = target;
  if (err.code === 'EADDRINUSE') {
    return `port ${port} is in use: stop the other process or set ${portVariable}`;
  }
  if (err.code === 'EACCES') {
    return `port ${port} needs privileges: choose a port above 1023 with ${portVariable}`;
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return `address ${host} is not available on this machine: set HOST`;
  }
  // A name (or a malformed address, 999.1.1.1) that the resolver finds nothing for.
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return `address ${host} cannot be resolved: set HOST to an address of this machine`;
  }
  return `could not listen on ${host}:${port}: ${err.message}`;
}

/** The URL a server listening on `host` and `port` answers at, for the log. */
export function listenUrl(host: string, port: number): string {
  // An IPv6 address goes in brackets in a URL (RFC 3986), or its colons run into the port's.
  return isIPv6(host) ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
