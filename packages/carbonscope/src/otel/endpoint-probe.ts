import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';

/** Long enough for a loopback or host address to answer; a refusal comes at once. */
const PROBE_MS = 1000;

/** Whether anything accepts a connection at `address`: one attempt, bounded, nothing sent. */
export function acceptsConnections(address: AddressInfo): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.address, port: address.port });
    const end = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(PROBE_MS, () => end(false));
    socket.once('connect', () => end(true));
    socket.once('error', () => end(false));
    socket.unref();
  });
}
