// How a cluster's primary reads its workers' expositions at a scrape: each worker that runs
// register listens on a local socket of its own, and the primary connects to each live worker's,
// reads what it writes and closes. Not the cluster's IPC channel: every message on it reaches
// the application's own process.on('message') and cluster.on('message') handlers (no documented
// Node API hides one), so a worker whose handler does `handlers[m.cmd](m)` would die of a
// TypeError at every scrape, and the primary's handlers would get every worker's exposition.
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { isPermissionRefusal } from '../permission-refusal.js';
import { readBootId } from '../proc/index.js';
import { messageOf } from '../thrown-text.js';
import { untraced } from '../untraced.js';

/** One process's exposition and the service.instance.id of its resource. */
export interface Exposition {
  text: string;
  instance: string | undefined;
  /** A worker's pid, which tells it apart where its instance is another process's too. */
  pid?: number;
}

const WINDOWS = process.platform === 'win32';

/**
 * How long a scrape waits for one worker (all are read at once). One that is stopped, stuck in
 * a long synchronous task or gone is left out of that scrape: its series go stale for one scrape
 * instead of the whole scrape failing, or lasting past Prometheus's scrape_timeout (10 s).
 */
export const WORKER_ANSWER_MS = 2_000;

/**
 * The most a worker's answer may take, an exposition of some hundred thousand series. Unbounded,
 * an answer over V8's longest string (~512 MiB) would throw in the read's end listener and end
 * the primary, and the cluster with it; short of that, every worker's would be held in memory at
 * once.
 */
export const WORKER_ANSWER_BYTES = 64 * 1024 * 1024;

/** How often a worker tries to listen where its folder goes as it does. */
const LISTEN_TRIES = 3;

const FOLDER_PREFIX = 'carbonscope-cluster-';

/**
 * The inode of this process's pid namespace, where /proc says it (Linux): two live namespaces
 * never share one, so with a pid it names one process on the machine, whatever containers share
 * the folder. Elsewhere undefined.
 */
function readPidNamespace(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
  } catch {
    return undefined;
  }
}

let namespaceToken: string | undefined | null = null;

/** The pid namespace's inode (see readPidNamespace), read once. */
export function pidNamespace(): string | undefined {
  if (namespaceToken === null) namespaceToken = readPidNamespace();
  return namespaceToken;
}

let hostToken: string | undefined | null = null;

/**
 * Names a pid namespace of one host's boot in 10 characters: a socket's path has 107 bytes at
 * most, and the namespace's inode and a part of the boot id side by side took 9 more than the
 * inode alone, which left a TMPDIR of 47 to 55 bytes without sockets. 40 bits of a hash: two
 * folders of one pid whose namespaces or boots differ share a name once in 2^40.
 */
export function folderTokenOf(namespace: string, bootId: string): string {
  return createHash('sha256').update(`${namespace}\n${bootId.trim()}`).digest('hex').slice(0, 10);
}

/**
 * What names one primary's folder with its pid, where it can be known (Linux): its pid namespace
 * and this machine's boot, read once (folderTokenOf). Undefined elsewhere. A pid namespace's
 * inode is one machine's alone: every host's first namespace has the same one (4026531836), so
 * two hosts whose TMPDIR is one (NFS) would share a primary's folder, and sweep each other's. The
 * boot is shared by the containers of one host, which their namespaces tell apart.
 */
export function folderToken(): string | undefined {
  if (hostToken === null) {
    const ns = pidNamespace();
    const boot = ns === undefined ? undefined : readBootId();
    hostToken = ns === undefined || !boot?.trim() ? undefined : folderTokenOf(ns, boot);
  }
  return hostToken;
}

/** Where the namespace is unknown: random, so that two primaries of one pid still differ. */
const RANDOM_TOKEN = `r${randomBytes(4).toString('hex')}`;

