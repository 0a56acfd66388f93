import type { Resource } from '@opentelemetry/resources';

type Resources = typeof import('@opentelemetry/resources');

/** The service.name of the command's pushes where neither variable names one. */
export const CLI_SERVICE_NAME = 'carbonscope-cli';

/**
 * The resource of `--otlp` pushes, as the OTel SDK makes one: its telemetry.sdk.*, then
 * `carbonscope-cli`, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (the SDK's env
 * detector: what the deployer set on every process reaches these series too), then the run's
 * own `attributes`, which win: its id is its service.instance.id, so that two runs at once stay
 * two series even where the variable sets one instance for every process.
 */
export function pushResource(resources: Resources, attributes: Record<string, string>): Resource {
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': CLI_SERVICE_NAME }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
    .merge(resources.resourceFromAttributes(attributes));
}
