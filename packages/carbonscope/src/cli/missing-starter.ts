import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How much of a script's start is read for its `#!` line (Linux reads up to 256 bytes). */
const SHEBANG_BYTES = 256;

function isFile(path: string | Buffer): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where Node's spawn (libuv, as glibc's execvp) looks without PATH: `_PATH_DEFPATH`. */
const UNSET_PATH = '/usr/bin:/bin';

/**
 * The file the exec found for `command`: the path itself, or the first file of that name in PATH.
 * An empty entry (`:/usr/bin`, `a::b`) is the current folder, as execvp and Node's spawn read it.
 */
function commandFile(command: string, path: string | undefined): string | undefined {
  if (command.includes('/')) return isFile(command) ? command : undefined;
  const dirs = (path ?? UNSET_PATH).split(delimiter).map((dir) => (dir === '' ? '.' : dir));
  return dirs.map((dir) => join(dir, command)).find(isFile);
}

/**
 * The interpreter a script's `#!` line names, as the kernel reads it; null without one (a
 * program), undefined where the file cannot be read (execute-only).
 */
function interpreterOf(file: string): string | null | undefined {
  const start = Buffer.alloc(SHEBANG_BYTES);
  let length: number;
  try {
    const fd = openSync(file, 'r');
    try {
      length = readSync(fd, start, 0, SHEBANG_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  // latin1: one character a byte, as the kernel reads them; the path is a name of bytes.
  const text = start.subarray(0, length).toString('latin1');
  if (!text.startsWith('#!')) return null;
  // The kernel skips spaces and tabs only (a no-break space is part of the path) and ends the
  // path at a space, a tab or the newline: a CR stays in it.
  return text
    .slice(2)
    .split('\n', 1)[0]
    .replace(/^[ \t]+/, '')
    .split(/[ \t]/, 1)[0];
}

/**
 * Why a command that exists could not start where the exec said ENOENT: what it needs to start
 * is missing, not the command. Undefined where no such file is found (the command is missing).
 * `command not found: ./deploy.sh` for a script whose `#!/bin/bash\r` (Windows line ends) names
 * no file sent its user looking for the script.
 */
export function missingStarter(command: string, path: string | undefined): string | undefined {
  const file = commandFile(command, path);
  if (file === undefined) return undefined;
  const interpreter = interpreterOf(file);
  if (interpreter === undefined) {
    return 'it exists, but what starts it (its #! interpreter or program loader) was not found';
  }
  if (interpreter === null) {
    return 'it exists, but its program loader (ELF interpreter) was not found';
  }
  const bytes = Buffer.from(interpreter, 'latin1');
  // Shown as UTF-8, as a terminal shows a name (`/opt/café` was `/opt/cafÃ©`).
  const shown = bytes.toString('utf8');
  // The kernel says ENOENT too where the interpreter is there but its own starter is not (a
  // script whose #! names another CRLF script): it was called missing.
  if (isFile(bytes)) {
    return `its interpreter ${shown} (its #! line) exists, but what starts it (its own #! interpreter or program loader) was not found`;
  }
  const crlf = interpreter.endsWith('\r') ? ' (the script has Windows line ends, CRLF)' : '';
  return `its interpreter ${shown} (its #! line) was not found${crlf}`;
}
