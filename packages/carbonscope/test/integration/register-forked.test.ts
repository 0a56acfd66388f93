import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type ExposedSample, parseSamples } from '../helpers/metrics.js';
import { freePort, freePorts } from '../helpers/ports.js';
import { scrapeUntil } from '../helpers/scrape-until.js';
import { running, type Spawned, spawnUntil } from '../helpers/spawn.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

/** An application that forks Node children of its own (no cluster), which inherit NODE_OPTIONS. */
const FORKED = join(libraryRoot, 'test', 'fixtures', 'register', 'forked.js');

/** The service_instance_id of every process in a scrape, as its target_info line says. */
const instances = (samples: ExposedSample[]) =>
  samples.filter((s) => s.name === 'target_info').map((s) => s.labels.service_instance_id);

/** The socket folder of the parent whose pid is `pid`, if there is one. */
const folderOf = (pid: number | undefined) =>
  readdirSync(tmpdir()).filter((n) => n.startsWith(`carbonscope-cluster-${pid}-`));

describe('NODE_OPTIONS=--import carbonscope/register in an application that forks Node children, OTEL_METRICS_EXPORTER=prometheus', function () {
  this.timeout(60_000);
  let app: Spawned | undefined;

  afterEach(async () => {
    const parent = app?.proc.pid;
    await app?.stop('SIGKILL');
    app = undefined;
    // A parent killed so has no exit of its own, where it removes its folder (and one opened to
    // others it will not touch): the test's to remove, or the run's TMPDIR keeps it.
    for (const name of folderOf(parent))
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
  });

  /** forked.js with `children` children, the parent's endpoint on `port`. */
  const start = (port: number, env: Record<string, string> = {}) =>
    spawnUntil(process.execPath, [FORKED], {
      cwd: join(libraryRoot, 'test', 'fixtures', 'register'),
      env: childEnv({
        NODE_OPTIONS: '--import carbonscope/register',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        ENERGY_SAMPLE_INTERVAL_MS: '200',
        CHILDREN: '2',
        ...env,
      }),
      waitFor: /^forked [\d ]+$/,
    });

  // Each child inherited NODE_OPTIONS and opened the endpoint on its parent's port: one
  // EADDRINUSE error line per child, and its figures (its CPU, its energy) were served nowhere.
  it("the parent's endpoint serves each child's figures under its own service_instance_id, with no error line", async () => {
    const port = await freePort();
    app = await start(port);
    const samples = await scrapeUntil(
      `http://127.0.0.1:${port}/metrics`,
      (s) => new Set(instances(s)).size === 3,
      15_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
    });
    const ids = instances(samples);
    const energy = samples.filter((s) => s.name === 'carbonscope_process_energy_joules_total');
    expect(new Set(energy.map((s) => s.labels.service_instance_id))).to.deep.equal(new Set(ids));
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
    const parent = app.proc.pid;
    const children = (app.stdout.find((l) => l.startsWith('forked ')) ?? '').split(' ').slice(1);
    await app.stop('SIGTERM');
    // The children end as their channel closes; the last one's exit takes the folder with it.
    await waitFor(
      'the children to end',
      () => children.every((pid) => !running(Number(pid))),
      10_000,
    );
    expect(folderOf(parent)).to.deep.equal([]);
  });

  // exec() runs its command through a shell: node is the application's grandchild, and found
  // its parent (the shell) no primary: the port taken, one error line per child.
  it("a child started through a shell serves its figures on its parent's endpoint too", async () => {
    const port = await freePort();
    app = await start(port, { VIA_SHELL: '1' });
    await scrapeUntil(
      `http://127.0.0.1:${port}/metrics`,
      (s) => new Set(instances(s)).size === 3,
      15_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; stderr: ${app?.stderr.join('\n')}`);
    });
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  it('a child the application gives a port of its own serves its figures there, as it was told', async () => {
    const [port, childPort] = await freePorts(2);
    app = await start(port, { CHILDREN: '1', CHILD_PORT: String(childPort) });
    const mine = await scrapeUntil(
      `http://127.0.0.1:${childPort}/metrics`,
      (s) => instances(s).length === 1,
      15_000,
    );
    const theirs = parseSamples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(instances(theirs)).to.have.length(1);
    expect(instances(theirs)[0]).to.not.equal(instances(mine)[0]);
    expect(app.stderr.join('\n')).to.not.match(/error|warning/i);
  });

  // A child that cannot answer its parent (here its socket's path too long for the TMPDIR its
  // parent named the folder from) said "this cluster worker cannot give its primary its
  // figures", and told the user to shorten "the cluster's primary"'s TMPDIR: there is no cluster.
  it('a child that cannot answer its parent says so as a child process, not a cluster worker', async () => {
    const port = await freePort();
    const long = tempDirUntilExit(`carbonscope-${'t'.repeat(90)}-`);
    app = await start(port, { CHILDREN: '1', TMPDIR: long });
    const warning = await waitFor("the child's warning", () =>
      app?.stderr.find((l) => l.includes('warning')),
    );
    expect(warning).to.include('this child process cannot give its parent its figures');
    expect(warning).to.include('give its parent a shorter TMPDIR');
    expect(warning).to.not.match(/cluster worker|primary/);
  });

  // Its parent, which has no cluster worker, said "the cluster's workers' figures are not read".
  it('a parent that will not read its folder says so of its child processes, not of a cluster', async () => {
    const port = await freePort();
    app = await start(port, { CHILDREN: '1' });
    const parent = app.proc.pid;
    const [folder] = await waitFor("the children's folder", () => folderOf(parent), {
      until: (f) => f.length === 1,
    });
    chmodSync(join(tmpdir(), String(folder)), 0o777);
    const warning = await waitFor("the parent's warning", async () => {
      await fetch(`http://127.0.0.1:${port}/metrics`);
      return app?.stderr.find((l) => l.includes('figures are not read'));
    });
    expect(warning).to.include("the child processes' figures are not read").and.include('mode 777');
  });
});
