import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { findSample } from '#library-tests/helpers/metrics.js';
import { oldNode } from '#library-tests/helpers/old-node.js';
import { histogramPoint, otlpReceiver } from '#library-tests/helpers/otlp-receiver.js';
import { blockWith, PACKAGE_README, readmeBlocks } from '#library-tests/helpers/readme-blocks.js';
import type { Spawned } from '#library-tests/helpers/spawn.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { projectRoot } from '../../src/paths.js';
import {
  installedPackages,
  node24,
  npmInstallOrSay,
  packLibrary,
} from '../helpers/packed-library.js';
import { freePorts, spawnUntil } from '../helpers/spawn-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

interface Example {
  name: string;
  /** The Node binary it runs on: the machine's, or Node 24 (the OTel SDK 3.x line). */
  node: () => Promise<string>;
}

const EXAMPLES: Example[] = [
  { name: 'express', node: async () => process.execPath },
  { name: 'fastify', node: async () => process.execPath },
  { name: 'koa', node: async () => process.execPath },
  { name: 'http', node: node24 },
];

/**
 * Each way into carbonscope without touching the service's code. With the application's own
 * SDK, its Prometheus endpoint is one more server of the process, so the test's scrapes are
 * requests too (no route: `unmatched`); carbonscope's own endpoint is left out.
 */
/**
 * The names each mode's endpoint gives. carbonscope's own endpoint names as the OTel Collector
 * does (unit words); an application's NodeSDK serves its JS Prometheus exporter's, which adds
 * only `_total` (opentelemetry-js#3466), as the README says.
 */
const OWN_NAMES = {
  host: 'hw_host_energy_joules_total',
  operation: 'carbonscope_operation_energy_joules',
  process: 'carbonscope_process_energy_joules_total',
};
const SDK_NAMES = {
  host: 'hw_host_energy_total',
  operation: 'carbonscope_operation_energy',
  process: 'carbonscope_process_energy_total',
};

const MODES = [
  {
    name: 'zero code (--import carbonscope/register)',
    importFlag: 'carbonscope/register',
    scrapesCounted: false,
    names: OWN_NAMES,
  },
  {
    name: 'CarbonscopeInstrumentation in NodeSDK',
    importFlag: './otel.js',
    scrapesCounted: true,
    names: SDK_NAMES,
  },
];

/**
 * OTEL_EXPORTER_PROMETHEUS_HOST in the cases that set it: a loopback address (Linux answers on
 * all of 127/8) that localhost is not, so an exporter that ignores the variable is not found.
 */
const METRICS_HOST = '127.0.0.2';

/**
 * The endpoint's text. A refused connection or an error status throws, so that a wait that runs
 * out says which it was (waitFor names the last check's error).
 */
async function scrape(port: number, host = '127.0.0.1'): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`http://${host}:${port}/metrics`);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`GET :${port}/metrics: ${code ?? String(err)}`);
  }
  const body = await res.text();
  if (!res.ok) throw new Error(`GET :${port}/metrics answered ${res.status}`);
  return body;
}

/**
 * Waits up to 15 s; a wait that runs out carries the application's stderr, where carbonscope
 * says why it exports nothing (a port it could not listen on, say).
 */
const until = (what: string, app: Spawned, ok: () => Promise<boolean>) =>
  waitFor(what, ok, 15_000, 100).catch((err: unknown) => {
    const stderr = app.stderr.join('\n').trim() || '(empty)';
    throw new Error(`${err instanceof Error ? err.message : String(err)}\napp stderr: ${stderr}`);
  });

/**
 * An install from npm's cache, which a loaded 2-core machine stretches: within the hooks' 300 s,
 * and a registry that does not answer fails fast, naming what npm could not fetch.
 */
const INSTALL = { timeoutMs: 180_000 };

/**
 * An example server's environment: on `port`, no traces nor logs, a constant estimate sampled
 * every 200 ms, and `metrics` (how it exports them).
 */
function serverEnv(port: number, metrics: Record<string, string>): Record<string, string> {
  return childEnv({
    HOME: process.env.HOME ?? '',
    PORT: String(port),
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    CARBON_INTENSITY: '300',
    ENERGY_SOURCE: 'estimate',
    ENERGY_SAMPLE_INTERVAL_MS: '200',
    ...metrics,
  });
}

