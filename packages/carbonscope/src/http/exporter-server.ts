import type { Server } from 'node:http';
import { callsMethods } from './frameworks/index.js';

/**
 * Whether `server` is an OTel PrometheusExporter's own (exporter-prometheus 0.2xx and 0.3xx
 * create it with their request handler as its one `request` listener): its scrapes are no
 * request of the application's. Told by the handler's source, not by the exporter: register
 * reaches the application's exporter only once it joins its SDK, at its first sample, which a
 * long start puts seconds after the exporter listens. Asked once per server.
 */
export function isPrometheusExporterServer(server: Server): boolean {
  const listeners = server.listeners('request');
  return listeners.length === 1 && callsMethods(listeners[0], ['._exportMetrics(', '._notFound(']);
}
