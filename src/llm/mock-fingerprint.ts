import type { StatusMessage } from 'carbonscope';

/** The `system_fingerprint` of every answer of the bundled mock, in-process or standalone. */
export const MOCK_FINGERPRINT = 'fp_carbonscope_mock';

const MOCK_NOTICE: StatusMessage = {
  code: 'mock-llm',
  message:
    'the bundled mock LLM answered: no model ran, so these are the impacts the named model would have had for these tokens and this latency',
};

/**
 * The warning an answer's impacts carry when the mock gave it, found by its fingerprint: behind
 * LLM_BASE_URL (the compose stack's mock service) the settings alone cannot tell.
 */
export function mockNotice(systemFingerprint: unknown): StatusMessage | undefined {
  return systemFingerprint === MOCK_FINGERPRINT ? MOCK_NOTICE : undefined;
}
