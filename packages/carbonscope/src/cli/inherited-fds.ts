import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** An open fd as /proc tells it: what it points at and its open flags (octal in fdinfo). */
export interface OpenFd {
  fd: number;
  target: string;
  flags: number;
}

const O_ACCMODE = 0o3;
const O_RDONLY = 0o0;
const O_WRONLY = 0o1;
const O_CLOEXEC = 0o2000000;

/**
 * The fds past stderr that this process got from its parent (`run -- cmd 3>file`), told from
 * Node's own by what they are: Node marks both close-on-exec. Its own, at start, are its event
 * loops' (anon_inode: eventpoll, eventfd, io_uring), pipes whose two ends it holds, and a
 * read-only /dev/null that libuv keeps in reserve: one the parent gave of that kind is left out,
 * and the command gets no fd there (it would have read end of input from it).
 */
export function inheritedOf(open: readonly OpenFd[]): number[] {
  // By the ends held, not the fds: `3>&1` onto a piped stdout is one write end at two fds.
  const pipeEnds = new Map<string, number>();
  for (const { target, flags } of open) {
    if (!target.startsWith('pipe:')) continue;
    pipeEnds.set(target, (pipeEnds.get(target) ?? 0) | endOf(flags));
  }
  return open
    .filter(({ fd, target, flags }) => {
      if (fd < 3 || target.startsWith('anon_inode:')) return false;
      if (pipeEnds.get(target) === BOTH_ENDS) return false;
      const reserve =
        target === '/dev/null' && (flags & O_ACCMODE) === O_RDONLY && (flags & O_CLOEXEC) !== 0;
      return !reserve;
    })
    .map(({ fd }) => fd)
    .sort((a, b) => a - b);
}

const READ_END = 1;
const WRITE_END = 2;
const BOTH_ENDS = READ_END | WRITE_END;

/** Which end of a pipe an fd of these open flags is. */
function endOf(flags: number): number {
  const mode = flags & O_ACCMODE;
  return mode === O_RDONLY ? READ_END : mode === O_WRONLY ? WRITE_END : BOTH_ENDS;
}

/** This process's open fds from /proc/self; none where there is no /proc (macOS). */
function openFds(): OpenFd[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const open: OpenFd[] = [];
  for (const name of names) {
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${name}`, 'utf8'));
      if (flags) open.push({ fd: Number(name), target, flags: Number.parseInt(flags[1], 8) });
    } catch {
      // The fd readdir itself held, closed since: not one to pass on.
    }
  }
  return open;
}

/**
 * The fds past stderr to hand the command as it got them; read before carbonscope opens any of
 * its own (the signal witness's pipe would pass for one its parent gave).
 */
export function inheritedFds(): number[] {
  const channel = channelFd();
  return inheritedOf(openFds()).filter((fd) => fd !== channel);
}

/**
 * The socket of Node's IPC channel to a parent that forked it (fork(), pm2's fork mode): a
 * socket like any a parent gives, but Node's own, and no channel of the command's (Node took
 * NODE_CHANNEL_FD out of the environment it passes on).
 */
function channelFd(): number | undefined {
  const fd = (process.channel as { fd?: unknown } | undefined)?.fd;
  return typeof fd === 'number' ? fd : undefined;
}

/**
 * spawn's stdio for the command: its stdin, stdout and stderr, and each inherited fd at its own
 * number. Node's `'inherit'` hands on 0-2 alone, and the fds it marked close-on-exec were lost.
 */
export function commandStdio(
  inherited: readonly number[],
): 'inherit' | ('inherit' | 'ignore' | number)[] {
  if (inherited.length === 0) return 'inherit';
  const stdio: ('inherit' | 'ignore' | number)[] = ['inherit', 'inherit', 'inherit'];
  const given = new Set(inherited);
  const top = inherited[inherited.length - 1];
  // 'ignore' past 2 leaves that fd as it is: closed on exec where it is close-on-exec.
  for (let fd = 3; fd <= top; fd++) stdio.push(given.has(fd) ? fd : 'ignore');
  return stdio;
}