/**
 * The folder of the sockets of the workers of primary `primaryPid` (this process's, or a test's
 * stand-in), under `dir`. A pid alone is not one process's: two containers that share /tmp each
 * have their primary at pid 1, and their workers would replace each other's sockets. Only the
 * primary names it: its workers are told it (CARBONSCOPE_CLUSTER_FOLDER), whatever their TMPDIR.
 * Absolute: a relative TMPDIR's would be looked for from a worker's own cwd (setupPrimary's
 * `cwd`), and from the primary's at each scrape.
 */
export function socketFolder(primaryPid: number, dir: string = tmpdir()): string {
  if (WINDOWS) return `\\\\.\\pipe\\carbonscope-${primaryPid}`;
  return join(resolve(dir), `${FOLDER_PREFIX}${primaryPid}-${folderToken() ?? RANDOM_TOKEN}`);
}

/**
 * Where worker `workerPid` listens, for the primary of `folder`. On Windows a named pipe, which
 * has no folder and vanishes with its process; its namespace is the machine's, so a pipe of that
 * name that another process holds first makes the worker's listen fail (a warning), and Node
 * offers no check of who serves one.
 */
export function socketPath(folder: string, workerPid: number): string {
  if (WINDOWS) return `${folder}-${workerPid}`;
  return join(folder, `${workerPid}.sock`);
}

/** How an answering process's warnings name it and the process that reads its figures. */
export interface AnswererNames {
  /** `this cluster worker`, or `this child process`. */
  self: string;
  /** `its primary`, or `its parent`. */
  parent: string;
}

/** A node:cluster worker's names; a child forked outside a cluster has its own (parentServes). */
export const CLUSTER_WORKER: AnswererNames = { self: 'this cluster worker', parent: 'its primary' };

/** The longest path a local socket may have: sun_path's bytes, less its closing NUL. */
const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;

/**
 * Why `path` cannot be a socket's, or undefined where it can. Node 20 cuts a longer one short,
 * so that the socket goes outside the checked folder (<TMPDIR>/carbonscope-cluste, the same for
 * every cluster); later versions refuse it with a bare EINVAL.
 */
function pathTrouble(path: string, parent = CLUSTER_WORKER.parent): string | undefined {
  if (WINDOWS) return undefined;
  const bytes = Buffer.byteLength(path);
  if (bytes <= SOCKET_PATH_MAX) return undefined;
  // The primary's TMPDIR, which named the folder: a worker's own may differ.
  const dir = dirname(dirname(path));
  return `${path} is ${bytes} bytes, over the ${SOCKET_PATH_MAX} a local socket's path may have: give ${parent} a shorter TMPDIR (now ${dir})`;
}

/**
 * Why a folder is not to be trusted with the sockets, or undefined where it is: a folder under
 * the shared tmpdir that another user made first (or a link to one) would let them serve the
 * primary figures of their own, or read the workers'.
 */
export function folderTrouble(stats: Stats, uid: number): string | undefined {
  if (stats.isSymbolicLink() || !stats.isDirectory()) return 'it is not a folder';
  if (stats.uid !== uid) return `it belongs to user ${stats.uid}, not to this process's ${uid}`;
  if ((stats.mode & 0o077) !== 0) {
    return `others may enter it (mode ${(stats.mode & 0o777).toString(8)}, not 700)`;
  }
  return undefined;
}

const ownUid = () => process.getuid?.() ?? 0;

