import type { Resource } from '@opentelemetry/resources';

type Resources = typeof import('@opentelemetry/resources');

/**
 * A resource as the OTel SDK makes one, for the providers carbonscope starts itself (register's
 * own, the CLI's `--otlp`): the SDK's telemetry.sdk.*, then `defaults`, then what
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME set (the SDK's env detector, so that what a
 * deployer sets on every process reaches these series too), then `own`, which wins over all.
 * `resources` is the module the caller loaded (optional-sdk), not this package's import.
 */
export function sdkResource(
  resources: Resources,
  defaults: Record<string, string>,
  own: Record<string, string> = {},
): Resource {
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes(defaults))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
    .merge(resources.resourceFromAttributes(own));
}
