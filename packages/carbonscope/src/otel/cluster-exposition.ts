// One Prometheus endpoint for a whole Node cluster (node:cluster, pm2's cluster mode with the
// primary under register too). Every process runs register (workers inherit --import), but only
// the primary listens: a worker's listen() goes through the primary, which held the port
// already, so each worker failed to bind and the scrape showed the primary alone, which serves
// no request. At a scrape the primary asks each worker over the cluster's IPC channel for its
// exposition and serves them all, each worker's series under its own service_instance_id.
import cluster, { type Worker } from 'node:cluster';
import type { Env } from '../settings.js';

/** The label that tells the processes' series apart, as the Collector's path names it. */
export const INSTANCE_LABEL = 'service_instance_id';

/**
 * How long a scrape waits for one worker (all are asked at once). One that is stopped, stuck in
 * a long synchronous task or gone is left out of that scrape: its series go stale for one scrape
 * instead of the whole scrape failing, or lasting past Prometheus's scrape_timeout (10 s).
 */
export const WORKER_ANSWER_MS = 2_000;

const ASK = 'carbonscope:prometheus-collect';
const ANSWER = 'carbonscope:prometheus-exposition';
/** A worker's word that it answers asks from now on (or, `answers: false`, no longer). */
const ANSWERS = 'carbonscope:prometheus-answers';

/** One process's exposition and the service.instance.id of its resource. */
export interface Exposition {
  text: string;
  instance: string | undefined;
  /** A worker's pid, which tells it apart where its instance is another process's too. */
  pid?: number;
}

interface Ask {
  type: typeof ASK;
  id: number;
}

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  instance?: string;
}

interface Answers {
  type: typeof ANSWERS;
  answers: boolean;
}

function isAnswers(message: unknown): message is Answers {
  const m = message as Partial<Answers> | null;
  return (
    typeof m === 'object' && m !== null && m.type === ANSWERS && typeof m.answers === 'boolean'
  );
}

function isAsk(message: unknown): message is Ask {
  const m = message as Partial<Ask> | null;
  return typeof m === 'object' && m !== null && m.type === ASK && typeof m.id === 'number';
}

function isAnswer(message: unknown): message is Answer {
  const m = message as Partial<Answer> | null;
  return typeof m === 'object' && m !== null && m.type === ANSWER && typeof m.id === 'number';
}

/**
 * Set by a primary's register, before the application forks, to its pid: its workers inherit
 * the environment and so know that their primary serves their figures. A worker whose primary
 * does not run register (pm2's cluster mode, whose primary is pm2's daemon) opens its own
 * endpoint as before.
 */
export const PRIMARY_SERVES = 'CARBONSCOPE_CLUSTER_PRIMARY';

/**
 * In a process that may fork cluster workers, tells them that it serves their figures. Only
 * where its own endpoint would (the Prometheus exporter asked for), so that the variable is set
 * in no other application.
 */
export function announcePrimary(env: Env, servesPrometheus: boolean): void {
  if (!cluster.isPrimary || !servesPrometheus) return;
  env[PRIMARY_SERVES] = String(process.pid);
  // From now, before any worker is forked: a worker says it answers once, as it starts.
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isAnswers(message)) return;
    if (message.answers) answering.add(worker);
    else answering.delete(worker);
  });
}

/**
 * The workers that said they answer. Only they are asked: one that runs no register (its
 * execArgv the application's own), or has not started it yet, or handed over to the
 * application's SDK, would hold every scrape for WORKER_ANSWER_MS and answer nothing.
 */
const answering = new WeakSet<Worker>();

/** Whether this process is a cluster worker (whose primary may or may not serve its figures). */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** Whether this process is a cluster worker whose primary serves its figures. */
export function primaryServesThisWorker(env: Env): boolean {
  return cluster.isWorker && env[PRIMARY_SERVES] === String(process.ppid);
}

