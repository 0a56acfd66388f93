import { VERSION } from '../version.js';

/** The instrumentation scope of every carbonscope instrument and histogram. */
export const SCOPE = { name: 'carbonscope', version: VERSION } as const;