/** Creates the folder where missing (mode 0700); throws where it is not one to trust. */
function preparedFolder(folder: string): void {
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (err) {
    // Made by another worker of the same primary, or left by a primary of the same pid.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const trouble = folderTrouble(lstatSync(folder), ownUid());
  if (trouble !== undefined) throw new Error(`${folder}: ${trouble}`);
}

/** Whether the folder is there and to be trusted now (see folderTrouble). */
function ownFolder(folder: string): boolean {
  try {
    return folderTrouble(lstatSync(folder), ownUid()) === undefined;
  } catch {
    return false;
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid is another user's process now, which is running.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A worker's socket's name in its folder: its pid. */
const SOCKET_NAME = /^(\d+)\.sock$/;

/**
 * The pids of the live processes that have a socket in `folder` (the primary's, checked first:
 * primaryFolder): a cluster's workers and the parent's forked children alike, whom no list of the
 * parent's names (child_process keeps none). A dead one's socket, left behind by a signal (a
 * child's SIGTERM from child.kill(), unhandled, runs no exit), is removed: no event tells the
 * parent of a forked child's end, and a long-lived one that kills its children would gather one
 * per child, each read past at every scrape. One readdir, at each scrape.
 */
export function socketPids(folder: string): number[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    const pid = Number(SOCKET_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    if (running(pid)) pids.push(pid);
    else removeFile(join(folder, name));
  }
  return pids;
}

/**
 * The sockets in `folder` of the workers `gone` says, then the folder where nothing else is left
 * in it. Never a recursive removal: where another user swaps the folder for a link as it goes
 * (a TMPDIR that is not sticky), Node's rm lists the link's target after it checked the folder,
 * and removes all that is in it; here nothing but `<pid>.sock` names can go.
 */
function removeSockets(folder: string, gone: (pid: number) => boolean): void {
  try {
    for (const name of readdirSync(folder)) {
      const pid = SOCKET_NAME.exec(name)?.[1];
      if (pid !== undefined && gone(Number(pid))) removeFile(join(folder, name));
    }
    rmdirSync(folder);
  } catch {
    // A live worker's socket still in it, something not carbonscope's, or gone already.
  }
}

/** removeSockets, every socket, without holding the event loop (the primary's first fork). */
async function removeSocketsLater(folder: string): Promise<void> {
  try {
    for (const name of await readdir(folder)) {
      if (SOCKET_NAME.test(name)) await unlink(join(folder, name)).catch(() => undefined);
    }
    await rmdir(folder);
  } catch {
    // Something not carbonscope's in it, removed by another primary sweeping too, or gone.
  }
}

/**
 * The folder, where only dead workers' sockets are left in it (a SIGKILL, or an unhandled
 * SIGTERM as the primary's worker.kill() sends, leaves one behind).
 */
function removeFolderOfTheDead(folder: string): void {
  removeSockets(folder, (pid) => !running(pid));
}

/**
 * Answers one connection: the exposition, after one JSON line of what goes with it. The
 * primary may have given up on it (its timeout) and closed: an error then is nobody's.
 */
function answer(socket: Socket, collect: () => Promise<Exposition>): void {
  socket.on('error', () => undefined);
  // An answer under way does not hold a worker that is otherwise done.
  socket.unref();
  collect().then(
    ({ text, instance }) =>
      socket.end(`${JSON.stringify({ instance: instance ?? null })}\n${text}`),
    // Closed without figures: the primary need not wait out its timeout.
    () => socket.destroy(),
  );
}

/** `promise`, or a rejection once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exposition within ${ms} ms`)), ms);
    // A collection under way does not hold a worker that is otherwise done.
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * One collection for every connection that comes while it runs: a worker resumed after a stop
 * (SIGSTOP, a debugger) accepts at once every connection that waited in its backlog, those the
 * primary gave up on among them, and collected once for each. Shared no longer than a primary
 * waits for an answer (`answerMs`): one that never ends would hold every later scrape's
 * connection, where unshared it held its own scrape's alone.
 */
function sharedCollection(
  collect: () => Promise<Exposition>,
  answerMs: number,
): () => Promise<Exposition> {
  let running: Promise<Exposition> | undefined;
  return () => {
    running ??= within(collect(), answerMs).finally(() => {
      running = undefined;
    });
    return running;
  };
}

/**
 * Why the socket could not be served, in words. Node's permission model refuses the folder by a
 * throw whose words name no path (on Node 20, no flag): the folder is named by the primary's pid,
 * so what to grant is the temporary folder it is made in, both ways.
 */
function whyNot(err: unknown, folder: string): string {
  if (isPermissionRefusal(err)) {
    const dir = dirname(folder);
    return (
      `the permission model refuses ${folder}: grant --allow-fs-read=${dir} ` +
      `--allow-fs-write=${dir} (a TMPDIR of the app's own keeps the grant narrow)`
    );
  }
  return messageOf(err);
}

/**
 * In a worker: serves this process's exposition on its socket in the primary's `folder`.
 * Returns what stops serving and removes the socket. A stale socket at its path (a dead worker's
 * of the same pid) is replaced: nobody else may have its pid. A collection not done within
 * `answerMs` closes its connections without figures. Its warnings name it by `names`.
 */
export function serveThePrimary(
  folder: string,
  collect: () => Promise<Exposition>,
  logger: Logger,
  answerMs: number = WORKER_ANSWER_MS,
  { self, parent }: AnswererNames = CLUSTER_WORKER,
): () => void {
  const path = socketPath(folder, process.pid);
  const cannot = (err: unknown) =>
    logger.warn(
      `${self} cannot give ${parent} its figures, which its scrapes will lack: ${whyNot(err, folder)}`,
    );
  const shared = sharedCollection(collect, answerMs);
  const server = createServer((socket) => answer(socket, shared));
  // Its socket does not keep the worker alive; the cluster's channel does already.
  server.unref();
  const listen = () => {
    try {
      const tooLong = pathTrouble(path, parent);
      if (tooLong !== undefined) throw new Error(tooLong);
      if (!WINDOWS) {
        preparedFolder(folder);
        removeFile(path);
      }
      // Exclusive: a worker's listen() otherwise goes through the primary, which would listen
      // on the path itself, hand each connection over the channel, and tell the application's
      // cluster.on('listening') of a server that is not its.
      server.listen({ path, exclusive: true });
    } catch (err) {
      cannot(err);
    }
  };
  let tries = 1;
  server.on('error', (err: NodeJS.ErrnoException) => {
    // The folder removed by the last worker to end (below) as this one made ready to listen.
    if (err.code === 'ENOENT' && tries++ < LISTEN_TRIES) listen();
    else cannot(err);
  });
  const removeSocket = () => {
    if (WINDOWS) return;
    // Checked again: one refused at the listen, or a link another user planted where the
    // primary removed its own at its exit, would have this worker remove names in their target.
    if (!ownFolder(folder)) return;
    removeFile(path);
    // The last worker to end removes the folder: a primary that a signal ended (SIGTERM
    // unhandled) had no exit of its own to remove it at.
    removeFolderOfTheDead(folder);
  };
  listen();
  // process.exit() closes no server: the socket would stay behind.
  process.on('exit', removeSocket);
  return () => {
    process.off('exit', removeSocket);
    // A listening server's close unlinks its path (libuv), through whatever the folder is now:
    // where it is no longer this user's own, the server is left listening (unref'd) instead.
    if (WINDOWS || ownFolder(folder)) server.close();
    removeSocket();
  };
}

interface Header {
  instance: string | null;
}

function isHeader(value: unknown): value is Header {
  const h = value as Partial<Header> | null;
  return (
    typeof h === 'object' && h !== null && (h.instance === null || typeof h.instance === 'string')
  );
}

/** What a worker wrote, or undefined where it is not an answer (closed without one). */
function parsed(answer: string, pid: number): Exposition | undefined {
  const end = answer.indexOf('\n');
  if (end < 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(answer.slice(0, end));
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  return { text: answer.slice(end + 1), instance: header.instance ?? undefined, pid };
}

interface ReadLimits {
  maxBytes?: number;
  /** Told where an answer went over maxBytes (and was left out). */
  tooLarge?: () => void;
}

/**
 * One worker's exposition, read from its socket; undefined where it has none (no register, not
 * started yet, handed over: no socket, refused at once), or it is late (stopped, busy), or it
 * closed without one, or it is over `maxBytes`.
 */
export function readWorker(
  folder: string,
  workerPid: number,
  timeoutMs: number,
  { maxBytes = WORKER_ANSWER_BYTES, tooLarge }: ReadLimits = {},
): Promise<Exposition | undefined> {
  const path = socketPath(folder, workerPid);
  // Its worker listened nowhere (and said so); what listens where the path is cut is not it.
  if (pathTrouble(path) !== undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    // Untraced: under the app's net instrumentation each read was an `ipc.connect` span, one per
    // worker at every scrape, a child of the scrape's request.
    const socket = untraced(() => connect(path));
    const settle = (exposition: Exposition | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(exposition);
    };
    const timer = setTimeout(() => settle(undefined), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes <= maxBytes) return;
      chunks.length = 0;
      tooLarge?.();
      settle(undefined);
    });
    socket.on('end', () => settle(parsed(Buffer.concat(chunks).toString('utf8'), workerPid)));
    socket.on('error', () => settle(undefined));
    // Closed without an end (the worker destroyed it: no figures).
    socket.on('close', () => settle(undefined));
  });
}

/**
 * Whether the primary's folder may be read, said in a line where it may not; undefined where
 * it is missing (no worker serves yet). Always on Windows, which has no folder. A synchronous
 * lstat: at each scrape, and a round through libuv's thread pool cost more than it does.
 */
export function primaryFolder(folder: string): { trouble?: string } | undefined {
  if (WINDOWS) return {};
  let stats: Stats;
  try {
    stats = lstatSync(folder);
  } catch {
    return undefined;
  }
  const trouble = folderTrouble(stats, ownUid());
  return trouble === undefined ? {} : { trouble: `${folder}: ${trouble}` };
}

/** In the primary, at its exit: its workers' folder, where it is its own. */
export function removeFolder(folder: string): void {
  if (WINDOWS) return;
  if (!ownFolder(folder)) return;
  // Errors are left unsaid: at the primary's exit, they would be its last word, and nobody's.
  removeSockets(folder, () => true);
}

/**
 * In the primary, as one of its workers ends: its socket, which a worker that a signal ended
 * (pm2's restart, SIGINT then SIGKILL) had no exit of its own to remove. A long-lived primary
 * that restarts its workers would otherwise gather one per restart for as long as it runs.
 */
export function removeWorkerSocket(folder: string, workerPid: number): void {
  if (WINDOWS || !ownFolder(folder)) return;
  removeFile(socketPath(folder, workerPid));
}

/**
 * In a primary as it first forks: removes from `dir` the folders that primaries of this user,
 * this pid namespace and this host's boot left there (a SIGKILL; a Ctrl-C to the process group,
 * which lets no process exit through its 'exit'), where their primary runs no more. Only where
 * both are known: a pid of another namespace (a container that shares /tmp) or host (a TMPDIR on
 * NFS) says nothing of whether its primary runs, nor does one in a name without them (an earlier
 * version's, which named no host: this host's or another's, it stays). A link, or a folder that
 * is not this user's own (folderTrouble), is left as it is, and so is what is not a socket
 * (removeSockets). Nor can it tell a namespace that is gone (a container restarted on a shared
 * volume), or a boot that is over (a TMPDIR that outlives a reboot), from another one that runs:
 * those folders stay. A dead primary's pid taken by a new primary between the check and the
 * removal would lose its folder: the pid must come round again, and its first worker listen,
 * within those milliseconds.
 */
export async function removeStaleFolders(ownPid: number, dir: string = tmpdir()): Promise<void> {
  const token = folderToken();
  if (WINDOWS || token === undefined) return;
  const name = new RegExp(`^${FOLDER_PREFIX}(\\d+)-${token}$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const entry of names) {
    const pid = Number(name.exec(entry)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === ownPid || running(pid)) continue;
    const folder = join(dir, entry);
    try {
      // lstat: a link is its own, whatever it points to.
      if (folderTrouble(await lstat(folder), ownUid()) === undefined) {
        await removeSocketsLater(folder);
      }
    } catch {
      // Removed by another primary sweeping too.
    }
  }
}
