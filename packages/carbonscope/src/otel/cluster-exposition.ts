// One Prometheus endpoint for a whole Node cluster (node:cluster, and pm2's cluster mode, whose
// primary, pm2's daemon, starts register at its first fork). Every process runs register
// (workers inherit --import), but only the primary listens: a worker's listen() goes through
// the primary, which holds the port already, so each worker's own endpoint would fail to bind
// and the scrape show the primary alone, which serves no request. At a scrape the primary reads
// each worker's exposition from the worker's own local socket (cluster-sockets.ts) and serves
// them all, each worker's series under its own service_instance_id.
import cluster, { type Worker } from 'node:cluster';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { checkedInteger, type Env } from '../settings.js';
import { isAncestor } from './ancestry.js';
import {
  type AnswererNames,
  CLUSTER_WORKER,
  type Exposition,
  primaryFolder,
  readWorker,
  removeFolder,
  removeStaleFolders,
  removeWorkerSocket,
  serveThePrimary,
  socketFolder,
  socketPids,
  WORKER_ANSWER_BYTES,
  WORKER_ANSWER_MS,
} from './cluster-sockets.js';

export type { Exposition } from './cluster-sockets.js';

/** The label that tells the processes' series apart, as the Collector's path names it. */
const INSTANCE_LABEL = 'service_instance_id';

/**
 * Set by a primary's register, before the application forks, to its pid: its workers inherit
 * the environment and so know that their primary serves their figures. A worker whose primary
 * does not run register (pm2's daemon started without it) opens its own endpoint.
 */
const PRIMARY_SERVES = 'CARBONSCOPE_CLUSTER_PRIMARY';

/**
 * Set with PRIMARY_SERVES, to the folder where the primary looks for its workers' sockets: a
 * worker that named it from its own TMPDIR, which the application may have given it (fork(env)),
 * would listen where the primary never looks.
 */
const PRIMARY_FOLDER = 'CARBONSCOPE_CLUSTER_FOLDER';

/**
 * Set with PRIMARY_SERVES, to the endpoint the primary serves (endpointOf): a forked child told
 * another port or host by the application opens its own endpoint there, as it was told.
 */
const PRIMARY_ENDPOINT = 'CARBONSCOPE_CLUSTER_ENDPOINT';

/**
 * The Prometheus endpoint `env` names, as the variables say it (their defaults where unset), its
 * port as read: a child told `0x24f8` or `+9464` is told its parent's 9464.
 */
function endpointOf(env: Env): string {
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || 'localhost';
  return `${host}:${checkedInteger(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 9464)}`;
}

/**
 * Whether this process is a Node child its parent forked or spawned outside a cluster
 * (child_process's fork, spawn or execFile of node, NODE_OPTIONS inherited: a job queue's
 * sandboxed processors, a process pool) whose parent serves its figures on the endpoint it would
 * open itself. Its children's own, or those a shell between started (exec), too: the primary is
 * their ancestor (isAncestor), a few steps up, where /proc tells (Linux). Not on Windows: there a
 * child's socket is a named pipe, which its parent has no folder to find it in (socketPids).
 */
function servedAsChild(env: Env): boolean {
  return (
    process.platform !== 'win32' &&
    !cluster.isWorker &&
    env[PRIMARY_ENDPOINT] === endpointOf(env) &&
    isAncestor(Number(env[PRIMARY_SERVES]))
  );
}

/** This primary's folder, as it told its workers; named once, whatever TMPDIR becomes. */
let announcedFolder: string | undefined;

const ownFolder = () => announcedFolder ?? socketFolder(process.pid);

/**
 * In a process that may fork cluster workers, tells them that it serves their figures. Only
 * where its own endpoint would (the Prometheus exporter asked for), so that the variable is set
 * in no other application. Once it has forked, the folders that dead primaries left go, and its
 * workers' goes at its exit. `children`: its other Node children too, which only a process that
 * serves from its start can say (pm2's daemon serves from its first cluster fork: a fork mode's
 * child, none of its workers, holds the port itself).
 */
