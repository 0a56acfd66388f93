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

/** A model the impact data does not know (400 on a request, a start-up error in settings). */
export class UnknownModelError extends LlmError {
  constructor(
    readonly provider: string,
    readonly model: string,
    known: readonly string[],
  ) {
    const list = known.length ? `; known models: ${known.join(', ')}` : '';
    super(400, 'unknown_model', `unknown model "${model}" for provider "${provider}"${list}`);
    this.name = 'UnknownModelError';
  }
}

/** An electricity-mix zone without data. */
export class UnknownZoneError extends LlmError {
  constructor(
    readonly zone: string,
    known: readonly string[],
  ) {
    super(
      400,
      'unknown_zone',
      `unknown electricity mix zone "${zone}"; known zones: ${known.join(', ')}`,
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
