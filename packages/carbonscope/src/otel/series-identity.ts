import type { Attributes, MeterProvider } from '@opentelemetry/api';

// `service.instance.id` is semconv "development"; its key is stable across versions.
export const SERVICE_INSTANCE_ID = 'service.instance.id';

/** The resource as an SDK MeterProvider (sdk-metrics 1.x to 2.x) keeps it, as far as read here. */
interface KeptResource {
  attributes?: Attributes;
  asyncAttributesPending?: boolean;
}

/**
 * The resource of an SDK MeterProvider, where it can be read now: sdk-metrics 1.x to 2.x keep
 * it in `_sharedState`, which the API does not show; undefined for any other provider, or while
 * a detector's attributes are still to come (reading them then is an error line of the SDK's).
 */
function resourceOf(provider: MeterProvider): KeptResource | undefined {
  const state = (provider as { _sharedState?: { resource?: KeptResource } })._sharedState;
  const resource = state?.resource;
  if (!resource || resource.asyncAttributesPending === true) return undefined;
  return resource;
}

/**
 * Whether `provider` pushes carbonscope's figures into the series its own provider pushed
 * under `instance` (that service.instance.id), or starts series of its own: a collector tells
 * them by the resource, and its Prometheus exporter by `instance`. Its resource read where it
 * can be; else the id is shared only where the environment pinned it (OTEL_RESOURCE_ATTRIBUTES,
 * which NodeSDK reads too): carbonscope's own is random.
 */
export function continuesSeries(provider: MeterProvider, instance: string, pinned: boolean) {
  const resource = resourceOf(provider);
  if (!resource) return pinned;
  return resource.attributes?.[SERVICE_INSTANCE_ID] === instance;
}