export function announcePrimary(env: Env, servesPrometheus: boolean, children = false): void {
  // A forked child its parent serves keeps its parent's word: it answers there (parentServes).
  if (!cluster.isPrimary || !servesPrometheus || servedAsChild(env)) return;
  announcedFolder = socketFolder(process.pid);
  env[PRIMARY_SERVES] = String(process.pid);
  env[PRIMARY_FOLDER] = announcedFolder;
  if (children) env[PRIMARY_ENDPOINT] = endpointOf(env);
  else delete env[PRIMARY_ENDPOINT];
  const folder = announcedFolder;
  // Its forked children's sockets, where it has any (no fork event tells of them); nothing to
  // remove, one failed lstat, where it has none.
  process.once('exit', () => removeFolder(folder));
  cluster.once('fork', () => {
    cluster.on('exit', (worker) => removeSocketOf(folder, worker));
    void removeStaleFolders(process.pid, dirname(folder));
  });
}

/** A dead worker's socket, unless a live worker has its pid already (a pid come round). */
function removeSocketOf(folder: string, dead: Worker): void {
  const pid = dead.process.pid;
  if (pid === undefined) return;
  const live = Object.values(cluster.workers ?? {}).some(
    (w) => w !== undefined && w !== dead && !w.isDead() && w.process.pid === pid,
  );
  if (!live) removeWorkerSocket(folder, pid);
}

/** Whether this process is a cluster worker (whose primary may or may not serve its figures). */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * Whether this process's parent serves its figures: a cluster worker whose primary runs register,
 * or a child forked outside a cluster by a process that serves the endpoint it would open
 * (servedAsChild).
 */
export function parentServes(env: Env): boolean {
  if (cluster.isWorker) return env[PRIMARY_SERVES] === String(process.ppid);
  return servedAsChild(env);
}

/**
 * In a worker whose primary serves its figures: serves them on this worker's socket, in the
 * folder its primary named. Returns what stops serving.
 */
export function answerPrimary(
  env: Env,
  collect: () => Promise<Exposition>,
  logger: Logger,
): () => void {
  const folder = env[PRIMARY_FOLDER];
  const names = answererNames();
  if (!folder) {
    // The application's fork(env) or execve dropped it: where to listen is not known.
    logger.warn(
      `${names.self} cannot give ${names.parent} its figures, which its scrapes will lack: ${PRIMARY_FOLDER} is not set (${names.parent} sets it for the processes whose figures it serves)`,
    );
    return () => undefined;
  }
  return serveThePrimary(folder, collect, logger, undefined, names);
}

const FORKED_CHILD: AnswererNames = { self: 'this child process', parent: 'its parent' };

/** This process's names in its warnings: a cluster worker's, or a child's forked outside one. */
function answererNames(): AnswererNames {
  return cluster.isWorker ? CLUSTER_WORKER : FORKED_CHILD;
}

/**
 * Whose figures a primary's warning names: a process with no live cluster worker reads its
 * forked children's alone (where it has workers, theirs, and maybe its children's too).
 */
const whose = (workers: readonly number[]) =>
  workers.length > 0 ? "the cluster's workers'" : "the child processes'";

/**
 * The live workers' expositions, read all at once; those that have none, or are late, are left
 * out. A folder not to be trusted is said once, in `logger`'s warning, and read from never.
 */
export function workersExpositions(
  logger?: Logger,
  timeoutMs: number = WORKER_ANSWER_MS,
): () => Promise<Exposition[]> {
  let warned = false;
  let warnedLarge = false;
  return async () => {
    if (!cluster.isPrimary) return [];
    const workers = Object.values(cluster.workers ?? {})
      .filter((w): w is Worker => w !== undefined && !w.isDead())
      .map((w) => w.process.pid)
      .filter((pid): pid is number => pid !== undefined);
    const path = ownFolder();
    // Missing until a worker or a forked child answers: one lstat per scrape where none does.
    const folder = primaryFolder(path);
    if (folder === undefined) return [];
    if (folder.trouble !== undefined) {
      if (!warned) logger?.warn(`${whose(workers)} figures are not read: ${folder.trouble}`);
      warned = true;
      return [];
    }
    // The forked children that answer are found by their sockets: no event tells of them.
    const pids = [...new Set([...workers, ...socketPids(path)])];
    if (pids.length === 0) return [];
    const tooLarge = (pid: number) => {
      if (!warnedLarge) {
        const who = workers.includes(pid) ? 'a cluster worker' : 'a child process';
        logger?.warn(
          `${who}'s exposition (pid ${pid}) was over ${WORKER_ANSWER_BYTES / 1024 / 1024} MiB: its figures are left out of the scrape`,
        );
      }
      warnedLarge = true;
    };
    const answers = await Promise.all(
      pids.map((pid) => readWorker(path, pid, timeoutMs, { tooLarge: () => tooLarge(pid) })),
    );
    return answers.filter((a): a is Exposition => a !== undefined);
  };
}

