/**
 * How carbonscope ends: with a status, or by a signal, that of the command `run` ran, so that
 * whoever started carbonscope sees what it would have seen of the command itself.
 */
export interface Ending {
  code: number;
  /** Raised on carbonscope once its output has drained; `code` is the fallback. */
  signal?: NodeJS.Signals;
}

/** How long a raised signal may take to end the process before `code` does. */
const RAISE_FALLBACK_MS = 1000;

/**
 * Ends the process now. A signal is raised on it with its default action, as `timeout` does:
 * bash goes on with a script after a command that exited 130 (it took Ctrl-C as handled) and
 * stops after one that Ctrl-C killed.
 */
export function endProcess({ code, signal }: Ending): void {
  // PID 1 (a container's, without --init) takes no default action of a signal: the raise would
  // come to nothing and the status would come only after the fallback's wait.
  if (signal === undefined || process.pid === 1) {
    process.exit(code);
    return;
  }
  process.exitCode = code;
  // process.exit would run these; an end by signal skips them (a reader's cleanup).
  process.emit('exit', code);
  // Node restores a signal's default action once its last listener goes; one is added first
  // for a signal Node ignores and never listened to (SIGPIPE), or it would stay ignored.
  // SIGKILL takes no listener (EINVAL) and has its default action anyway.
  try {
    if (signal !== 'SIGKILL') {
      process.on(signal, () => undefined);
      process.removeAllListeners(signal);
    }
    process.kill(process.pid, signal);
  } catch {
    process.exit(code); // a signal this platform will not raise: the status says it
  }
  setTimeout(() => process.exit(code), RAISE_FALLBACK_MS);
}
