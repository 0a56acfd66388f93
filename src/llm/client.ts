import type { Meter } from '@opentelemetry/api';
import {
  type Catalog,
  DeadlineError,
  type Impacts,
  LlmError,
  llmImpacts,
  maskableSecret,
  messageOf,
  redactionList,
  type StatusMessage,
  splitBaseUrl,
  urlSecrets,
  withDeadline,
} from 'carbonscope';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import { firstCodePoints, ShutdownCutError, wellFormed } from '../http/index.js';
import type { Logger } from '../logger.js';
import { redactSecrets } from '../logger.js';
import { boundedRetryFetch } from './bounded-retry-fetch.js';
import { cappedBodyFetch, MAX_ANSWER_BYTES, OversizedAnswerError } from './capped-body-fetch.js';
import { checkLlmSettings } from './check-settings.js';
import { labelledAnswerFetch } from './labelled-answer-fetch.js';
import { createLlmMetrics, type LlmMetrics } from './metrics.js';
import { mockNotice } from './mock-fingerprint.js';
import { scrubbedErrorFetch } from './scrubbed-error-fetch.js';
import { estimateTokens, implausibleUsage, MAX_REPORTED_TOKENS } from './tokens.js';
import { unredirectedFetch } from './unredirected-fetch.js';

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /**
   * A catalog model, `provider/model` or a bare name (the default provider's, else the one
   * provider's that has it); sent upstream as written. The configured default when absent.
   */
  model?: string;
  /**
   * Aborted when the answer is no longer wanted (the request's client went away, the shutdown
   * cut it): the upstream call is cancelled and complete() rejects with the signal's reason.
   * Nothing is recorded of a cancelled call: what it generated before the cancel is unknown.
   */
  signal?: AbortSignal;
}

export interface ChatImpacts extends Impacts {
  /** The electricity-mix zone the usage impacts were computed with. */
  zone: string;
  warnings: StatusMessage[];
}

export interface ChatResult {
  id: string;
  /** The provider and catalog name of the model the impacts were computed for. */
  provider: string;
  model: string;
  /** The model name the API reported (may carry a version suffix). */
  upstreamModel: string;
  /**
   * The completion. `refusal` is the model's reason where it declined (OpenAI's field, its
   * `content` then null): only where the upstream gave it as text.
   */
  message: { role: 'assistant'; content: string; refusal?: string };
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
  /** Wall time of the API call as measured here, s (retries included). */
  latencySeconds: number;
  impacts: ChatImpacts;
}

/** What the /chat route needs: a chat completion and its estimated impacts. */
export interface ChatService {
  /** The provider of bare model names that it has (LLM_PROVIDER). */
  readonly provider: string;
  /** The default model as `provider/model`. */
  readonly defaultModel: string;
  /** Every model the impact data knows, as `provider/model` (what the route accepts). */
  models(): string[];
  complete(request: ChatRequest): Promise<ChatResult>;
}

export interface ChatServiceOptions {
  /** Base URL as the openai client takes it, e.g. http://127.0.0.1:8002/v1. */
  baseUrl: string;
  apiKey: string | undefined;
  provider: string;
  defaultModel: string;
  /** A user-chosen electricity-mix zone (alpha-3); the provider's own otherwise. */
  electricityMixZone?: string;
  timeoutMs: number;
  /** Retries of a failed call; kept small so a failing upstream is not hammered. */
  maxRetries?: number;
  catalog: Catalog;
  meter: Meter;
  logger: Logger;
}

