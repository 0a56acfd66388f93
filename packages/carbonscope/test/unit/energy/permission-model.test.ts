import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { libraryRoot } from '../../../src/paths.js';
import { childEnv } from '../../helpers/child-env.js';
import type { ExposedSample } from '../../helpers/metrics.js';
import { underPermission } from '../../helpers/permission-model.js';
import { freePort } from '../../helpers/ports.js';
import { REGISTER_SERVER } from '../../helpers/register-app.js';
import { scrapeUntil } from '../../helpers/scrape-until.js';
import { type Spawned, spawnUntil } from '../../helpers/spawn.js';
import { waitFor } from '../../helpers/wait.js';
import { buildPowercapTree, tempDir } from './sources/helpers.js';

const STARTED = 'energy meter started';

/**
 * `node <flags> --import carbonscope/register server.js` under the permission model, on this
 * Node, once the meter has started; its stderr at info level, so the source chosen shows.
 */
async function registerUnder(
  flags: string[],
  env: Record<string, string>,
  script = REGISTER_SERVER,
  ready = /^listening \d+$/,
): Promise<Spawned> {
  const app = await spawnUntil(
    process.execPath,
    [...flags, '--import', 'carbonscope/register', script],
    {
      cwd: dirname(REGISTER_SERVER),
      env: childEnv({
        OTEL_METRICS_EXPORTER: 'none',
        CARBON_INTENSITY: '300',
        CARBONSCOPE_LOG_LEVEL: 'info',
        ...env,
      }),
      waitFor: ready,
    },
  );
  await waitFor(`register to say "${STARTED}"`, () => app.stderr.join('\n').includes(STARTED), {
    timeoutMs: 15_000,
  }).catch((err: unknown) => {
    void app.stop();
    throw err;
  });
  return app;
}

/** The app's own answer, through its port: it serves, whatever carbonscope may read. */
async function answers(app: Spawned): Promise<number> {
  const port = /^listening (\d+)$/.exec(app.stdout.find((l) => l.startsWith('listening')) ?? '');
  return (await fetch(`http://127.0.0.1:${port?.[1]}/hello`)).status;
}

describe("register under Node's permission model (the real flags, this Node)", function () {
  this.timeout(30_000);
  let tree: ReturnType<typeof tempDir>;
  let root: string;
  let app: Spawned | undefined;

  beforeEach(() => {
    tree = tempDir('carbonscope-permission-');
    root = join(tree.dir, 'powercap');
    buildPowercapTree(root, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000, maxUj: 262_143_328_850 },
    ]);
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
    tree.cleanup();
  });

  it('warns, naming the flag, where the powercap tree is refused, and the app serves', async () => {
    app = await registerUnder(underPermission(), { ENERGY_POWERCAP_ROOT: root });
    const stderr = app.stderr.join('\n');
    expect(stderr).to.include(
      `carbonscope: warning: energy: RAPL not read (the permission model refuses reading ${root}: ` +
        `grant --allow-fs-read=${root}); falling back to estimate`,
    );
    expect(stderr).to.include('energy meter started: host power from estimate (estimated)');
    expect(stderr).to.not.match(/\n\s+at /);
    expect(await answers(app)).to.equal(200);
  });

  it('measures RAPL, without a word, once the tree is granted', async () => {
    app = await registerUnder(underPermission(`--allow-fs-read=${root}`), {
      ENERGY_POWERCAP_ROOT: root,
    });
    const stderr = app.stderr.join('\n');
    expect(stderr).to.include('energy source: rapl (measured: package-0 (intel-rapl:0);');
    expect(stderr).to.not.include('carbonscope: warning');
  });

  it('names --allow-child-process where nvidia-smi is asked for (Node 20 names no flag)', async () => {
    app = await registerUnder(underPermission(), {
      ENERGY_SOURCE: 'nvidia-smi',
      ENERGY_POWERCAP_ROOT: root,
    });
    expect(app.stderr.join('\n')).to.include(
      'carbonscope: warning: ENERGY_SOURCE=nvidia-smi cannot be read (the permission model ' +
        'refuses child processes: grant --allow-child-process); no GPU energy is counted',
    );
    expect(await answers(app)).to.equal(200);
  });

  it("names --allow-fs-read=/proc where child processes may start but the children's CPU is unread", async () => {
    const said =
      'carbonscope: warning: energy: the CPU of child processes that are not Node is not ' +
      'counted (the permission model refuses reading /proc: grant --allow-fs-read=/proc)';
    app = await registerUnder(underPermission('--allow-child-process'), {
      ENERGY_POWERCAP_ROOT: root,
    });
    expect(app.stderr.filter((l) => l === said)).to.have.length(1);
    await app.stop();
    app = await registerUnder(underPermission('--allow-child-process', '--allow-fs-read=/proc'), {
      ENERGY_POWERCAP_ROOT: root,
    });
    expect(app.stderr.join('\n')).to.not.include('child processes that are not Node');
  });

  it('says at info level that auto runs no nvidia-smi where child processes are refused', async () => {
    app = await registerUnder(underPermission(`--allow-fs-read=${root}`), {
      ENERGY_POWERCAP_ROOT: root,
    });
    expect(app.stderr.join('\n')).to.include(
      'carbonscope: energy: nvidia-smi not run (the permission model refuses child processes: ' +
        'grant --allow-child-process): no GPU energy is counted, where this host has NVIDIA GPUs',
    );
  });
});

