import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What a command that must pass said where it failed; '' where it passed. A checker's findings
 * go to stdout (tsc's, attw's), but a crash, a refusal or a missing binary print on stderr or
 * nowhere: each of those is a failure too, never read as a pass.
 */
export function commandFailure(
  bin: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<string> {
  return run(bin, args, options).then(
    () => '',
    (err: { stdout?: string; stderr?: string }) =>
      `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || String(err),
  );
}
