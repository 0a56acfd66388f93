import type { Meter } from '@opentelemetry/api';
import { type Catalog, loadCatalog, ModelDataError, SettingsError } from 'carbonscope';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type ChatService, createChatService } from './client.js';
import { startMockLlm } from './mock-server.js';

export interface Llm {
  service: ChatService;
  /** The in-process mock's base URL when LLM_BASE_URL is unset. */
  mockUrl: string | undefined;
  /** Stops the in-process mock, if any. */
  close(): Promise<void>;
}

/** The bundled model data plus LLM_MODELS_FILE's; a fault of that file names the variable. */
function loadModelData(modelsFile: string | undefined): Catalog {
  try {
    return loadCatalog({ modelsFile });
  } catch (err) {
    if (err instanceof ModelDataError && modelsFile !== undefined && err.file === modelsFile) {
      throw new SettingsError('LLM_MODELS_FILE', err.message);
    }
    throw err;
  }
}

/**
 * The chat service from settings: the configured OpenAI-compatible API, or, when LLM_BASE_URL
 * is unset, the bundled mock started in-process on a loopback ephemeral port. Throws (naming the
 * model, zone or the bad entry of LLM_MODELS_FILE) when the impact data cannot serve the settings.
 */
export async function createLlm(options: {
  config: Pick<Config, 'llm'>;
  logger: Logger;
  meter: Meter;
}): Promise<Llm> {
  const { llm } = options.config;
  const logger = options.logger.child({ component: 'llm' });
  const catalog = loadModelData(llm.modelsFile);
  const mock = llm.baseUrl
    ? undefined
    : await startMockLlm({ host: '127.0.0.1', port: 0, latencyMs: llm.mockLatencyMs, logger });
  try {
    const service = createChatService({
      baseUrl: llm.baseUrl ?? `${mock?.url}/v1`,
      apiKey: llm.apiKey,
      provider: llm.provider,
      defaultModel: llm.model,
      electricityMixZone: llm.electricityMixZone,
      timeoutMs: llm.timeoutMs,
      catalog,
      meter: options.meter,
      logger,
    });
    return { service, mockUrl: mock?.url, close: async () => mock?.close() };
  } catch (err) {
    await mock?.close();
    throw err;
  }
}
export { CHAT_ROLES, type ChatMessage, type ChatResult, type ChatService } from './client.js';
