import { quotedText } from '../shown-value.js';

/**
 * Errors of the LLM area. Each carries the HTTP status a route should answer with and a short
 * machine code; `expose` lets the app's error handler show the message, which is written for
 * the client and never holds a secret.
 */
export class LlmError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

/** "Did you mean a or b?" for what a mistyped name was probably meant to be; '' for nothing. */
export function didYouMean(similar: readonly string[]): string {
  return similar.length ? `Did you mean ${similar.join(' or ')}?` : '';
}

/** A model the impact data does not know (400 on a request, a start-up error in settings). */
export class UnknownModelError extends LlmError {
  constructor(
    readonly model: string,
    readonly provider: string | undefined,
    known: readonly string[],
    /** Models the id names but for case or surrounding space. */
    readonly similar: readonly string[] = [],
  ) {
    const where =
      provider === undefined
        ? ' for any provider'
        : ` for provider ${quotedText(provider)} or any other provider`;
    const list = known.length ? `; known models include ${known.join(', ')}` : '';
    super(
      400,
      'unknown_model',
      `unknown model ${quotedText(model)}${where}${list} (name it as provider/model)${similar.length ? `. ${didYouMean(similar)}` : ''}`,
    );
    this.name = 'UnknownModelError';
  }
}

/** A bare model name that several providers have: the client must name the provider. */
export class AmbiguousModelError extends LlmError {
  constructor(
    readonly model: string,
    readonly candidates: readonly string[],
  ) {
    super(
      400,
      'ambiguous_model',
      `model ${quotedText(model)} is ambiguous: name one of ${candidates.join(', ')}`,
    );
    this.name = 'AmbiguousModelError';
  }
}

/** An electricity-mix zone without data. */
export class UnknownZoneError extends LlmError {
  constructor(readonly zone: string) {
    super(
      400,
      'unknown_zone',
      `unknown electricity mix zone ${quotedText(zone)}; zones are ISO 3166-1 alpha-3 codes such as FRA, or WOR for the world`,
    );
    this.name = 'UnknownZoneError';
  }
}

/** A bad entry in a data file (bundled or the user's LLM_MODELS_FILE). */
export class ModelDataError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ModelDataError';
  }
}
