import { execFile } from 'node:child_process';

/**
 * A GPU's MIG mode as `nvidia-smi --query-gpu=mig.mode.current` gives it: `Enabled`, `Disabled`
 * (`[N/A]` on a GPU without MIG: disabled too), or unknown where nvidia-smi could not tell (an
 * older driver without the field, no answer in time).
 */
export type MigMode = 'enabled' | 'disabled' | 'unknown';

/** One query, once per run: no column of the power loop, whose every sample it would cost. */
export const MIG_QUERY_ARGS = [
  '--query-gpu=index,mig.mode.current',
  '--format=csv,noheader',
] as const;

/**
 * Each GPU's mode from the query's lines (`0, Disabled`); the CSV header (`index,
 * mig.mode.current, ...`), extra columns and lines that are no GPU's (an error) are passed over.
 */
export function parseMigModes(text: string): Map<number, MigMode> {
  const modes = new Map<number, MigMode>();
  for (const line of text.split('\n')) {
    // A bare comma, unlike the power loop's `, `: neither an index nor a mode holds one, no name
    // is asked for, and an extra column after the mode is passed over either way.
    const [index, mode] = line.split(',').map((field) => field.trim());
    if (!/^\d+$/.test(index ?? '') || mode === undefined) continue;
    const lower = mode.toLowerCase();
    if (lower === 'enabled') modes.set(Number(index), 'enabled');
    else if (lower === 'disabled' || /^\[?n\/a\]?$/.test(lower))
      modes.set(Number(index), 'disabled');
  }
  return modes;
}

/**
 * Asks nvidia-smi each GPU's MIG mode; never rejects: a GPU it did not answer for is missing
 * from the map (unknown). `timeoutMs` bounds a hung driver; on the H200 another query's first
 * line came 21.5 ms after its start (call1/stamp-piped.txt).
 */
export function queryMigModes(binary: string, timeoutMs: number): Promise<Map<number, MigMode>> {
  return new Promise((resolve) => {
    // `run` does not wait on a query of GPUs read late (the command may end first): exiting, it
    // ends the query, whose timeout would otherwise die with it and leave a hung one behind.
    const killAtExit = () => child.kill('SIGKILL');
    const child = execFile(
      binary,
      [...MIG_QUERY_ARGS],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 },
      (_error, stdout) => {
        process.off('exit', killAtExit);
        resolve(parseMigModes(String(stdout ?? '')));
      },
    );
    process.on('exit', killAtExit);
  });
}
