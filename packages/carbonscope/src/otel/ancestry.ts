import { readFileSync } from 'node:fs';

/**
 * How far up a process looks for the primary it inherited word of: its parent, a shell between
 * (child_process.exec), a launcher's, and one more. Each step is one read of /proc, once.
 */
const MAX_STEPS = 4;

/** The parent of `pid`, as /proc/<pid>/stat says it (Linux); undefined where it cannot tell. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after its last one.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isSafeInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is this process's parent or, where /proc tells (Linux), an ancestor a few steps
 * up: a Node child started through a shell is its starter's grandchild.
 */
export function isAncestor(pid: number): boolean {
  let current: number | undefined = process.ppid;
  for (let step = 0; step < MAX_STEPS && current !== undefined && current > 1; step++) {
    if (current === pid) return true;
    current = parentOf(current);
  }
  return false;
}
