import type { Resource } from '@opentelemetry/resources';
import { sdkResource } from '../otel/sdk-resource.js';

/** The service.name of the command's pushes where neither variable names one. */
export const CLI_SERVICE_NAME = 'carbonscope-cli';

/**
 * The resource of `--otlp` pushes, as the OTel SDK makes one, the run's own `attributes` last:
 * its id is its service.instance.id, so that two runs at once stay two series even where
 * OTEL_RESOURCE_ATTRIBUTES sets one instance for every process.
 */
export function pushResource(
  resources: typeof import('@opentelemetry/resources'),
  attributes: Record<string, string>,
): Resource {
  return sdkResource(resources, { 'service.name': CLI_SERVICE_NAME }, attributes);
}
