import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { findSample } from '#library-tests/helpers/metrics.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { LIBRARY_DIR, npmInstallOrSay, packLibrary } from '../helpers/packed-library.js';

const run = promisify(execFile);

/**
 * The oldest versions the library's peer ranges admit (`^2.0.0` and `>=0.200.0`): the repository
 * installs the newest 2.x, the examples the 3.x line, and nothing else runs these. Without
 * sdk-node, whose 0.200 only knows `metricReader` (the README says so): a hand-built provider.
 */
const LOW_END = [
  '@opentelemetry/api@1.9.0',
  '@opentelemetry/sdk-metrics@2.0.0',
  '@opentelemetry/resources@2.0.0',
  '@opentelemetry/exporter-prometheus@0.200.0',
  '@opentelemetry/exporter-metrics-otlp-http@0.200.0',
];

const FIXTURES = join(LIBRARY_DIR, 'test', 'fixtures', 'sdk-low-end');
const REQUESTS = 7;

const METER_ENV = {
  ENERGY_SOURCE: 'estimate',
  CARBON_INTENSITY: '300',
  ENERGY_SAMPLE_INTERVAL_MS: '200',
  REQUESTS: String(REQUESTS),
};

interface OtlpJsonPoint {
  count: string | number;
}
interface OtlpJsonBody {
  resourceMetrics: {
    scopeMetrics: { metrics: { name: string; histogram?: { dataPoints: OtlpJsonPoint[] } }[] }[];
  }[];
}

/** An OTLP/HTTP JSON receiver on loopback that keeps every push's body. */
async function receiver(): Promise<{ server: Server; url: string; bodies: OtlpJsonBody[] }> {
  const bodies: OtlpJsonBody[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJsonBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, bodies };
}

/** Each push's count of operations (cumulative: the last push holds them all). */
function operationCounts(bodies: OtlpJsonBody[]): number[] {
  return bodies.map((body) =>
    body.resourceMetrics
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((m) => m.name === 'carbonscope.operation.energy')
      .flatMap((m) => m.histogram?.dataPoints ?? [])
      .reduce((sum, p) => sum + Number(p.count), 0),
  );
}

describe('installing the low end where neither npm nor its cache has it', function () {
  this.timeout(60_000);
  const work = tempDirUntilExit('carbonscope-sdk-low-end-offline-');
  after(() => rmSync(work, { recursive: true, force: true }));

  it('fails within seconds, in one line naming the package npm could not fetch', async () => {
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'x', private: true }));
    // npm's own retries would outlast mocha's timeout; the ECONNREFUSED is npm's failure, not
    // a kill at npmInstallOrSay's timeout (which its message would name).
    const env = {
      ...process.env,
      // An empty cache and a registry that refuses: what a machine off the network without the
      // packages in its cache meets.
      npm_config_cache: join(work, 'cache'),
      npm_config_registry: 'http://127.0.0.1:9/',
    };
    const err = await npmInstallOrSay(work, [LOW_END[1]], { env }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    const message = (err as Error).message;
    expect(message.split('\n')).to.have.length(1);
    expect(message).to.include('@opentelemetry/sdk-metrics');
    expect(message).to.include('ECONNREFUSED');
  });
});

describe('the packed library with the OTel SDK range low end (sdk-metrics 2.0.0, exporters 0.200)', function () {
  // npm installs from its cache (the registry for what it has not seen).
  this.timeout(180_000);
  const work = tempDirUntilExit('carbonscope-sdk-low-end-');
  const dir = join(work, 'app');

  before(async () => {
    const tarball = await packLibrary(work);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'low-end', private: true, type: 'module' }),
    );
    // Within the hook's time: a missing package is named, not a hook timeout.
    await npmInstallOrSay(dir, [tarball, ...LOW_END]);
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('register pushes every request of a script that ends by itself (OTLP JSON)', async () => {
    const otlp = await receiver();
    try {
      const { stderr } = await run(
        process.execPath,
        ['--import', 'carbonscope/register', 'serve.js'],
        {
          cwd: dir,
          timeout: 30_000,
          env: childEnv({
            ...METER_ENV,
            OTEL_METRICS_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          }),
        },
      );
      expect(stderr).to.equal('');
      expect(operationCounts(otlp.bodies).at(-1)).to.equal(REQUESTS);
    } finally {
      otlp.server.close();
    }
  });

  it('LocalHistograms feed a Prometheus reader and a delta pushing reader', async () => {
    const { stdout, stderr } = await run(process.execPath, ['local-histograms.js'], {
      cwd: dir,
      timeout: 30_000,
      env: childEnv(METER_ENV),
    });
    expect(stderr).to.equal('');
    const out = JSON.parse(stdout) as {
      text: string;
      points: { type: number; temporality: number; counts: number[] }[];
      histogram: number;
      delta: number;
    };
    // The JS Prometheus exporter's names: no unit word.
    expect(
      findSample(out.text, 'carbonscope_operation_energy_count', {
        carbonscope_operation: 'unmatched',
      }),
    ).to.equal(REQUESTS);
    expect(out.points).to.deep.equal([
      { type: out.histogram, temporality: out.delta, counts: [REQUESTS] },
    ]);
  });
});