/**
 * In a worker: answers the primary's collections with this process's exposition. Returns what
 * stops answering. The channel already holds a cluster worker alive, so listening to it changes
 * nothing in how the worker ends.
 */
export function answerPrimary(collect: () => Promise<Exposition>): () => void {
  const send = (message: Answer | Answers) => {
    // The primary gone (or going) mid-collection has nobody to read the answer. With a
    // callback: a failed send without one is an 'error' on process, uncaught.
    if (process.connected) process.send?.(message, undefined, {}, () => undefined);
  };
  const onMessage = (message: unknown) => {
    if (!isAsk(message)) return;
    collect().then(
      // The text alone: JSON would write a Buffer beside it as an array of numbers.
      ({ text, instance }) => send({ type: ANSWER, id: message.id, text, instance }),
      // Answered at once, without figures: the primary need not wait out its timeout.
      () => send({ type: ANSWER, id: message.id }),
    );
  };
  process.on('message', onMessage);
  send({ type: ANSWERS, answers: true });
  return () => {
    process.off('message', onMessage);
    send({ type: ANSWERS, answers: false });
  };
}

let nextAsk = 0;

type Settle = (exposition: Exposition | undefined) => void;

/**
 * Each worker's asks still unanswered, by id. One listener pair per worker for all its asks:
 * one per ask piled up while a worker was slow, and from 11 scrapes at once Node printed a
 * leak warning. An answer that comes after its ask timed out finds no id and is dropped.
 */
const pendingAsks = new WeakMap<Worker, Map<number, Settle>>();

function asksOf(worker: Worker): Map<number, Settle> {
  let asks = pendingAsks.get(worker);
  if (asks) return asks;
  const pending = new Map<number, Settle>();
  worker.on('message', (message: unknown) => {
    if (!isAnswer(message)) return;
    const { text, instance } = message;
    const pid = worker.process.pid;
    pending.get(message.id)?.(text === undefined ? undefined : { text, instance, pid });
  });
  worker.once('disconnect', () => {
    for (const settle of [...pending.values()]) settle(undefined);
  });
  asks = pending;
  pendingAsks.set(worker, asks);
  return asks;
}

/** One worker's exposition; undefined when it has none, is gone or is late. */
function askWorker(worker: Worker, id: number, timeoutMs: number): Promise<Exposition | undefined> {
  return new Promise((resolve) => {
    const asks = asksOf(worker);
    const settle: Settle = (exposition) => {
      clearTimeout(timer);
      asks.delete(id);
      resolve(exposition);
    };
    const gone = () => settle(undefined);
    const timer = setTimeout(gone, timeoutMs);
    asks.set(id, settle);
    try {
      worker.send({ type: ASK, id } satisfies Ask, undefined, (err: Error | null) => {
        if (err) gone();
      });
    } catch {
      gone();
    }
  });
}

/** The connected workers' expositions, asked all at once; those that do not answer are left out. */
export async function workersExpositions(
  timeoutMs: number = WORKER_ANSWER_MS,
): Promise<Exposition[]> {
  if (!cluster.isPrimary) return [];
  const workers = Object.values(cluster.workers ?? {}).filter(
    (w): w is Worker => w?.isConnected() === true && answering.has(w),
  );
  if (workers.length === 0) return [];
  const id = ++nextAsk;
  const answers = await Promise.all(workers.map((w) => askWorker(w, id, timeoutMs)));
  return answers.filter((a): a is Exposition => a !== undefined);
}

/**
 * The primary's exposition: its own, unchanged while it has never had a worker; once it has,
 * its own and every answering worker's, each process's series labelled with its instance (the
 * primary's too, so that its series do not change identity when its workers come and go).
 */
export function clusterExposition(
  own: () => Promise<Exposition & { body: Buffer }>,
  workers: () => Promise<Exposition[]> = workersExpositions,
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
    return label === instance
      ? line
      : line.replace(`${INSTANCE_LABEL}="${labelValue(instance)}"`, pair);
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
