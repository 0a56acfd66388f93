import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { findSample } from '#library-tests/helpers/metrics.js';
import { freePort } from '#library-tests/helpers/ports.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { FAIL_FAST, LIBRARY_DIR, npmInstallOrSay, packLibrary } from '../helpers/packed-library.js';

const run = promisify(execFile);

/**
 * An application still on the OTel JS SDK 1.x line (sdk-node 0.57, sdk-metrics 1.30), older than
 * the library's peer ranges: many run it. npm refuses the install beside it; with
 * `--legacy-peer-deps` it installs, and what the user gets then is what this pins.
 */
const SDK_1X = [
  '@opentelemetry/api@1.9.0',
  '@opentelemetry/sdk-node@0.57.2',
  '@opentelemetry/sdk-metrics@1.30.1',
  '@opentelemetry/resources@1.30.1',
  '@opentelemetry/exporter-prometheus@0.57.2',
];

const FIXTURES = join(LIBRARY_DIR, 'test', 'fixtures', 'sdk-1x');
const REQUESTS = 6;

const METER_ENV = {
  ENERGY_SOURCE: 'estimate',
  CARBON_INTENSITY: '300',
  ENERGY_SAMPLE_INTERVAL_MS: '200',
  REQUESTS: String(REQUESTS),
};

describe('the packed library beside an application on the OTel SDK 1.x (sdk-node 0.57)', function () {
  // npm installs from its cache (the registry for what it has not seen).
  this.timeout(240_000);
  const work = tempDirUntilExit('carbonscope-sdk-1x-');
  const dir = join(work, 'app');
  let tarball = '';

  before(async () => {
    tarball = await packLibrary(work);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'sdk-1x', private: true, type: 'module' }),
    );
    // As the application has it: its SDK first, carbonscope added later. Both within the hook's
    // time, with the pack's: a missing package is named, not a hook timeout.
    await npmInstallOrSay(dir, SDK_1X, { timeoutMs: 130_000 });
    await npmInstallOrSay(dir, [tarball], { timeoutMs: 60_000, flags: ['--legacy-peer-deps'] });
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** `main` (serve-and-scrape.js) under `imports`, with its stdout and stderr. */
  async function scrape(
    imports: string[],
    env: Record<string, string> = {},
    main = 'serve-and-scrape.js',
  ) {
    const port = String(await freePort());
    const args = [...imports.flatMap((i) => ['--import', i]), main];
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: dir,
      timeout: 30_000,
      env: childEnv({ ...METER_ENV, OTEL_EXPORTER_PROMETHEUS_PORT: port, ...env }),
    });
    return { stdout, stderr };
  }

  // npm names an optional peer the application never listed (an OTLP exporter, at its newest),
  // not the SDK it has: the README tells what it means.
  it('npm refuses a fresh install without --legacy-peer-deps (ERESOLVE)', async () => {
    const fresh = join(work, 'fresh');
    mkdirSync(fresh);
    const dependencies = Object.fromEntries(
      SDK_1X.map((spec) => [
        spec.slice(0, spec.lastIndexOf('@')),
        spec.slice(spec.lastIndexOf('@') + 1),
      ]),
    );
    writeFileSync(join(fresh, 'package.json'), JSON.stringify({ name: 'fresh', dependencies }));
    // Failing fast where the registry does not answer: what npm could not fetch is then in
    // the assertion's text, not a kill at the timeout with nothing said.
    const args = ['install', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund'];
    const refused = await run('npm', [...args, ...FAIL_FAST, tarball], {
      cwd: fresh,
      timeout: 60_000,
      env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    }).then(
      () => 'npm installed it',
      (err: { killed?: boolean; stderr?: string }) =>
        err.killed ? 'npm did not end within 60 s' : (err.stderr ?? String(err)),
    );
    // npm's error, not its warning: a fetch that failed was preceded by `npm warn ERESOLVE
    // overriding peer dependency`, and read as the refusal.
    expect(refused).to.include('npm error code ERESOLVE');
  });

  it("CarbonscopeInstrumentation's figures come out of the application's Prometheus exporter", async () => {
    const { stdout, stderr } = await scrape(['./otel.js']);
    expect(stderr).to.equal('');
    const labels = { carbonscope_operation: 'unmatched' };
    expect(findSample(stdout, 'carbonscope_operation_energy_count', labels)).to.equal(REQUESTS);
  });

  // The README says these run on the 1.x line too: nothing ran them there.
  it("LocalHistograms and withCurrentGauges in the application's one reader", async () => {
    const { stdout, stderr } = await scrape(['./otel-recipe.js']);
    expect(stderr).to.equal('');
    const labels = { carbonscope_operation: 'unmatched' };
    expect(findSample(stdout, 'carbonscope_operation_energy_count', labels)).to.equal(REQUESTS);
    const zone = { carbonscope_grid_zone: 'DE', carbonscope_grid_source: 'fixed' };
    expect(findSample(stdout, 'carbonscope_grid_carbon_intensity', zone)).to.equal(300);
  });

  it("register joins the application's SDK, started before it", async () => {
    const { stdout, stderr } = await scrape(['./otel-plain.js', 'carbonscope/register']);
    expect(stderr).to.equal('');
    const labels = { carbonscope_operation: 'unmatched' };
    expect(findSample(stdout, 'carbonscope_operation_energy_count', labels)).to.equal(REQUESTS);
  });

  // It said `resources.defaultResource is not a function; the application runs unmetered`, and
  // its Prometheus endpoint stayed up, answering each scrape with a 500 and an error line.
  it('register alone says in one line which SDK versions its own SDK needs, and serves nothing', async () => {
    const { stdout, stderr } = await scrape(['carbonscope/register'], {
      OTEL_METRICS_EXPORTER: 'prometheus',
    });
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).to.have.length(1);
    expect(lines[0]).to.include('@opentelemetry/sdk-metrics 2.x or 3.x (1.30.1 is installed)');
    expect(lines[0]).to.include('@opentelemetry/resources 2.x or 3.x (1.30.1 is installed)');
    expect(lines[0]).to.include('@opentelemetry/exporter-prometheus 0.200 to 0.3xx (0.57.2');
    expect(stdout).to.equal('no scrape: ECONNREFUSED');
  });

  // Its figures went nowhere: register gave up when its own SDK could not start, and never
  // looked at the provider the application registered later.
  it("register joins the application's SDK started after it gave up its own", async () => {
    const { stdout, stderr } = await scrape(['carbonscope/register'], {}, 'late.js');
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).to.have.length(1);
    expect(lines[0]).to.include('not exported until the application registers a meter provider');
    const labels = { carbonscope_operation: 'unmatched' };
    expect(findSample(stdout, 'carbonscope_operation_energy_count', labels)).to.equal(REQUESTS);
  });
});
