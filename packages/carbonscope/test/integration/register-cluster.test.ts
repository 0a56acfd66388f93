import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import {
  folderToken,
  folderTokenOf,
  pidNamespace,
  WORKER_ANSWER_MS,
} from '../../src/otel/cluster-sockets.js';
import { readBootId } from '../../src/proc/index.js';

/** A boot id no host has now: a host sharing this TMPDIR (NFS). */
const OTHER_BOOT = '00000000-0000-0000-0000-000000000000';

import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type ExposedSample, parseSamples } from '../helpers/metrics.js';
import {
  histogramPoint,
  type OtlpReceiver,
  otlpReceiver,
  stringAttribute,
} from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { scrapeUntil } from '../helpers/scrape-until.js';
import { running, type Spawned, spawnUntil } from '../helpers/spawn.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

/**
 * The socket folder of the cluster whose primary is `pid`, as it named it; undefined before its
 * first worker made it. Found by its name, whose last part is the primary's own (random where
 * its pid namespace is not known).
 */
function clusterFolder(pid: number | undefined): string | undefined {
  const name = readdirSync(tmpdir()).find((n) => n.startsWith(`carbonscope-cluster-${pid}-`));
  return name === undefined ? undefined : join(tmpdir(), name);
}

/** A Node cluster (primary and WORKERS workers) serving server.js's routes on one port. */
const CLUSTER = join(libraryRoot, 'test', 'fixtures', 'register', 'cluster.js');

interface Cluster extends Spawned {
  /** The workers' shared port. */
  base: string;
  workerPids: number[];
  /** The primary's Prometheus endpoint. */
  metricsUrl: string;
}

/**
 * `command args` serving server.js's routes from WORKERS workers under the Prometheus exporter,
 * up once a line of stdout matches `ready` (`<mode> listening <port> <worker pids>`).
 * `workerImport`: the workers' --import, where their primary runs without register.
 */
async function spawnCluster(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  workerImport: boolean,
): Promise<Cluster> {
  const metricsPort = await freePort();
  const app = await spawnUntil(command, args, {
    cwd: dirname(CLUSTER),
    env: childEnv({
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_SERVICE_NAME: 'shop',
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      ENERGY_SAMPLE_INTERVAL_MS: '200',
      WORKERS: '2',
      ...(workerImport ? { WORKER_IMPORT: 'carbonscope/register' } : {}),
      ...env,
    }),
    waitFor: ready,
  });
  const line = app.stdout.find((l) => ready.test(l)) ?? '';
  const [, , port, ...pids] = line.split(' ');
  return {
    ...app,
    base: `http://127.0.0.1:${port}`,
    workerPids: pids.map(Number),
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
  };
}

/**
 * `primaryRegisters: false`: only the workers run register (pm2's cluster mode). `wrapper`: the
 * command that runs node, and its arguments (unshare, say).
 */
function startCluster(
  primaryRegisters = true,
  env: Record<string, string> = {},
  wrapper: string[] = [],
): Promise<Cluster> {
  const imports = primaryRegisters ? ['--import', 'carbonscope/register'] : [];
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, ...imports, CLUSTER];
  return spawnCluster(command, args, env, /^cluster listening \d+/, !primaryRegisters);
}

