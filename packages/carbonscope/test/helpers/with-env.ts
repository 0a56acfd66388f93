/**
 * `read()` under `env` set in process.env, as the OTel SDK reads its variables, and the former
 * values put back after (a variable unset before is deleted again).
 */
export function withEnv<T>(env: Record<string, string>, read: () => T): T {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return read();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
