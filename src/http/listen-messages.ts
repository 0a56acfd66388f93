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
    // An IPv6 address in a URL's brackets is an address all the same: the brackets are the fault.
    const inner = host.slice(1, -1);
    const fix =
      host.startsWith('[') && isIPv6(inner)
        ? `write it without brackets (HOST=${inner})`
        : 'set HOST to an address of this machine';
    return `address ${host} cannot be resolved: ${fix}`;
  }
  return `could not listen on ${hostPort(host, port)}: ${err.message}`;
}

/** The URL a server listening on `host` and `port` answers at, for the log. */
export function listenUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}`;
}

/** `host:port`, an IPv6 host in brackets (RFC 3986), or its colons run into the port's. */
function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