/** Kills the cluster's processes and removes its workers' socket folder, which a SIGKILL leaves. */
async function stopCluster(app: Cluster | undefined): Promise<void> {
  for (const pid of app?.workerPids ?? []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await app?.stop('SIGKILL');
  const folder = clusterFolder(app?.proc.pid);
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
}

/**
 * GET on a connection of its own: the cluster's primary hands each connection to the next
 * worker (round robin), so a run of these reaches every worker.
 */
function getAlone(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

/** A scrape on a connection of its own, as several scrapers' are. */
function scrapeAlone(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}

async function scrape(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/**
 * A scrape, and whether a worker's answer timeout (WORKER_ANSWER_MS), counted from before it,
 * had passed when it came: a scrape that waited on a worker comes after that.
 */
async function scrapeTimed(url: string) {
  let workerTimeoutPassed = false;
  const timer = setTimeout(() => (workerTimeoutPassed = true), WORKER_ANSWER_MS);
  try {
    return { ...(await scrape(url)), workerTimeoutPassed };
  } finally {
    clearTimeout(timer);
  }
}

const OPERATION_COUNT = 'carbonscope_operation_energy_joules_count';

/** The operation histogram's counts for `/users/:id`, one sample per process that served any. */
const usersCounts = (samples: ExposedSample[]) =>
  samples.filter(
    (s) => s.name === OPERATION_COUNT && s.labels.carbonscope_operation === '/users/:id',
  );

const total = (samples: ExposedSample[]) => samples.reduce((sum, s) => sum + s.value, 0);

/** The service_instance_id of every process in a scrape, as its target_info line says. */
const instances = (samples: ExposedSample[]) =>
  samples.filter((s) => s.name === 'target_info').map((s) => s.labels.service_instance_id);

describe('--import carbonscope/register in a Node cluster, OTEL_METRICS_EXPORTER=prometheus', function () {
  this.timeout(60_000);
  let app: Cluster | undefined;

  afterEach(async () => {
    await stopCluster(app);
    app = undefined;
  });

  // Each worker's register opened the endpoint too, through the primary, which held the port
  // already: one error line per worker, and the scrape showed the primary alone, which serves
  // no request (the workers do all the HTTP work).
  it("one scrape of the primary shows every process, each worker's series under its service_instance_id", async () => {
    app = await startCluster();
    const requests = 20;
    for (let i = 0; i < requests; i++) {
      expect(await getAlone(`${app.base}/users/${i}`)).to.equal(200);
    }
    const samples = await scrapeUntil(
      app.metricsUrl,
      (s) => total(usersCounts(s)) === requests,
      15_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
    });
    const ids = instances(samples);
    expect(ids, 'target_info').to.have.length(3);
    expect(new Set(ids).size, String(ids)).to.equal(3);
    // Both workers served (round robin), each in a series of its own.
    const served = usersCounts(samples).map((s) => s.labels.service_instance_id);
    expect(new Set(served).size, String(served)).to.equal(2);
    for (const id of served) expect(ids).to.include(id);
    // Every process's own figures, told apart the same way.
    const processEnergy = samples.filter(
      (s) => s.name === 'carbonscope_process_energy_joules_total',
    );
    const energyIds = new Set(processEnergy.map((s) => s.labels.service_instance_id));
    expect([...energyIds].sort()).to.deep.equal([...ids].sort());
    // One family per metric, as the text format requires, whoever's samples are in it.
    const { text } = await scrape(app.metricsUrl);
    expect(text.match(/^# TYPE carbonscope_operation_energy_joules /gm)).to.have.length(1);
    expect(text.match(/^# TYPE target_info /gm)).to.have.length(1);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // Every process inherits OTEL_RESOURCE_ATTRIBUTES: with the pod's name as its
  // service.instance.id, every family held each series three times, and Prometheus keeps the
  // first, the primary's, which serves no request.
  it('one service.instance.id for all (OTEL_RESOURCE_ATTRIBUTES): each worker is still a series of its own', async () => {
    app = await startCluster(true, { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7' });
    const requests = 10;
    for (let i = 0; i < requests; i++) await getAlone(`${app.base}/users/${i}`);
    const samples = await scrapeUntil(
      app.metricsUrl,
      (s) => total(usersCounts(s)) === requests,
      15_000,
    );
    const pids = app.workerPids.map((pid) => `pod-7-${pid}`);
    expect(instances(samples).sort()).to.deep.equal(['pod-7', ...pids].sort());
    const served = usersCounts(samples).map((s) => s.labels.service_instance_id);
    expect(served.sort()).to.deep.equal([...pids].sort());
  });

  it('a worker that does not answer holds the scrape back for its timeout alone; a dead one not at all', async () => {
    app = await startCluster();
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    const [stopped, killed] = app.workerPids as [number, number];
    process.kill(stopped, 'SIGSTOP');
    try {
      // Answered while the worker is still stopped: it was not waited for past its timeout.
      const { status, text } = await scrape(app.metricsUrl);
      expect(status).to.equal(200);
      expect(instances(parseSamples(text))).to.have.length(2);
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    process.kill(killed, 'SIGKILL');
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 2, 5_000);
    const { status, workerTimeoutPassed } = await scrapeTimed(app.metricsUrl);
    expect(status).to.equal(200);
    expect(workerTimeoutPassed, 'waited on the dead worker').to.equal(false);
  });

  // Every connected worker was asked, whether or not it ran register: one that does not (its
  // execArgv the application's own) held every scrape for the 2 s of its timeout, as did each
  // new worker until its register had started. Only a worker that said it answers is asked.
  it('workers without register: the scrape reads the primary at once', async () => {
    app = await startCluster(true, { WORKERS_BARE: '1' });
    const samples = await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 1, 15_000);
    expect(samples.length).to.be.above(0);
    for (let i = 0; i < 3; i++) {
      const { status, text, workerTimeoutPassed } = await scrapeTimed(app.metricsUrl);
      expect(status).to.equal(200);
      expect(instances(parseSamples(text))).to.have.length(1);
      expect(workerTimeoutPassed, 'waited on a worker without register').to.equal(false);
    }
  });

  // Each worker made its socket under its own os.tmpdir(): one whose TMPDIR was not the
  // primary's (the application's fork(env)) listened where the primary never looked, and its
  // figures were missing from every scrape without a word.
  it("workers whose TMPDIR is not the primary's: read all the same, nothing made in theirs", async () => {
    const theirs = tempDirUntilExit('carbonscope-worker-tmp-');
    app = await startCluster(true, { WORKER_TMPDIR: theirs });
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
      },
    );
    expect(readdirSync(theirs)).to.deep.equal([]);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // A relative TMPDIR named a relative folder: workers with a cwd of their own looked for it from
  // there (listening nowhere, each with a warning), and scrapes had the primary's series alone.
  it('a relative TMPDIR, workers with a cwd of their own: read all the same', async () => {
    const tmp = tempDirUntilExit('carbonscope-rel-tmp-');
    // Deeper than the primary's cwd (the fixture's folder): there the relative TMPDIR names a
    // folder that is not there, so a worker that looked from there made nothing.
    const workerCwd = join(libraryRoot, 'dist', 'test', 'unit', 'http');
    const relativeTmp = relative(dirname(CLUSTER), tmp);
    app = await startCluster(true, { TMPDIR: relativeTmp, WORKER_CWD: workerCwd });
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
      },
    );
    expect(readdirSync(tmp)).to.have.length(1);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // A SIGKILL, or a Ctrl-C to the process group without a SIGINT handler, left the folder and
  // its sockets behind for good, one per run.
  it('removes the folders that dead primaries of this pid namespace left, and no other', async () => {
    const ns = pidNamespace();
    const own = folderToken();
    const boot = readBootId();
    if (ns === undefined || own === undefined || boot === undefined) {
      throw new Error('this test needs /proc/self/ns/pid and /proc/sys/kernel/random/boot_id');
    }
    const tmp = tempDirUntilExit('carbonscope-stale-');
    const folder = (pid: number, token = own) => join(tmp, `carbonscope-cluster-${pid}-${token}`);
    const made = (path: string, mode = 0o700) => {
      mkdirSync(path, { mode });
      writeFileSync(join(path, '12.sock'), '');
      return path;
    };
    // 999999999 is over any Linux pid (PID_MAX_LIMIT, 2^22): its primary runs no more.
    const stale = made(folder(999_999_999));
    const kept = [
      made(folder(process.pid)), // its primary runs
      made(folder(999_999_998, folderTokenOf('4026531111', boot))), // another namespace's
      made(folder(999_999_993, folderTokenOf(ns, OTHER_BOOT))), // another host's (a TMPDIR on NFS)
      made(folder(999_999_992, ns)), // no host in its name
      made(join(tmp, 'carbonscope-cluster-999999997')), // no namespace in its name
      made(folder(999_999_996), 0o755), // not as this user makes them
      join(tmp, 'target'),
      folder(999_999_995), // a link
    ];
    mkdirSync(join(tmp, 'target'));
    writeFileSync(join(tmp, 'target', '12.sock'), '');
    symlinkSync(join(tmp, 'target'), folder(999_999_995));
    if (process.getuid?.() === 0) {
      // Another user's.
      kept.push(made(folder(999_999_994)));
      chownSync(folder(999_999_994), 4321, 4321);
    }
    app = await startCluster(true, { TMPDIR: tmp });
    await until(
      () => !existsSync(stale),
      10_000,
      () => `${stale} still there`,
    );
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    for (const path of kept) expect(existsSync(path), path).to.equal(true);
    expect(readdirSync(join(tmp, 'target'))).to.deep.equal(['12.sock']);
  });

  // Each scrape added a 'message' and a 'disconnect' listener to every worker until it was
  // answered: 11 scrapes waiting on one worker (two Prometheus servers and a worker stuck for a
  // while, a dashboard's refreshes) made Node print MaxListenersExceededWarning in the primary.
  it('many scrapes waiting on a stopped worker: no listener warning, and its late answers land in no later scrape', async () => {
    app = await startCluster();
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    const url = app.metricsUrl;
    const [stopped] = app.workerPids as [number];
    process.kill(stopped, 'SIGSTOP');
    let scrapes: Array<{ status: number; text: string }>;
    try {
      scrapes = await Promise.all(Array.from({ length: 15 }, () => scrapeAlone(url)));
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    for (const { status, text } of scrapes) {
      expect(status).to.equal(200);
      expect(instances(parseSamples(text))).to.have.length(2);
    }
    const after = instances(parseSamples((await scrape(url)).text));
    expect(after).to.have.length(3);
    expect(new Set(after).size).to.equal(3);
    // Node prints the warning on a later tick.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.stderr.join('\n')).to.not.match(/MaxListeners|warning/i);
  });

  // The scrape went over the cluster's IPC channel: a worker whose handler looks up `m.cmd`
  // (`handlers[m.cmd](m)`) died of a TypeError at every scrape, and the primary's
  // cluster.on('message') handlers got every worker's whole exposition. (The fixture pings at
  // each cluster 'listening': a worker's socket that went through the primary would ping twice.)
  it("the application's own IPC handlers see none of carbonscope's messages, scrape after scrape", async () => {
    app = await startCluster(true, { APP_IPC: '1' });
    const messages = () => app?.stdout.filter((l) => l.startsWith('app message ')) ?? [];
    await until(
      () => messages().length >= 2,
      10_000,
      () => app?.stdout.join('\n') ?? '',
    );
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    for (let i = 0; i < 3; i++) {
      const { status, text } = await scrape(app.metricsUrl);
      expect(status).to.equal(200);
      expect(instances(parseSamples(text)), app.stderr.join('\n')).to.have.length(3);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages()).to.deep.equal(['app message {"cmd":"pong"}', 'app message {"cmd":"pong"}']);
    expect(app.stdout.filter((l) => l.includes('exited'))).to.deep.equal([]);
    expect(app.stderr.join('\n')).to.not.match(/TypeError|error|warning/i);
    // The workers' sockets go with them, and the folder with the last (an unhandled SIGTERM
    // gives the primary no exit of its own).
    const folder = clusterFolder(app.proc.pid) ?? 'none';
    expect(existsSync(folder), folder).to.equal(true);
    await app.stop('SIGTERM');
    await until(
      () => app?.workerPids.every((pid) => !running(pid)) === true,
      10_000,
      () => 'workers still running',
    );
    expect(existsSync(folder), folder).to.equal(false);
  });

  // pm2's daemon is its cluster's primary: nobody would serve the workers' figures. They open
  // the endpoint as before (shared through the primary), and say what a scrape then reads.
  it('a primary without register: the workers serve the endpoint as before, and say so once each', async () => {
    app = await startCluster(false);
    const samples = await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 1, 15_000);
    expect(
      samples.some((s) => s.labels.service_instance_id !== undefined && s.name !== 'target_info'),
    ).to.equal(false);
    // Each worker says it as its provider starts, which may be after the other's first scrape.
    const warned = () =>
      app?.stderr.filter((l) => l.includes('primary does not run carbonscope/register')) ?? [];
    await until(
      () => warned().length >= 2,
      10_000,
      () => app?.stderr.join('\n') ?? '',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warned()).to.have.length(2);
    expect(app.stderr.join('\n')).to.not.match(/error/i);
  });
});

/** pm2's daemon, reduced to how it runs an application (a package folder named pm2). */
const PM2 = join(libraryRoot, 'test', 'fixtures', 'register', 'pm2');
const PM2_DAEMON = join(PM2, 'lib', 'Daemon.js');

/**
 * pm2's daemon (or `program`, pm2-runtime) under NODE_OPTIONS (`daemonRegisters`), running
 * server.js in `mode`: its cluster mode's workers (`workerPids`) or its fork mode's child.
 */
function startPm2(
  mode: 'cluster' | 'fork',
  daemonRegisters = true,
  env: Record<string, string> = {},
  program = PM2_DAEMON,
): Promise<Cluster> {
  const options: Record<string, string> = daemonRegisters
    ? { NODE_OPTIONS: '--import carbonscope/register' }
    : {};
  const ready = /^(?:cluster|fork) listening \d+/;
  const all = { ...options, PM2_MODE: mode, ...env };
  return spawnCluster(process.execPath, [program], all, ready, !daemonRegisters);
}

describe("NODE_OPTIONS=--import carbonscope/register through pm2's daemon, OTEL_METRICS_EXPORTER=prometheus", function () {
  this.timeout(60_000);
  let app: Cluster | undefined;

  afterEach(async () => {
    await stopCluster(app);
    app = undefined;
  });

  /** Sends `requests` GETs of /users/:id, each on a connection of its own. */
  async function serve(base: string, requests: number): Promise<void> {
    for (let i = 0; i < requests; i++) expect(await getAlone(`${base}/users/${i}`)).to.equal(200);
  }

  // Its daemon, the primary, stood down as a launcher: each worker opened the endpoint through
  // it, and scrapes alternated between the two workers' figures, each saying to run the primary
  // with --import, which a pm2 user cannot.
  it('cluster mode: the daemon serves one endpoint for its workers from its first fork', async () => {
    app = await startPm2('cluster');
    const requests = 20;
    await serve(app.base, requests);
    const done = (s: ExposedSample[]) =>
      instances(s).length === 3 && total(usersCounts(s)) === requests;
    const samples = await scrapeUntil(app.metricsUrl, done, 15_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
    });
    const served = new Set(usersCounts(samples).map((s) => s.labels.service_instance_id));
    expect(served.size).to.equal(2);
    // Every later scrape too, whichever worker's turn it would have been.
    for (let i = 0; i < 4; i++) {
      expect(instances(parseSamples((await scrapeAlone(app.metricsUrl)).text))).to.have.length(3);
    }
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // The application's own process holds the port: the daemon, which forks no cluster worker,
  // starts nothing, and the word it gave its environment for a cluster misleads no child.
  it('fork mode: the application holds the endpoint, the daemon starts nothing', async () => {
    app = await startPm2('fork');
    await serve(app.base, 5);
    const samples = await scrapeUntil(app.metricsUrl, (s) => total(usersCounts(s)) === 5, 15_000);
    expect(instances(samples)).to.have.length(1);
    expect(clusterFolder(app.proc.pid)).to.equal(undefined);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // pm2-runtime (Docker's) runs the daemon's part in its own process, which stood down as pm2's
  // command: scrapes alternated between the workers, each saying to `pm2 kill` (pm2 7.0.4).
  it('pm2-runtime, its own primary: it serves one endpoint for its workers', async () => {
    app = await startPm2('cluster', true, {}, join(PM2, 'bin', 'pm2-runtime'));
    await serve(app.base, 4);
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // pm2 restarts a worker with SIGINT, which a worker without its own handler dies of with no
  // 'exit': its socket stayed in the folder for as long as the daemon ran, one more per restart.
  it("a worker pm2 stops (SIGINT): its socket goes with it, the other's stays", async () => {
    app = await startPm2('cluster');
    await scrapeUntil(app.metricsUrl, (s) => instances(s).length === 3, 15_000);
    const folder = clusterFolder(app.proc.pid) ?? '';
    const [stopped, other] = app.workerPids as [number, number];
    process.kill(stopped, 'SIGINT');
    await until(
      () => !readdirSync(folder).includes(`${stopped}.sock`),
      5_000,
      () => readdirSync(folder).join(' '),
    );
    expect(readdirSync(folder)).to.include(`${other}.sock`);
  });

  // The daemon started without register (a later command's NODE_OPTIONS reaches only the
  // applications; here their --import alone): the workers say what a pm2 user can do.
  it("a daemon without register: each worker says to give pm2's daemon register", async () => {
    app = await startPm2('cluster', false);
    const warned = () => app?.stderr.filter((l) => l.includes("pm2's daemon")) ?? [];
    await until(
      () => warned().length >= 2,
      10_000,
      () => app?.stderr.join('\n') ?? '',
    );
    expect(warned()[0]).to.include('pm2 kill');
    expect(app.stderr.join('\n')).to.not.match(/run the primary with/);
  });
});

/** Runs a command in a pid namespace of its own (its first process pid 1), or says why not. */
const PID_NAMESPACE = [
  'unshare',
  '--user',
  '--map-root-user',
  '--pid',
  '--fork',
  '--mount-proc',
  '--kill-child',
];

function pidNamespaceTrouble(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  const probe = spawnSync(PID_NAMESPACE[0] ?? '', [...PID_NAMESPACE.slice(1), 'true'], {
    timeout: 5_000,
  });
  if (probe.error) return probe.error.message;
  return probe.status === 0 ? undefined : probe.stderr.toString().trim();
}

describe('--import carbonscope/register, two clusters whose primaries are pid 1 (containers sharing /tmp)', function () {
  this.timeout(60_000);
  const apps: Cluster[] = [];

  // The project's tests say what they lack rather than skip in silence (cli.test's unshare too).
  before(() => {
    const trouble = pidNamespaceTrouble();
    if (trouble !== undefined) {
      throw new Error(
        `this test needs \`${PID_NAMESPACE.join(' ')}\` (user namespaces): ${trouble}`,
      );
    }
  });

  afterEach(async () => {
    // The workers' pids are their namespace's: never signalled from here. unshare's
    // --kill-child takes the namespace's pid 1, and every process in it, with it.
    for (const app of apps.splice(0)) await app.stop('SIGKILL');
  });

  // Both primaries made their workers' folder <TMPDIR>/carbonscope-cluster-1: each worker
  // replaced the other cluster's socket of its pid, and each primary served the other's workers.
  it("each primary serves its own workers' figures alone", async () => {
    const tmp = tempDirUntilExit('carbonscope-ns-');
    for (const name of ['shop-a', 'shop-b']) {
      const env = { TMPDIR: tmp, OTEL_SERVICE_NAME: name };
      apps.push(await startCluster(true, env, PID_NAMESPACE));
    }
    for (const [i, name] of ['shop-a', 'shop-b'].entries()) {
      const url = apps[i]?.metricsUrl ?? '';
      const infos = (s: ExposedSample[]) => s.filter((x) => x.name === 'target_info');
      const samples = await scrapeUntil(url, (s) => infos(s).length >= 3, 15_000);
      // Read again once both clusters' workers have all listened.
      const again = infos(parseSamples((await scrape(url)).text));
      const names = [...infos(samples), ...again].map((x) => x.labels.service_name);
      expect(names, name).to.deep.equal(Array(6).fill(name));
    }
    expect(readdirSync(tmp)).to.have.length(2);
  });
});

/** A primary that forks one disconnect-worker.js under register, pushing OTLP to `receiver`. */
const PRIMARY = `import cluster from 'node:cluster';
cluster.setupPrimary({ exec: 'disconnect-worker.js', execArgv: ['--import', 'carbonscope/register'] });
const worker = cluster.fork();
worker.on('exit', (code) => console.log('worker exited ' + code));
console.log('forked');`;

async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('--import carbonscope/register in a cluster worker whose channel closes unasked (OTLP)', function () {
  this.timeout(60_000);
  let receiver: OtlpReceiver;
  let pids: number[] = [];

  beforeEach(async () => {
    receiver = await otlpReceiver();
  });
  afterEach(async () => {
    for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
    pids = [];
    await receiver.close();
  });

  /** The pushes that counted the worker's job. */
  const jobPushes = () =>
    receiver.pushes.filter(
      (p) =>
        histogramPoint(p.body, 'carbonscope.operation.energy', 'carbonscope.operation', 'job')
          ?.count === 1,
    );

  /** Runs PRIMARY; resolves with it, its output so far and the worker's pid once it tracked. */
  async function start(env: Record<string, string>) {
    const proc = spawn(
      process.execPath,
      ['--import', 'carbonscope/register', '--input-type=module', '-e', PRIMARY],
      {
        cwd: dirname(CLUSTER),
        env: childEnv({
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          ...env,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out = { stdout: '', stderr: '' };
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out.stdout += d;
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      out.stderr += d;
    });
    if (proc.pid !== undefined) pids.push(proc.pid);
    await until(
      () => /worker \d+ tracked/.test(out.stdout),
      15_000,
      () => out.stdout + out.stderr,
    );
    const worker = Number(/worker (\d+) tracked/.exec(out.stdout)?.[1]);
    pids.push(worker);
    return { proc, out, worker };
  }

  // Node's own 'disconnect' listener calls process.exit(0): no beforeExit, so register's last
  // push never ran, and what the worker counted since its last periodic push (60 s) was lost.
  it('a bare process.disconnect(): the worker pushes its last figures, then ends with code 0', async () => {
    const { out } = await start({ WORKER_END: 'disconnect' });
    await until(
      () => out.stdout.includes('worker exited'),
      10_000,
      () => out.stdout + out.stderr,
    );
    expect(out.stdout).to.include('worker exited 0');
    expect(jobPushes(), out.stderr).to.have.length(1);
    expect(out.stderr).to.not.match(/error|warning/i);
  });

  it('its primary gone (SIGKILL): the worker pushes its last figures before it ends', async () => {
    const { proc, worker, out } = await start({});
    proc.kill('SIGKILL');
    await until(
      () => !running(worker),
      10_000,
      () => out.stderr,
    );
    expect(jobPushes(), out.stderr).to.have.length(1);
    const [push] = jobPushes();
    expect(
      stringAttribute(push?.body.resourceMetrics[0]?.resource.attributes, 'service.instance.id'),
    ).to.be.a('string');
  });
});