/**
 * otel.js with its Prometheus reader taken out, all else as shipped: NodeSDK then pushes OTLP as
 * OTEL_METRICS_EXPORTER says, so its shutdown handler has a last push to make (the case of a user
 * who copies otel.js with a push exporter).
 */
function pushingOtelJs(dir: string): string {
  const shipped = readFileSync(join(dir, 'otel.js'), 'utf8');
  const pushing = shipped.replace(/^ {2}metricReaders: \[\n[\s\S]*?^ {2}\],\n/m, '');
  if (pushing === shipped) throw new Error(`${dir}/otel.js: no metricReaders block to take out`);
  const file = join(dir, 'otel-push.js');
  writeFileSync(file, pushing);
  return './otel-push.js';
}

describe('the packed library in fresh projects (examples/)', function () {
  // npm installs from its cache (the registry for what it has not seen), then runs each example.
  this.timeout(300_000);
  let tarball: string;
  const work = tempDirUntilExit('carbonscope-examples-');

  before(async () => {
    tarball = await packLibrary(work);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships its runtime only: exports, no tests or sources, a LICENSE', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).to.include.members([
      'package/LICENSE',
      'package/README.md',
      'package/package.json',
      'package/dist/src/index.js',
      'package/dist/src/register.js',
      'package/data/llm/models.json',
    ]);
    expect(
      files.filter((f) => /\/test\/|\.ts$|\.map$/.test(f) && !f.endsWith('.d.ts')),
    ).to.deep.equal([]);
    const pkg = JSON.parse(
      readFileSync(join(projectRoot, 'packages/carbonscope/package.json'), 'utf8'),
    );
    expect(Object.keys(pkg.exports)).to.deep.equal(['.', './register', './package.json']);
    expect(Object.keys(pkg.dependencies ?? {})).to.not.include('@opentelemetry/sdk-metrics');
  });

  // Node's --enable-source-maps, webpack's source-map-loader and Vite read the comment and warn
  // (or fail) where the map it names is not in the package; editors read the one in a .d.ts.
  it('names no source map that the tarball lacks', async () => {
    const files = new Set((await run('tar', ['-tzf', tarball])).stdout.trim().split('\n'));
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    const missing: string[] = [];
    for (const file of [...files].filter((f) => /\.([cm]?js|d\.[cm]?ts)$/.test(f))) {
      const text = readFileSync(join(unpacked, file), 'utf8');
      for (const [, url] of text.matchAll(/^\/\/[#@] sourceMappingURL=(\S+)\s*$/gm)) {
        if (url?.startsWith('data:')) continue;
        const map = posix.join(posix.dirname(file), url ?? '');
        if (!files.has(map)) missing.push(`${file} -> ${url}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  // npm hoists a package's undeclared imports into reach; pnpm's strict layout does not.
  it('imports no package its package.json does not declare', async () => {
    // The shipped code passed execFile's 1 MiB default this stop: its own cap, well above it.
    const { stdout: shipped } = await run(
      'tar',
      ['-xzOf', tarball, '--wildcards', 'package/dist/src/*.js'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    // Comments left out: twice this stop one quoting an import (`from 'module'`, of 'koa') read
    // as an undeclared package. Block comments, and line comments that begin their line.
    const stdout = shipped.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const pkg = JSON.parse(
      readFileSync(join(projectRoot, 'packages/carbonscope/package.json'), 'utf8'),
    );
    const declared = new Set([
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);
    // Static and literal dynamic imports, literal require()s, and the optional SDK packages it
    // imports by name (kept in string constants).
    const specifiers = [
      ...stdout.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)'([@\w][\w@./:-]*)'/g),
      ...stdout.matchAll(/'(@opentelemetry\/[^']+)'/g),
    ].map((m) => m[1] ?? '');
    const packages = new Set(
      specifiers
        .filter((s) => !s.startsWith('node:'))
        .map((s) =>
          s
            .split('/')
            .slice(0, s.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    );
    expect(packages.size).to.be.greaterThan(3);
    expect([...packages].filter((p) => !declared.has(p))).to.deep.equal([]);
  });

  for (const api of ['1.9', '1.10']) {
    it(`installs alone beside @opentelemetry/api ${api}: few packages, no install scripts, offline`, async () => {
      const dir = join(work, `alone-${api}`);
      cpSync(join(projectRoot, 'examples', 'http'), dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh', private: true }));
      await npmInstallOrSay(dir, [tarball, `@opentelemetry/api@${api}`], INSTALL);
      const packages = installedPackages(dir);
      expect(packages).to.include.members(['carbonscope', '@opentelemetry/api']);
      expect(packages.length, packages.join(', ')).to.be.at.most(8);
      const { stdout } = await run(
        'npm',
        [
          'query',
          ':attr(scripts, [install]), :attr(scripts, [postinstall]), :attr(scripts, [preinstall])',
        ],
        { cwd: dir },
      );
      expect(JSON.parse(stdout)).to.deep.equal([]);
      // Everything is now in npm's cache: a second project installs with the network forbidden.
      const offline = join(work, `offline-${api}`);
      cpSync(join(dir, 'package.json'), join(offline, 'package.json'));
      await run(
        'npm',
        ['install', '--offline', '--no-audit', '--no-fund', tarball, `@opentelemetry/api@${api}`],
        { cwd: offline, timeout: 120_000 },
      );
      expect(installedPackages(offline)).to.include('carbonscope');
      // The command and its LLM tables come with the tarball, and need no optional peer.
      const impacts = await run(
        join(offline, 'node_modules', '.bin', 'carbonscope'),
        ['impacts', '--model', 'openai/gpt-4o', '--output-tokens', '100', '--json'],
        { cwd: offline, env: childEnv({}) },
      );
      expect(JSON.parse(impacts.stdout).energy.unit).to.equal('kWh');
      // A table missing from the install is the install's fault, not LLM_MODELS_FILE's (unset).
      rmSync(join(offline, 'node_modules', 'carbonscope', 'data', 'llm', 'providers.json'));
      const broken = await run(
        join(offline, 'node_modules', '.bin', 'carbonscope'),
        ['impacts', '--model', 'openai/gpt-4o', '--output-tokens', '100'],
        { cwd: offline, env: childEnv({}) },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(broken.code).to.equal(1);
      expect(broken.stderr).to.match(/data\/llm\/providers\.json: not found/);
      expect(broken.stderr).to.not.include('LLM_MODELS_FILE');
    });
  }

  it('works from CommonJS with require() on Node 20 and 24, and preloaded with -r carbonscope/register', async () => {
    const dir = join(work, 'alone-1.9');
    writeFileSync(
      join(dir, 'require.cjs'),
      `const cs = require('carbonscope');
cs.measure('job', () => 42).then(({ result, footprint }) => {
  console.log(JSON.stringify({ start: typeof cs.start, result, operation: footprint.operation }));
  return cs.stop();
});`,
    );
    // -r loads register with require(): top-level await in its graph would end the process there
    // (ERR_REQUIRE_ASYNC_MODULE).
    const runs = [process.execPath, await node24()].flatMap((node) =>
      [[], ['-r', 'carbonscope/register']].map((preload) => ({ node, preload })),
    );
    for (const { node, preload } of runs) {
      const { stdout, stderr } = await run(node, [...preload, 'require.cjs'], {
        cwd: dir,
        env: childEnv({
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          OTEL_METRICS_EXPORTER: 'none',
        }),
      });
      expect(JSON.parse(stdout), `${node} ${preload.join(' ')}`).to.deep.equal({
        start: 'function',
        result: 42,
        operation: 'job',
      });
      expect(stderr).to.equal('');
    }
  });

  // esbuild's own answer for CommonJS packages (Express's) in an ESM bundle: its text goes in as
  // it is, so a top-level createRequire of carbonscope's inlined code declared it twice.
  const ESM_REQUIRE_BANNER =
    "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

  it('runs bundled by esbuild, ESM and CommonJS: code inlined, register too, LLM data said to be missing', async () => {
    // The bundle's grandparent folder holds another package.json, as an application's would, and
    // a data/llm/ of its own (valid tables: read, they would load): not carbonscope's to read.
    const dir = join(work, 'bundled', 'project');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(work, 'bundled', 'package.json'), '{"name":"app","version":"9.9.9"}');
    cpSync(
      join(projectRoot, 'packages/carbonscope/data/llm'),
      join(work, 'bundled', 'data', 'llm'),
      { recursive: true },
    );
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bundled', private: true }));
    await npmInstallOrSay(dir, [tarball, '@opentelemetry/api@1.9', 'esbuild@0.28'], INSTALL);
    // The bundle lands one folder below the project, as dist/app.js would: carbonscope's files
    // are not two levels above it, where its compiled modules look for them.
    writeFileSync(
      join(dir, 'app.js'),
      `const cs = require('carbonscope');
cs.measure('job', () => 42).then(({ result }) => {
  let catalog;
  try { cs.loadCatalog(); catalog = 'loaded'; } catch (err) { catalog = err.message; }
  console.log(JSON.stringify({ version: cs.VERSION, result, catalog }));
  return cs.stop();
});`,
    );
    const { version } = JSON.parse(
      readFileSync(join(projectRoot, 'packages/carbonscope/package.json'), 'utf8'),
    );
    for (const format of ['esm', 'cjs']) {
      const out = join(dir, 'out', `app.${format === 'esm' ? 'mjs' : 'cjs'}`);
      await run(
        join(dir, 'node_modules', '.bin', 'esbuild'),
        [
          'app.js',
          '--bundle',
          '--platform=node',
          `--format=${format}`,
          `--outfile=${out}`,
          ...(format === 'esm' ? [ESM_REQUIRE_BANNER] : []),
        ],
        { cwd: dir },
      );
      const { stdout } = await run(process.execPath, [out], {
        cwd: dir,
        env: childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      }).catch((err: { stderr?: string }) => {
        throw new Error(`${format} bundle failed: ${err.stderr ?? String(err)}`);
      });
      const seen = JSON.parse(stdout);
      expect(seen, format).to.deep.include({ version, result: 42 });
      expect(seen.catalog, format).to.match(/bundl.*--external:carbonscope/);
    }
    // A bundle needs no require(esm): Node 22.11 runs it as it runs an import of carbonscope.
    // require('carbonscope')'s entry refused it there by version, inlined in the bundle.
    const onOld = await run(oldNode('22.11.0'), [join(dir, 'out', 'app.cjs')], {
      cwd: dir,
      env: childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
    }).catch((err: { stderr?: string }) => {
      throw new Error(`cjs bundle on Node 22.11 failed: ${err.stderr ?? String(err)}`);
    });
    expect(JSON.parse(onOld.stdout)).to.deep.include({ version, result: 42 });
    // register inlined: the bundler takes its whole graph (the `module` condition, or `default`
    // where custom conditions drop that one), not Node's entries: register.js's createRequire of
    // the rest finds nothing beside a bundle (ESM) or no import.meta.url at all (CommonJS), and
    // register-import.js's top-level await cannot go in a CommonJS bundle.
    const present = "globalThis[Symbol.for('carbonscope.register-present.v1')]";
    writeFileSync(
      join(dir, 'registered.js'),
      `require('carbonscope/register');
console.log(JSON.stringify({ registered: ${present} }));`,
    );
    writeFileSync(
      join(dir, 'registered-import.mjs'),
      `import 'carbonscope/register';
console.log(JSON.stringify({ registered: ${present} }));`,
    );
    for (const [source, format, conditions] of [
      ['registered.js', 'esm', []],
      ['registered.js', 'cjs', []],
      ['registered.js', 'cjs', ['--conditions=production']],
      ['registered-import.mjs', 'esm', ['--conditions=production']],
      ['registered-import.mjs', 'cjs', ['--conditions=production']],
    ] as const) {
      const out = join(
        dir,
        'out',
        `${source.split('.')[0]}-${conditions.length}.${format === 'esm' ? 'mjs' : 'cjs'}`,
      );
      const esbuild = [
        source,
        '--bundle',
        '--platform=node',
        `--format=${format}`,
        `--outfile=${out}`,
        ...conditions,
        ...(format === 'esm' ? [ESM_REQUIRE_BANNER] : []),
      ];
      await run(join(dir, 'node_modules', '.bin', 'esbuild'), esbuild, { cwd: dir }).catch(
        (err: { stderr?: string }) => {
          throw new Error(`${esbuild.join(' ')}: ${err.stderr ?? String(err)}`);
        },
      );
      const { stdout, stderr } = await run(process.execPath, [out], {
        cwd: dir,
        env: childEnv({ ENERGY_SOURCE: 'estimate', OTEL_METRICS_EXPORTER: 'none' }),
      }).catch((err: { stderr?: string }) => {
        throw new Error(`${esbuild.join(' ')}: ${err.stderr ?? String(err)}`);
      });
      expect(JSON.parse(stdout), esbuild.join(' ')).to.deep.equal({ registered: true });
      expect(stderr, esbuild.join(' ')).to.equal('');
    }
  });

  // Node's single executable applications (SEA): one CommonJS script in a copy of the node
  // binary, whose require() knows the built-in modules alone and whose import() of a package by
  // name resolves from the working directory, never from the executable's folder or its script.
  it('runs as a single executable application: metered, its own SDK inside exporting, a missing one named', async function () {
    if (process.platform !== 'linux') this.skip(); // macOS and Windows must sign the copy
    const dir = join(work, 'sea');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sea', private: true }));
    await npmInstallOrSay(
      dir,
      [
        tarball,
        '@opentelemetry/api@1.9',
        '@opentelemetry/sdk-metrics@2',
        '@opentelemetry/exporter-metrics-otlp-proto@0.223',
        'esbuild@0.28',
        'postject@1.0.0-alpha.6',
      ],
      INSTALL,
    );
    const busy = 'const t = Date.now(); while (Date.now() - t < 100);';
    writeFileSync(
      join(dir, 'registered.js'),
      `require('carbonscope/register');
const cs = require('carbonscope');
cs.measure('job', () => { ${busy} }).then(({ footprint }) => {
  console.log(JSON.stringify({ joules: footprint.joules }));
  return cs.stop();
});`,
    );
    writeFileSync(
      join(dir, 'own-sdk.js'),
      `const sdkMetrics = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const cs = require('carbonscope');
const histograms = new cs.LocalHistograms(sdkMetrics, cs.SCOPE);
const exporter = new OTLPMetricExporter();
const reader = new sdkMetrics.PeriodicExportingMetricReader({
  exporter,
  metricProducers: [histograms.producer(exporter)],
});
const provider = new sdkMetrics.MeterProvider({ readers: [cs.withCurrentGauges(sdkMetrics, reader)] });
new cs.CarbonscopeInstrumentation({ histograms }).setMeterProvider(provider);
cs.measure('job', () => { ${busy} })
  .then(({ footprint }) => console.log(JSON.stringify({ joules: footprint.joules })))
  .then(() => cs.stop())
  .then(() => provider.shutdown());`,
    );
    const seaOf = async (source: string): Promise<string> => {
      const name = source.split('.')[0] ?? source;
      const bundle = `${name}.cjs`;
      const esbuild = [source, '--bundle', '--platform=node', '--format=cjs', '--log-level=error'];
      await run(join(dir, 'node_modules', '.bin', 'esbuild'), [...esbuild, `--outfile=${bundle}`], {
        cwd: dir,
      });
      const config = { main: bundle, output: `${name}.blob`, disableExperimentalSEAWarning: true };
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(config));
      await run(process.execPath, ['--experimental-sea-config', `${name}.json`], { cwd: dir });
      const exe = join(dir, 'bin', name);
      mkdirSync(dirname(exe), { recursive: true });
      copyFileSync(process.execPath, exe);
      const fuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
      const postject = [exe, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', fuse];
      await run(join(dir, 'node_modules', '.bin', 'postject'), postject, { cwd: dir });
      return exe;
    };
    // Run from a folder with no node_modules, as a packaged service is.
    const elsewhere = join(work, 'sea-elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const receiver = await otlpReceiver();
    try {
      const env = childEnv({
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      });
      const registered = await run(await seaOf('registered.js'), [], { cwd: elsewhere, env });
      expect(JSON.parse(registered.stdout).joules).to.be.greaterThan(0);
      expect(registered.stderr.trim().split('\n')).to.deep.equal([
        'carbonscope: warning: metrics are not exported: OTEL_METRICS_EXPORTER=otlp needs ' +
          '@opentelemetry/sdk-metrics, @opentelemetry/resources, ' +
          '@opentelemetry/exporter-metrics-otlp-proto, which a single executable application ' +
          `imports from its working directory (${elsewhere}), not from its own file: start the ` +
          'SDK in your bundle, with CarbonscopeInstrumentation (carbonscope\'s README, "In your ' +
          'build"), or install them there',
      ]);
      expect(receiver.received).to.have.length(0);
      const own = await run(await seaOf('own-sdk.js'), [], { cwd: elsewhere, env });
      expect(JSON.parse(own.stdout).joules).to.be.greaterThan(0);
      expect(own.stderr).to.equal('');
      const point = receiver.pushes
        .map((push) =>
          histogramPoint(push.body, 'carbonscope.operation.energy', 'carbonscope.operation', 'job'),
        )
        .find((p) => p !== undefined);
      expect(point?.count).to.equal(1);
      expect(point?.sum).to.be.greaterThan(0);
    } finally {
      await receiver.close();
    }
  });

  // npm on Node 22.15+ resolves an optional peer the app does not list to its newest version
  // whose engines fit (an OTel 3.x exporter, api ^1.10) and fails ERESOLVE beside an SDK 2.x
  // (npm/cli#8416): each 2.x example lists every optional peer at its own line.
  for (const name of ['express', 'fastify', 'koa']) {
    it(`examples/${name} installs fresh with Node 24's npm (SDK 2.x line)`, async () => {
      const dir = join(work, `node24-${name}`);
      cpSync(join(projectRoot, 'examples', name), dir, { recursive: true });
      const path = `${dirname(await node24())}${delimiter}${process.env.PATH ?? ''}`;
      await npmInstallOrSay(dir, [tarball], { ...INSTALL, env: { ...process.env, PATH: path } });
      const exporter = JSON.parse(
        readFileSync(
          join(dir, 'node_modules/@opentelemetry/exporter-metrics-otlp-proto/package.json'),
          'utf8',
        ),
      );
      expect(exporter.version).to.match(/^0\.2\d\d\./);
    });
  }

  // The package README's shutdown snippet is what the doubled-signal cases below run.
  it("each otel.js ends with the package README's shutdown snippet, verbatim", () => {
    const snippet = blockWith(readmeBlocks(PACKAGE_README), 'stopping ??=');
    for (const { name } of EXAMPLES) {
      const otel = readFileSync(join(projectRoot, 'examples', name, 'otel.js'), 'utf8');
      expect(otel.endsWith(snippet), `examples/${name}/otel.js`).to.equal(true);
    }
  });

  for (const example of EXAMPLES) {
    describe(`examples/${example.name}`, () => {
      const dir = join(work, example.name);
      before(async () => {
        cpSync(join(projectRoot, 'examples', example.name), dir, { recursive: true });
        await npmInstallOrSay(dir, [tarball], INSTALL);
      });

      // Ctrl-C on `npm run start:sdk` sends SIGINT twice (the terminal's to the process group,
      // npm's forwarded copy), as a SIGTERM sent to the group does. The second comes here while
      // the last push is held in flight. With process.once it found no listener and Node's
      // default ended the process mid-push; with a bare process.on, sdk.shutdown() again
      // resolved at once and process.exit() came before the push's answer.
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        it(`otel.js under a doubled ${signal}: one last push, answered, then exit 0`, async () => {
          const node = await example.node();
          const [port] = (await freePorts(1)) as [number];
          let app: Spawned | undefined;
          let exitedWhileHeld: Promise<boolean> | undefined;
          const receiver = await otlpReceiver({
            answer: () => {
              app?.proc.kill(signal);
              // Held until the app exits or 2 s pass: the handler's chain must wait for it.
              exitedWhileHeld = Promise.race([
                (app?.exited ?? Promise.resolve()).then(() => true),
                sleep(2_000).then(() => false),
              ]);
              return exitedWhileHeld.then(() => 200);
            },
          });
          try {
            app = await spawnUntil(node, ['--import', pushingOtelJs(dir), 'server.js'], {
              cwd: dir,
              env: serverEnv(port, {
                OTEL_METRICS_EXPORTER: 'otlp',
                OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
                // No periodic push in the test's time: the shutdown's is the only one.
                OTEL_METRIC_EXPORT_INTERVAL: '600000',
              }),
              waitFor: /^listening \d+/,
            });
            expect((await fetch(`http://127.0.0.1:${port}/users/7`)).status).to.equal(200);
            app.proc.kill(signal);
            const ended = await app.exited;
            const stderr = app.stderr.join('\n');
            expect(ended, stderr).to.deep.equal({ code: 0, signal: null });
            expect(await exitedWhileHeld, 'exited before its push was answered').to.equal(false);
            expect(receiver.received).to.have.length(1);
            const point = histogramPoint(
              receiver.received[0]?.body,
              'carbonscope.operation.energy',
              'carbonscope.operation',
              '/users/:id',
            );
            expect(point?.count).to.equal(1);
            expect(stderr).to.not.match(/error/i);
          } finally {
            await app?.stop('SIGKILL');
            await receiver.close();
          }
        });
      }

      // The exporter-prometheus of the SDK 3.x line (0.30x) reads no OTEL_EXPORTER_PROMETHEUS_PORT
      // or _HOST of its own, where 0.2xx did: the recipe as printed served on localhost:9464
      // whatever they said, so a container's _HOST=0.0.0.0 left Prometheus nothing to scrape.
      it("the package README's LocalHistograms recipe serves where OTEL_EXPORTER_PROMETHEUS_HOST and _PORT say", async () => {
        const recipe = blockWith(
          readmeBlocks(PACKAGE_README),
          'new CarbonscopeInstrumentation({ histograms })',
        );
        writeFileSync(join(dir, 'otel-recipe.js'), recipe);
        const node = await example.node();
        const [port, metricsPort] = (await freePorts(2)) as [number, number];
        const app = await spawnUntil(node, ['--import', './otel-recipe.js', 'server.js'], {
          cwd: dir,
          env: serverEnv(port, {
            OTEL_EXPORTER_PROMETHEUS_HOST: METRICS_HOST,
            OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          }),
          waitFor: /^listening \d+/,
        });
        try {
          expect((await fetch(`http://127.0.0.1:${port}/users/1`)).status).to.equal(200);
          await until("the request, counted on the recipe's exporter", app, async () => {
            const text = await scrape(metricsPort, METRICS_HOST).catch(() => '');
            return (
              findSample(text, `${SDK_NAMES.operation}_count`, {
                carbonscope_operation: '/users/:id',
              }) === 1
            );
          });
        } finally {
          await app.stop();
        }
      });

      for (const mode of MODES) {
        it(`per-route energy under the route template, ${mode.name}`, async () => {
          const node = await example.node();
          const [port, metricsPort] = (await freePorts(2)) as [number, number];
          const app = await spawnUntil(node, ['--import', mode.importFlag, 'server.js'], {
            cwd: dir,
            env: serverEnv(port, {
              OTEL_METRICS_EXPORTER: 'prometheus',
              // Another loopback address than localhost's: served where the variables say.
              OTEL_EXPORTER_PROMETHEUS_HOST: METRICS_HOST,
              OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
            }),
            waitFor: /^listening \d+/,
          });
          try {
            // Metrics exist once carbonscope has joined (or started) an SDK: after its first sample.
            await until('carbonscope metrics', app, async () =>
              (await scrape(metricsPort, METRICS_HOST)).includes(mode.names.host),
            );
            const base = `http://127.0.0.1:${port}`;
            for (const id of ['1', '2', 'abc']) {
              expect((await fetch(`${base}/users/${id}`)).status).to.equal(200);
            }
            expect((await fetch(`${base}/hello`)).status).to.equal(200);
            expect((await fetch(`${base}/no/such/${Math.random()}`)).status).to.equal(404);
            let text = '';
            const count = (operation: string) =>
              findSample(text, `${mode.names.operation}_count`, {
                carbonscope_operation: operation,
              });
            // A request is counted at the sample after it ends, so the five may land in two
            // samples: wait for all of them, not only for the first route's.
            await until('three /users/:id operations, one /hello, one unmatched', app, async () => {
              text = await scrape(metricsPort, METRICS_HOST);
              const unmatched = count('unmatched') ?? 0;
              return (
                count('/users/:id') === 3 &&
                count('/hello') !== undefined &&
                (mode.scrapesCounted ? unmatched >= 1 : unmatched === 1)
              );
            });
            expect(count('/hello')).to.equal(1);
            expect(
              findSample(text, `${mode.names.operation}_sum`, {
                carbonscope_operation: '/users/:id',
              }),
            ).to.be.greaterThan(0);
            // The template, never the raw path.
            expect(text).to.not.match(/carbonscope_operation="\/users\/(1|2|abc)"/);
            expect(text).to.not.match(/carbonscope_operation="\/no\//);
            expect(
              findSample(text, mode.names.process, {
                carbonscope_power_source: 'estimate',
                carbonscope_estimated: 'true',
              }),
            ).to.be.greaterThan(0);
            expect(app.stderr.join('\n')).to.not.match(/error/i);
          } finally {
            await app.stop();
          }
        });
      }
    });
  }
});
