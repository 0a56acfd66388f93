import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { StubElectricityMaps } from '../fixtures/grid/stub-electricity-maps.js';
import { childEnv } from '../helpers/child-env.js';
import { histogramPoint, otlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort, freePorts } from '../helpers/ports.js';
import {
  blockWith,
  EXAMPLES_README,
  PACKAGE_README,
  ROOT_README,
  readmeBlocks,
  withShapeChecks,
} from '../helpers/readme-blocks.js';
import { runToEnd, type Spawned, spawnUntil } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The package README's recipe for an application's own SDK, as a user copies it: the first
 * code block that gives carbonscope its local histograms.
 */
function recipe(): string {
  return blockWith(readmeBlocks(PACKAGE_README), 'new CarbonscopeInstrumentation({ histograms })');
}

const GAUGE = /^carbonscope_grid_carbon_intensity\{[^}]*carbonscope_grid_source="([^"]+)"/gm;

/** The grid intensity gauge's sources in a scrape. */
function gridSources(text: string): string[] {
  return [...text.matchAll(GAUGE)].map((m) => m[1] ?? '').sort();
}

describe("the package README's recipe for an application's own SDK, run as written", function () {
  this.timeout(60_000);
  const stub = new StubElectricityMaps('recipe-key');
  let dir: string | undefined;
  let app: Spawned | undefined;

  after(async () => {
    await app?.stop('SIGKILL');
    await stub.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves only the grid source that answers now: the fallback series leaves at recovery', async () => {
    await stub.start();
    stub.next(...Array.from({ length: 1000 }, () => ({ status: 503 })));
    // Under dist (ignored, built output): `carbonscope` and the SDK resolve as a user's would.
    dir = mkdtempSync(join(libraryRoot, 'dist', 'recipe-'));
    const file = join(dir, 'otel.mjs');
    writeFileSync(file, recipe());
    const port = await freePort();
    app = await spawnUntil(process.execPath, ['--import', file, '-e', "console.log('up')"], {
      cwd: dir,
      env: childEnv({
        CARBON_ZONE: 'DE',
        ENERGY_SOURCE: 'estimate',
        ELECTRICITY_MAPS_API_KEY: 'recipe-key',
        ELECTRICITY_MAPS_BASE_URL: stub.url,
        // The error hold-down is min(30 s, the TTL): the upstream is asked again within a second.
        GRID_CACHE_TTL_SECONDS: '1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      }),
      waitFor: /^up$/,
    });
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const until = async (sources: string[]) => {
      const deadline = performance.now() + 20_000;
      let seen: string[] = [];
      while (performance.now() < deadline) {
        seen = gridSources(await scrape().catch(() => ''));
        if (seen.includes(sources.at(-1) ?? '')) return seen;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no ${sources.join(', ')} series; saw ${seen.join(', ')}`);
    };
    expect(await until(['annual-average'])).to.deep.equal(['annual-average']);
    stub.reset(); // Electricity Maps answers again: the hour now running, live
    const recovered = await until(['electricity-maps']);
    // Without withCurrentGauges the SDK kept exporting `annual-average` beside it, at its last
    // value, and an alert on the fallback never cleared.
    expect(recovered, 'a scrape after the recovery').to.deep.equal(['electricity-maps']);
    // The exporter's own server answers each scrape: each was an `unmatched` request, charged
    // energy (1, 2, 3… over the scrapes before). The process serves nothing else.
    const operations = (await scrape()).match(/^carbonscope_operation_energy_count\{.*$/gm);
    expect(operations, 'operations after the scrapes').to.equal(null);
  });
});

/**
 * What a snippet leaves to the reader, written as a reader would: a job, an image and a
 * training loop that each take some CPU.
 */
const JOB_STUBS = `const busy = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
const runJob = async () => { busy(50); return [1, 2, 3]; };
const resize = (image) => { busy(20); return \`\${image}-small\`; };
const resizeAll = (images) => images.map(resize);
const image = 'cat.png';
const images = ['a.png', 'b.png'];
const train = () => busy(50);
`;

/** Offline and the same on every machine: the estimate, a fixed grid intensity. */
const OFFLINE = { ENERGY_SOURCE: 'estimate', CARBON_ZONE: 'DE', CARBON_INTENSITY: '300' };

/** A folder under dist (ignored, built output): `carbonscope` resolves there as a user's would. */
function snippetDir(): string {
  return mkdtempSync(join(libraryRoot, 'dist', 'readme-'));
}

describe("the READMEs' code blocks, run as written", function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const procs: Spawned[] = [];
  const dir = () => {
    const d = snippetDir();
    dirs.push(d);
    return d;
  };

  // Each test's apps end with it, passed or failed: left to the end they would all sample at once.
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const scripts = [
    { readme: 'package', code: () => blockWith(readmeBlocks(PACKAGE_README), "'training'") },
    {
      readme: 'root',
      code: () => blockWith(readmeBlocks(ROOT_README, 'Use it as a library'), 'snapshot();'),
    },
  ];
  for (const { readme, code } of scripts) {
    it(`the ${readme} README's block for scripts and jobs runs, with the fields its comments name`, async () => {
      const { code: checked, shapes } = withShapeChecks(code());
      expect(shapes, 'comments that give fields').to.not.be.empty;
      const file = join(dir(), 'job.mjs');
      writeFileSync(file, JOB_STUBS + checked);
      const out = await runToEnd(process.execPath, [file], childEnv(OFFLINE));
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stderr, 'no warning').to.equal('');
      const real = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<
        string,
        string[]
      >;
      for (const s of shapes) {
        const keys = real[s.line] ?? [];
        const where = `line ${s.line + 1} of the block`;
        if (s.open) expect(keys, where).to.include.members(s.keys);
        else expect([...keys].sort(), where).to.deep.equal([...s.keys].sort());
      }
    });
  }

  // The README named `settings.energy.sampleIntervalMs` and `settings.energy.operationMaxNames`
  // "in code" but never how: `start({ settings: { energy: { sampleIntervalMs: 500 } } })`, as
  // a reader writes it, is a TypeError (`settings.grid must be an object`).
  it("the package README's block for settings in code runs, and the field it sets is in force", async () => {
    const block = blockWith(readmeBlocks(PACKAGE_README), 'loadSettings(process.env)');
    const field = /settings\.energy\.(\w+) = (\d+);/.exec(block);
    expect(field, 'a field the block sets').to.not.equal(null);
    const file = join(dir(), 'settings.mjs');
    writeFileSync(
      file,
      `${block}\nconst cs = await import('carbonscope');\n` +
        'console.log(cs.snapshot().sampleIntervalMs);\nawait cs.stop();\n',
    );
    const out = await runToEnd(process.execPath, [file], childEnv(OFFLINE));
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stderr, 'no warning').to.equal('');
    expect(field?.[1]).to.equal('sampleIntervalMs');
    expect(out.stdout.trim()).to.equal(field?.[2]);
  });

  const sdkBlocks = [
    {
      readme: 'package',
      code: () => blockWith(readmeBlocks(PACKAGE_README), 'new CarbonscopeInstrumentation()]'),
    },
    {
      readme: 'root',
      code: () =>
        blockWith(readmeBlocks(ROOT_README, 'Use it as a library'), '/* CarbonscopeOptions */'),
    },
  ];
  for (const { readme, code } of sdkBlocks) {
    it(`the ${readme} README's NodeSDK block meters an Express route, under the SDK's names`, async () => {
      const d = dir();
      writeFileSync(join(d, 'otel.js'), code());
      writeFileSync(join(d, 'app.js'), EXPRESS_APP);
      const [appPort, metricsPort] = (await freePorts(2)) as [number, number];
      const app = await spawnUntil(process.execPath, ['--import', './otel.js', 'app.js'], {
        cwd: d,
        env: childEnv({
          ...OFFLINE,
          PORT: String(appPort),
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        }),
        waitFor: /^up$/,
      });
      procs.push(app);
      await getText(`http://127.0.0.1:${appPort}/users/42`);
      // The application's own PrometheusExporter adds no unit word (examples/README.md).
      const wanted = 'carbonscope_operation_energy_count{carbonscope_operation="/users/:id"';
      const lines = await scrapeUntil(metricsPort, wanted, 1);
      expect(lines).to.have.length(1);
      expect(
        app.stderr.filter((l) => l.includes('carbonscope')),
        'warnings',
      ).to.deep.equal([]);
    });
  }

  // Copied as printed, one after the other: the chain names `stop` and `sdk`, which the block
  // before it must give. It named neither: SIGTERM threw `stop is not defined` (exit 1), and with
  // `stop` imported the `sdk` ReferenceError went into the chain's rejection, exit 0, no push.
  it("the package README's shutdown chain, after its NodeSDK block, pushes the last request on SIGTERM", async () => {
    const blocks = readmeBlocks(PACKAGE_README);
    const d = dir();
    writeFileSync(
      join(d, 'otel.js'),
      `${blockWith(blocks, 'new CarbonscopeInstrumentation()]')}\n${blockWith(blocks, 'stopping ??=')}`,
    );
    writeFileSync(join(d, 'app.js'), EXPRESS_APP);
    const receiver = await otlpReceiver();
    try {
      const appPort = await freePort();
      const app = await spawnUntil(process.execPath, ['--import', './otel.js', 'app.js'], {
        cwd: d,
        env: childEnv({
          ...OFFLINE,
          PORT: String(appPort),
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          // No periodic push before the signal: what arrives is the shutdown's.
          OTEL_METRIC_EXPORT_INTERVAL: '600000',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        }),
        waitFor: /^up$/,
      });
      procs.push(app);
      await getText(`http://127.0.0.1:${appPort}/users/42`);
      expect(await app.stop('SIGTERM'), app.stderr.join('\n')).to.equal(0);
      const point = histogramPoint(
        receiver.pushes.at(-1)?.body,
        'carbonscope.operation.energy',
        'carbonscope.operation',
        '/users/:id',
      );
      expect(point?.count, `pushes: ${receiver.pushes.length}`).to.equal(1);
    } finally {
      await receiver.close();
    }
  });

  const noCode = [
    { readme: 'package', section: undefined, mark: 'grep carbonscope_operation_energy_joules\n' },
    { readme: 'root', section: 'Use it as a library', mark: '_joules_sum' },
    { readme: 'root', section: 'Use it as a library', mark: 'cluster.js' },
  ];
  for (const { readme, section, mark } of noCode) {
    it(`the ${readme} README's \`--import carbonscope/register\` block (${mark.trim()}) shows what its grep says`, async () => {
      const file = readme === 'package' ? PACKAGE_README : ROOT_README;
      const block = parseNoCode(blockWith(readmeBlocks(file, section), mark));
      const d = dir();
      writeFileSync(join(d, block.app), block.app === 'cluster.js' ? CLUSTER_APP : EXPRESS_APP);
      const [appPort, metricsPort] = (await freePorts(2)) as [number, number];
      const app = await spawnUntil(
        process.execPath,
        ['--import', 'carbonscope/register', block.app],
        {
          cwd: d,
          // The block's variables, and a free port where it says 9464 (another test may hold it).
          env: childEnv({
            ...OFFLINE,
            ...block.env,
            PORT: String(appPort),
            OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          }),
          waitFor: /^up$/,
        },
      );
      procs.push(app);
      // New connections, so that a cluster's round robin hands them to each worker in turn.
      for (let i = 0; i < 20; i++) await getText(`http://127.0.0.1:${appPort}/users/${i}`);
      const lines = await scrapeUntil(metricsPort, block.grep, Math.max(1, block.sample.length));
      if (block.sample.length > 0) {
        expect(lines).to.have.length(block.sample.length);
        for (const [i, line] of lines.entries()) {
          expect(line).to.match(sampleShape(block.sample[i] ?? ''));
        }
      } else expect(lines).to.not.be.empty;
      expect(
        app.stderr.filter((l) => l.includes('carbonscope')),
        'warnings',
      ).to.deep.equal([]);
    });
  }

  const honoBlocks = [
    { readme: 'package', code: () => blockWith(readmeBlocks(PACKAGE_README), 'c.env.incoming') },
    {
      readme: 'root',
      code: () => blockWith(readmeBlocks(ROOT_README, 'Use it as a library'), 'c.env.incoming'),
    },
  ];
  for (const { readme, code } of honoBlocks) {
    it(`the ${readme} README's Hono middleware names routes, and no 404 after other middleware`, async () => {
      const d = dir();
      writeFileSync(join(d, 'app.mjs'), honoApp(code()));
      const [appPort, metricsPort] = (await freePorts(2)) as [number, number];
      const app = await spawnUntil(
        process.execPath,
        ['--import', 'carbonscope/register', 'app.mjs'],
        {
          cwd: d,
          env: childEnv({
            ...OFFLINE,
            PORT: String(appPort),
            OTEL_METRICS_EXPORTER: 'prometheus',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          }),
          waitFor: /^up$/,
        },
      );
      procs.push(app);
      const paths = [
        '/users/42',
        '/users/0',
        '/api/v1/items/x',
        '/api/v1/admin',
        '/api/nope',
        '/no',
        '/any',
        '/api/v2/any',
        '/api/v2/nope',
        '/guarded',
        '/api/v2/guarded',
      ];
      for (const path of paths) await getText(`http://127.0.0.1:${appPort}${path}`);
      // A request is counted at the sample after it ends: read once every one is, not at the
      // first scrape that names the four (a sample between the last two left the last out).
      const counts = await waitFor(
        `${paths.length} requests counted at :${metricsPort}/metrics`,
        async () => operationCounts(await getText(`http://127.0.0.1:${metricsPort}/metrics`)),
        {
          timeoutMs: 20_000,
          intervalMs: 200,
          until: (c) => Object.values(c).reduce((a, b) => a + b, 0) >= paths.length,
        },
      );
      // A handler's own 404, a route's own middleware's 401 (an app.all() route's too) and an
      // app.all() route (one of a sub-app with its own onError too, which Hono wraps in a
      // (c, next)) keep their route; Hono's 404s, which end on the last middleware they passed
      // (wrapped or not), are unmatched.
      expect(counts).to.deep.equal({
        '/users/:id': 2,
        '/api/v1/items/:item': 1,
        '/api/v1/admin': 1,
        '/any': 1,
        '/api/v2/any': 1,
        '/guarded': 1,
        '/api/v2/guarded': 1,
        unmatched: 3,
      });
    });
  }

  it("the root README's command-line synopsis names only options each command's --help has", async () => {
    const synopsis = blockWith(readmeBlocks(ROOT_README, 'Command line'), 'carbonscope run [');
    const bin = join(libraryRoot, 'bin', 'carbonscope.js');
    const help = new Map<string, string>();
    for (const command of ['run', 'monitor', 'impacts']) {
      const out = await runToEnd(process.execPath, [bin, command, '--help'], childEnv());
      expect(out.code, out.stderr).to.equal(0);
      help.set(command, out.stdout);
    }
    let last: string[] = [];
    const named = new Set<string>();
    let flags = 0;
    for (const line of synopsis.split('\n')) {
      const text = line.split('#')[0] ?? '';
      const command = /^carbonscope (\w+)/.exec(text)?.[1];
      if (command) named.add(command);
      // "options:" and the line after it are run's and monitor's.
      const commands = command ? [command] : text.trim() ? ['run', 'monitor'] : last;
      last = commands;
      for (const flag of text.match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []) {
        flags++;
        // A whole option: `-v` is no substring of `--verbose`'s to pass on.
        const whole = new RegExp(`(?<![\\w-])${flag}(?![\\w-])`);
        for (const c of commands) expect(help.get(c), `${flag} in ${c} --help`).to.match(whole);
      }
    }
    expect([...named].sort(), 'the commands the synopsis names').to.deep.equal(
      [...help.keys()].sort(),
    );
    expect(flags, 'options in the synopsis').to.be.above(10);
  });

  // `npm version` moves the package, not this block: the install line would name no file.
  it("the examples README's install block names the tarball npm pack writes", () => {
    const block = blockWith(readmeBlocks(EXAMPLES_README), 'npm pack -w carbonscope');
    const { version } = JSON.parse(readFileSync(join(libraryRoot, 'package.json'), 'utf8'));
    const named = [...block.matchAll(/carbonscope-[\w.-]+?\.tgz/g)].map((m) => m[0]);
    expect(named).to.have.length.above(0);
    for (const name of named) expect(name).to.equal(`carbonscope-${version}.tgz`);
  });

  it("the package README's `carbonscope impacts` line runs as written", async () => {
    const text = readFileSync(PACKAGE_README, 'utf8').replace(/\n/g, ' ');
    const line = /`carbonscope (impacts [^`]+)`/.exec(text)?.[1];
    expect(line, 'an impacts command line').to.be.a('string');
    const bin = join(libraryRoot, 'bin', 'carbonscope.js');
    const out = await runToEnd(process.execPath, [bin, ...(line ?? '').split(/\s+/)], childEnv());
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.match(/^openai\/gpt-4o: 500 output tokens/);
  });
});

/** An Express app with a route template, on PORT, that says `up` once it listens. */
const EXPRESS_APP = `import express from 'express';
const app = express();
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('up'));
`;

/**
 * A Hono app on @hono/node-server around a README's middleware block (which uses `app`): later
 * middleware of its own (a logger's, a path's), a sub-app, a route's own middleware, a handler
 * that answers 404 itself, an app.all() route (and one whose own guard answers 401), and a
 * sub-app with its own onError (whose routes and middleware Hono wraps) with its own; says `up`
 * once it listens.
 */
function honoApp(block: string): string {
  return `import { Hono } from 'hono';
import { serve } from '@hono/node-server';
const app = new Hono();
${block}
app.use(async (c, next) => { await next(); });
app.use('/api/*', async (c, next) => { await next(); });
app.get('/users/:id', (c) => (c.req.param('id') === '0' ? c.notFound() : c.text('user')));
const v1 = new Hono();
v1.get('/items/:item', (c) => c.text('item'));
v1.get('/admin', (c) => c.text('no', 401), (c) => c.text('admin'));
app.route('/api/v1', v1);
app.all('/any', (c) => c.text('any'));
const guard = async (c, next) => (c.req.header('authorization') ? next() : c.text('no', 401));
app.all('/guarded', guard, (c) => c.text('guarded'));
const v2 = new Hono();
v2.onError((err, c) => c.text('v2', 500));
v2.use(async (c, next) => { await next(); });
v2.all('/any', (c) => c.text('any'));
v2.all('/guarded', guard, (c) => c.text('guarded'));
app.route('/api/v2', v2);
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () =>
  console.log('up'),
);
`;
}

/** The same app in two cluster workers: the primary says `up` once both listen. */
const CLUSTER_APP = `import cluster from 'node:cluster';
import express from 'express';
if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => { if (++listening === 2) console.log('up'); });
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  const app = express();
  app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
  app.listen(Number(process.env.PORT), '127.0.0.1');
}
`;

interface NoCodeBlock {
  env: Record<string, string>;
  app: string;
  /** What the block's `grep` keeps (a fixed string). */
  grep: string;
  /** The output the block shows after the command, as `# ` comment lines. */
  sample: string[];
}

/** A shell block that starts an app under `register` and greps its endpoint. */
function parseNoCode(code: string): NoCodeBlock {
  const start = /^((?:\w+=\S+ )+)node --import carbonscope\/register (\S+)$/m.exec(code);
  const grep = /^curl -s localhost:9464\/metrics \| grep '?([^'\n]+?)'?$/m.exec(code);
  if (!start || !grep) throw new Error(`not a start-and-scrape block:\n${code}`);
  const env = Object.fromEntries(
    (start[1] ?? '')
      .trim()
      .split(' ')
      .map((a) => a.split('=') as [string, string]),
  );
  const sample = code
    .split('\n')
    .filter((l) => l.startsWith('# '))
    .map((l) => l.slice(2));
  return { env, app: start[2] ?? '', grep: grep[1] ?? '', sample };
}

/** A sample line as a pattern: `…` stands for what varies, and so does the value. */
function sampleShape(sample: string): RegExp {
  const escaped = sample
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/"[^"]*…"/g, '"[^"]+"') // a label's value
    .replace(/,…/g, '(,[^}]*)?'); // the labels after
  return new RegExp(`^${escaped.replace(/ \d+$/, ' \\d+')}$`);
}

/** A GET on a connection of its own (no keep-alive), its body as text. */
function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Each operation's count in a scrape: its energy histogram's `_count`, by operation. */
function operationCounts(scrape: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of scrape.matchAll(
    /^carbonscope_operation_energy_joules_count\{[^}]*?carbonscope_operation="([^"]*)"[^}]*\} (\S+)/gm,
  )) {
    counts[m[1] ?? ''] = Number(m[2]);
  }
  return counts;
}

/** The scrape's lines that contain `wanted`, once there are `count` of them (20 s at most). */
function scrapeUntil(port: number, wanted: string, count: number): Promise<string[]> {
  return waitFor(
    `${count} lines with ${wanted} at :${port}/metrics`,
    async () =>
      (await getText(`http://127.0.0.1:${port}/metrics`))
        .split('\n')
        .filter((l) => l.includes(wanted)),
    { timeoutMs: 20_000, intervalMs: 200, until: (lines) => lines.length >= count },
  );
}
