import type { MeterProvider } from '@opentelemetry/api';
import type { Carbonscope } from '../runtime/index.js';
import { type BindMetricsOptions, bindMetrics } from './binding/index.js';
import { SCOPE } from './scope.js';

/** Binds a Carbonscope's instruments to a provider's carbonscope meter; gives back the detach. */
export type ProviderBinder = (
  provider: MeterProvider,
  cs: Carbonscope,
  options: BindMetricsOptions,
) => () => void;

/**
 * This copy's binder. The process's one Carbonscope keeps the binder of the copy of the package
 * that made it (see default.ts): bindMetrics reads the instance's insides, which only the code
 * of its own version knows, and its meter is named with that version.
 */
export const bindToProvider: ProviderBinder = (provider, cs, options) =>
  bindMetrics(provider.getMeter(SCOPE.name, SCOPE.version), cs, options);