describe("a cluster under Node's permission model (the real flags, this Node)", function () {
  this.timeout(30_000);
  const CLUSTER = join(dirname(REGISTER_SERVER), 'cluster.js');
  let tmp: ReturnType<typeof tempDir>;
  let app: Spawned | undefined;
  beforeEach(() => {
    // Short: a worker's socket is <tmp>/carbonscope-cluster-<pid>-<id>/<pid>.sock, which must fit
    // a local socket's 107 bytes under npm test's own TMPDIR (this name made it 120 there).
    tmp = tempDir('pm-');
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    tmp.cleanup();
  });

  /**
   * The primary and its two workers under the model, their sockets in `tmp.dir`: the workers
   * serve the primary's scrapes (Prometheus), which push exporters need not.
   */
  const start = async (grants: string[], port: number) =>
    registerUnder(
      underPermission('--allow-child-process', ...grants),
      {
        TMPDIR: tmp.dir,
        ENERGY_SOURCE: 'estimate',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      },
      CLUSTER,
      /^cluster listening \d+/,
    );

  it("names the grants of the workers' socket folder where it is refused", async () => {
    app = await start([], await freePort());
    const said = `the permission model refuses ${tmp.dir}/`;
    await waitFor('the workers to say why', () => app?.stderr.some((l) => l.includes(said))).catch(
      () => expect.fail(app?.stderr.join('\n')),
    );
    const line = app.stderr.find((l) => l.includes(said)) ?? '';
    expect(line).to.match(
      /^carbonscope: warning: this cluster worker cannot give its primary its figures, which its scrapes will lack: the permission model refuses \S+: grant --allow-fs-read=(\S+) --allow-fs-write=(\S+) \(a TMPDIR of the app's own keeps the grant narrow\)$/,
    );
    expect(line).to.include(`--allow-fs-read=${tmp.dir} --allow-fs-write=${tmp.dir} `);
  });

  it('serves every worker from the primary once that folder is granted', async () => {
    const port = await freePort();
    app = await start([`--allow-fs-read=${tmp.dir}`, `--allow-fs-write=${tmp.dir}`], port);
    const ids = (samples: ExposedSample[]) =>
      new Set(samples.map((s) => s.labels.service_instance_id).filter(Boolean)).size;
    await scrapeUntil(`http://127.0.0.1:${port}/metrics`, (s) => ids(s) === 3, 15_000);
    expect(app.stderr.join('\n')).to.not.include('cannot give');
  });
});

describe('the CPU vendor under the permission model (RAPL granted, /proc/cpuinfo refused)', () => {
  it("is /proc/cpuinfo's vendor_id, read through os.cpus()' model name", () => {
    const module = pathToFileURL(
      join(libraryRoot, 'dist', 'src', 'energy', 'sources', 'cpu-vendor.js'),
    );
    const script = `import(${JSON.stringify(module.href)}).then((m) => console.log(m.cpuVendor()))`;
    const seen = execFileSync(process.execPath, [...underPermission(), '-e', script], {
      cwd: dirname(REGISTER_SERVER),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1];
    expect(seen).to.equal(vendor);
  });
});

describe('Kepler under the permission model (/proc/self/cgroup refused)', () => {
  it('says the grant, not a private cgroup namespace, where the container is unknown', () => {
    const url = (file: string) =>
      JSON.stringify(
        pathToFileURL(join(libraryRoot, 'dist', 'src', 'energy', 'sources', file)).href,
      );
    const script =
      `Promise.all([import(${url('kepler.js')}), import(${url('own-container.js')})]).then(` +
      '([k, o]) => console.log(JSON.stringify(k.findKeplerContainer([], o.ownContainer({})))))';
    const seen = execFileSync(process.execPath, [...underPermission(), '-e', script], {
      cwd: dirname(REGISTER_SERVER),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(JSON.parse(seen)).to.deep.equal({
      reason:
        'this process does not know its container: no id in /proc/self/cgroup (the permission ' +
        'model refuses reading /proc/self/cgroup: grant --allow-fs-read=/proc/self/cgroup); set ' +
        'POD_NAME and POD_NAMESPACE through the downward API, or KEPLER_CONTAINER_ID',
    });
  });
});