/**
 * The primary's exposition: its own, unchanged while it has never had a worker; once it has,
 * its own and every worker that has one's, each process's series labelled with its instance (the
 * primary's too, so that its series do not change identity when its workers come and go).
 */
export function clusterExposition(
  own: () => Promise<Exposition & { body: Buffer }>,
  workers: () => Promise<Exposition[]> = workersExpositions(),
): () => Promise<Buffer> {
  let clustered = false;
  return async () => {
    const [mine, theirs] = await Promise.all([own(), workers()]);
    if (theirs.length > 0) clustered = true;
    if (!clustered) return mine.body;
    return Buffer.from(mergeExpositions([mine, ...theirs]), 'utf8');
  };
}

interface Family {
  head: string[];
  samples: string[];
}

const HEADER = /^# (?:HELP|UNIT|TYPE) (\S+)/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * A sample line with the instance label first. One that has the label already (target_info,
 * from the resource) keeps it, its value `label` where that is not the resource's `instance`.
 */
export function withInstance(line: string, label: string, instance: string = label): string {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) return line;
  const rest = line.slice(name.length);
  const pair = `${INSTANCE_LABEL}="${labelValue(label)}"`;
  if (!rest.startsWith('{')) return `${name}{${pair}}${rest}`;
  if (rest.startsWith(`{${INSTANCE_LABEL}="`) || rest.includes(`,${INSTANCE_LABEL}="`)) {
    // A function, not the string: `$'`, `$&` in a replacement string are patterns, and an id
    // may hold them.
    return label === instance
      ? line
      : line.replace(`${INSTANCE_LABEL}="${labelValue(instance)}"`, () => pair);
  }
  return `${name}{${pair}${rest.startsWith('{}') ? '' : ','}${rest.slice(1)}`;
}

/**
 * Each section's instance label: its instance, or, where an earlier section (the primary's,
 * which comes first) has that instance too, the instance and the worker's pid. Every process
 * inherits OTEL_RESOURCE_ATTRIBUTES, so a service.instance.id set there is every process's,
 * and their series would be duplicates, of which Prometheus keeps the first.
 */
function instanceLabels(sections: readonly Exposition[]): Array<string | undefined> {
  const taken = new Set<string>();
  return sections.map(({ instance, pid }) => {
    if (instance === undefined) return undefined;
    const label = taken.has(instance) && pid !== undefined ? `${instance}-${pid}` : instance;
    taken.add(instance);
    taken.add(label);
    return label;
  });
}

/**
 * Several processes' expositions as one: each metric family once (the text format allows no
 * family in two places), its header as the first process that has it wrote it, then every
 * process's samples, each labelled with its instance. Families in the order they first appear.
 */
export function mergeExpositions(sections: readonly Exposition[]): string {
  const families = new Map<string, Family>();
  const labels = instanceLabels(sections);
  for (const [i, { text, instance }] of sections.entries()) {
    const label = labels[i];
    let name: string | undefined;
    let family: Family = { head: [], samples: [] };
    let writesHead = false;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const header = HEADER.exec(line)?.[1];
        // `# no registered metrics`, or a comment: no family of its own.
        if (header === undefined) continue;
        if (header !== name) {
          name = header;
          const known = families.get(name);
          writesHead = known === undefined;
          family = known ?? { head: [], samples: [] };
          families.set(name, family);
        }
        if (writesHead) family.head.push(line);
        continue;
      }
      family.samples.push(
        label === undefined || instance === undefined ? line : withInstance(line, label, instance),
      );
    }
  }
  let out = '';
  for (const { head, samples } of families.values()) {
    for (const line of head) out += `${line}\n`;
    for (const line of samples) out += `${line}\n`;
  }
  return out || '# no registered metrics\n';
}
