import { typeOf } from '../argument-checks.js';
import { shownValue } from '../shown-value.js';
import type { Catalog } from './catalog.js';
import { computeImpacts, type Impacts } from './impacts.js';
import { modelNotRegistered, type StatusMessage, warning, zoneNotRegistered } from './status.js';

export interface ImpactsRequest {
  provider: string;
  /** The model's name for that provider (no provider prefix). */
  model: string;
  outputTokens: number;
  /** Measured request latency, s; undefined when unknown (counts as infinite). */
  requestLatencySeconds?: number;
  /** An alpha-3 electricity-mix zone over the provider's own. */
  zone?: string;
}

/** An estimate, with its warnings (null when none, as EcoLogits gives them). */
export interface EstimatedImpacts extends Impacts {
  /** The electricity-mix zone the usage impacts were computed with. */
  zone: string;
  warnings: StatusMessage[] | null;
  errors: null;
}

/** No estimate: why, as EcoLogits' error codes. */
export interface FailedImpacts {
  energy: null;
  gwp: null;
  adpe: null;
  pe: null;
  wcf: null;
  usage: null;
  embodied: null;
  warnings: null;
  errors: StatusMessage[];
}

export type ImpactsOutput = EstimatedImpacts | FailedImpacts;

/** An output with no estimate, only the error that explains why. */
export function failed(error: StatusMessage): FailedImpacts {
  return {
    energy: null,
    gwp: null,
    adpe: null,
    pe: null,
    wcf: null,
    usage: null,
    embodied: null,
    warnings: null,
    errors: [error],
  };
}

/**
 * A JavaScript caller's provider, model or zone that is not a string: told by name, where it
 * read as the model "undefined" not found, or the zone 5.
 */
function checkNames(request: ImpactsRequest): void {
  const names: Array<[string, unknown]> = [
    ['provider', request.provider],
    ['model', request.model],
  ];
  // null, JSON's "not set" (as for the latency), leaves the provider's own zone, as it always did.
  if (request.zone !== undefined && request.zone !== null) names.push(['zone', request.zone]);
  for (const [field, value] of names) {
    if (typeof value !== 'string') {
      throw new TypeError(
        `${field}: expected a string, got ${shownValue(value)} (${typeof value})`,
      );
    }
  }
}

/**
 * The impacts of one LLM request as EcoLogits' `llm_impacts` gives them: an unknown model
 * (or provider) or zone is an error in the output, not an exception; warnings come from the
 * model, then the provider when it has no figures of its own, then the mix, each code once.
 */
export function llmImpacts(catalog: Catalog, request: ImpactsRequest): ImpactsOutput {
  // Named here: a JavaScript caller's null failed as "Cannot read properties of null".
  if (typeof (catalog as Partial<Catalog> | null)?.findModel !== 'function') {
    throw new TypeError("llmImpacts(): the catalog must be loadCatalog()'s");
  }
  if (typeof request !== 'object' || request === null) {
    const got = typeOf(request);
    throw new TypeError(
      `llmImpacts(): the request must be { provider, model, outputTokens, ... } (got ${got})`,
    );
  }
  checkNames(request);
  const model = catalog.findModel(request.provider, request.model);
  if (!model) return failed(modelNotRegistered(request.provider, request.model));
  const dc = catalog.dataCenter(model.provider);
  const zone = request.zone ?? dc.zone;
  const mix = catalog.findMix(zone);
  if (!mix) return failed(zoneNotRegistered(zone));

  const impacts = computeImpacts({
    architecture: model.architecture,
    outputTokens: request.outputTokens,
    requestLatencySeconds: request.requestLatencySeconds,
    deployment: model.deployment,
    dataCenter: dc.dataCenter,
    mix,
  });
  const warnings: StatusMessage[] = [];
  const add = (w: StatusMessage) => {
    if (!warnings.some((known) => known.code === w.code)) warnings.push(w);
  };
  for (const code of model.warnings) add(warning(code));
  if (dc.warning) add(dc.warning);
  for (const code of mix.warnings) add(warning(code));
  return { ...impacts, zone, warnings: warnings.length ? warnings : null, errors: null };
}
