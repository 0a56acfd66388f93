import { asksVerboseOption } from './args.js';

/**
 * What main prints for an error no command expected (a bug, or a case nobody foresaw): one line,
 * as for every other error; the stack only when asked for, since it means nothing to most users.
 */
export function unexpectedErrorText(err: unknown, verbose: boolean): string {
  if (verbose && err instanceof Error && err.stack) return `carbonscope: error: ${err.stack}\n`;
  const [first] = String(err).split('\n', 1);
  return `carbonscope: error: ${first}\n`;
}

/** Whether `carbonscope <command> <rest>` asks for --verbose; never reads the command run's. */
export function asksVerbose(command: string | undefined, rest: string[]): boolean {
  try {
    return asksVerboseOption(command, rest);
  } catch {
    return false; // this is main's last word on an error: it must not throw one of its own
  }
}