/** A token count an upstream reported, or undefined when it is missing or not a count. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= MAX_REPORTED_TOKENS
    ? value
    : undefined;
}

type CountName = 'prompt' | 'completion';

/** A count that is no count, as a warning quotes it: a number as it is, anything else by its type. */
function shownCount(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Why token counts were estimated: an implausible usage (none of it believed), or, for each count
 * not usable, whether it was missing or what it was instead (a fraction, a string), since "no
 * token usage" misled where the upstream sent counts this could not use.
 */
function usageWarning(
  believed: boolean,
  sent: Record<CountName, unknown>,
  reported: Record<CountName, number | undefined>,
): string {
  const estimate = 'estimated at ~4 characters a token';
  if (!believed) {
    return `the LLM service reported an implausible token usage (over ${MAX_REPORTED_TOKENS} tokens): counts are ${estimate}`;
  }
  const unusable = (['prompt', 'completion'] as const).filter((n) => reported[n] === undefined);
  const estimated = unusable.length === 2 ? `counts are ${estimate}` : `it is ${estimate}`;
  const missing = unusable.filter((n) => sent[n] === undefined || sent[n] === null);
  if (missing.length === 2) return `the LLM service reported no token usage: ${estimated}`;
  const wrong = unusable.filter((n) => !missing.includes(n));
  const values = wrong.map((n) => shownCount(sent[n])).join(', ');
  const parts = [
    ...(wrong.length === 2
      ? [`prompt and completion token counts that are not whole numbers (${values})`]
      : wrong.map((n) => `a ${n} token count that is not a whole number (${values})`)),
    ...missing.map((n) => `no ${n} token count`),
  ];
  return `the LLM service reported ${parts.join(' and ')}: ${estimated}`;
}

/**
 * The fetch the OpenAI client calls the upstream with. LLM_TIMEOUT_MS bounds the whole call
 * (withDeadline); a Retry-After beyond half of it is not waited for at all, so no sleeping retry
 * outlives the request.
 */
export function upstreamFetch(timeoutMs: number, secrets: readonly string[]): typeof fetch {
  return boundedRetryFetch(
    timeoutMs / 2,
    scrubbedErrorFetch(
      secrets,
      labelledAnswerFetch(secrets, cappedBodyFetch(MAX_ANSWER_BYTES, unredirectedFetch())),
    ),
  );
}

/**
 * The base URL as the client takes it: its own query (Azure's `?api-version=`, a proxy's
 * `?token=`) as defaultQuery, for the client appends its path to the base URL as text, which
 * put `/chat/completions` inside that query and posted every chat to the base path.
 */
function clientUrl(baseUrl: string): { baseURL: string; defaultQuery?: Record<string, string> } {
  const { base, query } = splitBaseUrl(baseUrl);
  if (query === '') return { baseURL: baseUrl };
  return { baseURL: base, defaultQuery: Object.fromEntries(new URLSearchParams(query)) };
}

/** Sent when no key is configured: the bundled mock ignores it, a real API rejects it clearly. */
const NO_KEY = 'no-key-configured';

export function createChatService(options: ChatServiceOptions): ChatService {
  const { catalog, provider, logger, electricityMixZone: zone } = options;
  // Fail at start-up, naming the setting that is wrong, rather than on the first request.
  const fallback = checkLlmSettings(catalog, options);
  if (!catalog.hasProvider(fallback.provider)) {
    logger.warn(
      { provider: fallback.provider },
      'no data-centre figures for this LLM provider: using the world mix',
    );
  }
  // With its JSON-escaped form: an upstream error without a message is quoted as its JSON. The
  // base URL's own secrets too (a proxy's ?token=): an upstream that echoes the URL gave them out.
  const key = maskableSecret(options.apiKey) ? [options.apiKey] : [];
  const secrets = redactionList([...key, ...urlSecrets(options.baseUrl)]);
  const client = new OpenAI({
    ...clientUrl(options.baseUrl),
    apiKey: options.apiKey ?? NO_KEY,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries ?? 1,
    fetch: upstreamFetch(options.timeoutMs, secrets),
    logLevel: 'off',
  });
  const metrics: LlmMetrics = createLlmMetrics(options.meter);

  const complete = async (request: ChatRequest): Promise<ChatResult> => {
    const model = request.model ?? options.defaultModel;
    const entry = catalog.resolveModel(model, provider);
    const started = performance.now();
    let response: OpenAI.Chat.Completions.ChatCompletion;
    try {
      response = await withDeadline(
        options.timeoutMs,
        (signal) =>
          client.chat.completions.create({ model, messages: request.messages }, { signal }),
        request.signal,
      );
    } catch (err) {
      if (request.signal?.aborted) {
        // The caller's doing, not the upstream's: no 504, and no line where alerts look.
        logger.info(
          { model, waitedMs: Math.round(performance.now() - started) },
          request.signal.reason instanceof ShutdownCutError
            ? 'LLM call cancelled: the shutdown cut the request'
            : 'LLM call cancelled: the client went away',
        );
        throw request.signal.reason;
      }
      throw upstreamError(err, options.timeoutMs, secrets, logger);
    }
    const latencySeconds = (performance.now() - started) / 1000;
    // The body is whatever the upstream sent, typed or not: null, a number, content that is no text.
    // Choices that are no list (an object keyed "0") and a message that is no object (text, an
    // array) are no completion either: read as one, they were a 200.
    const choice = Array.isArray(response?.choices) ? response.choices[0] : undefined;
    const message: unknown = choice?.message;
    if (!choice || typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw noCompletion(response, secrets, logger);
    }
    const content: unknown = choice.message.content ?? '';
    if (typeof content !== 'string') {
      throw new LlmError(
        502,
        'upstream_invalid',
        'the LLM service answered with content that is not text',
      );
    }
    // An empty refusal says nothing: left out, as one that is no text.
    const refusal: unknown = choice.message.refusal;
    const declined = typeof refusal === 'string' && refusal !== '' ? refusal : undefined;
    const warnings: StatusMessage[] = [];
    const mock = mockNotice(response.system_fingerprint);
    if (mock) warnings.push(mock);
    const believed = !implausibleUsage(response.usage);
    // What the upstream sent, typed or not: a warning says what was wrong with a count.
    const sent: Record<CountName, unknown> = {
      prompt: response.usage?.prompt_tokens,
      completion: response.usage?.completion_tokens,
    };
    const reported = {
      prompt: believed ? tokenCount(sent.prompt) : undefined,
      completion: believed ? tokenCount(sent.completion) : undefined,
    };
    let { prompt: promptTokens, completion: completionTokens } = reported;
    if (promptTokens === undefined || completionTokens === undefined) {
      // Without usage the method still needs a token count: estimate it from the text, say so.
      const warning = usageWarning(believed, sent, reported);
      promptTokens ??= request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
      // A refusal is generated text as the content is: its tokens were spent.
      completionTokens ??= estimateTokens(declined === undefined ? content : content + declined);
      warnings.push({ code: 'usage-estimated', message: warning });
    }
    const impacts = llmImpacts(catalog, {
      provider: entry.provider,
      model: entry.name,
      outputTokens: completionTokens,
      requestLatencySeconds: latencySeconds,
      zone,
    });
    // Unreachable: the model was resolved and the zone checked at start-up.
    if (impacts.errors) throw new LlmError(400, 'no_estimate', impacts.errors[0].message);
    // The token histogram gets only what the upstream counted; the impacts need a count, guessed or not.
    metrics.record(entry.provider, entry.name, reported, impacts, mock !== undefined);
    const { zone: usedZone, warnings: estimateWarnings, errors: _, ...figures } = impacts;
    // Text fields pass on only as well-formed text, and never with the key: a gateway that
    // echoes request headers would otherwise hand it to every /chat client.
    const text = (value: unknown) =>
      typeof value === 'string' ? wellFormed(redactSecrets(value, secrets)) : '';
    return {
      id: text(response.id),
      provider: entry.provider,
      model: entry.name,
      upstreamModel: text(response.model),
      message:
        declined === undefined
          ? { role: 'assistant', content: text(content) }
          : { role: 'assistant', content: text(content), refusal: text(declined) },
      finishReason: typeof choice.finish_reason === 'string' ? text(choice.finish_reason) : null,
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      latencySeconds,
      impacts: { ...figures, zone: usedZone, warnings: [...(estimateWarnings ?? []), ...warnings] },
    };
  };

  return {
    provider,
    defaultModel: `${fallback.provider}/${fallback.name}`,
    models: () => catalog.modelIds(),
    complete,
  };
}

/** Text from an upstream, fit to log or show: no key, well-formed, and short (no pair cut). */
const safeText = (text: string, secrets: readonly string[]) =>
  firstCodePoints(wellFormed(redactSecrets(text, secrets)), 300);

/** The message of OpenAI's error object (`{error: {message}}` or `{error: "..."}`), if the body has one. */
function errorMessageOf(body: unknown): string | undefined {
  const error: unknown = body && typeof body === 'object' ? Reflect.get(body, 'error') : undefined;
  if (typeof error === 'string') return error;
  const message: unknown =
    error && typeof error === 'object' ? Reflect.get(error, 'message') : undefined;
  return typeof message === 'string' ? message : undefined;
}

/**
 * A 200 without a completion. Some gateways answer an upstream failure (quota, unknown model)
 * with a 200 and OpenAI's error object: its message says more than "no completion" would, to the
 * client as a 4xx's does and to the log as every upstream fault is.
 */
function noCompletion(body: unknown, secrets: readonly string[], logger: Logger): LlmError {
  const message = errorMessageOf(body);
  if (message === undefined) {
    logger.warn('LLM service answered without a completion');
    return new LlmError(502, 'upstream_invalid', 'the LLM service answered without a completion');
  }
  const reason = safeText(message, secrets);
  logger.warn({ status: 200, reason }, 'LLM service answered with an error');
  return new LlmError(
    502,
    'upstream_error',
    `the LLM service answered status 200 with an error: ${reason}`,
  );
}

/** Maps the openai client's errors to 502/504 with messages safe to show (no key, no body dump). */
function upstreamError(
  err: unknown,
  timeoutMs: number,
  secrets: readonly string[],
  logger: Logger,
): LlmError {
  const safe = (text: string) => safeText(text, secrets);
  if (
    err instanceof APIConnectionTimeoutError ||
    err instanceof DeadlineError ||
    err instanceof APIUserAbortError
  ) {
    logger.warn({ timeoutMs }, 'LLM request timed out');
    return new LlmError(
      504,
      'upstream_timeout',
      `the LLM service did not answer within ${timeoutMs} ms`,
    );
  }
  if (err instanceof OversizedAnswerError) {
    logger.warn(
      { maxBytes: err.maxBytes },
      'LLM service answered with more than an answer may have',
    );
    return new LlmError(502, 'upstream_invalid', err.message);
  }
  if (err instanceof APIConnectionError) {
    logger.warn({ reason: safe(err.message) }, 'LLM service unreachable');
    return new LlmError(502, 'upstream_unreachable', 'could not reach the LLM service');
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    if (status >= 300 && status < 400) {
      logger.warn({ status }, 'LLM service answered with a redirect, not followed');
      return new LlmError(
        502,
        'upstream_error',
        `the LLM service answered with a redirect (status ${status}), not followed`,
      );
    }
    logger.warn({ status, reason: safe(err.message) }, 'LLM service answered with an error');
    // Client-side errors upstream (bad key, unknown model) carry a message worth passing on.
    const detail = status >= 400 && status < 500 ? `: ${safe(err.message)}` : '';
    return new LlmError(
      502,
      'upstream_error',
      `the LLM service answered with status ${status}${detail}`,
    );
  }
  logger.warn({ reason: safe(messageOf(err)) }, 'LLM call failed');
  return new LlmError(
    502,
    'upstream_invalid',
    'the LLM service gave an answer that is not a chat completion',
  );
}
