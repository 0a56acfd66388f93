/**
 * One workload, every output: the service (dist/src/server.js) run under `carbonscope run`
 * (--json, --output, --otlp), both pushing OTLP to the real Collector, its spans to a loopback
 * receiver, the real Prometheus scraping the Collector. About 60 requests over a few seconds on
 * the estimate source (no RAPL here). Each output formats the same figures in its own units
 * (J, kWh; g, kg), names the same things alike, and labels the estimate: they must agree to
 * rounding. What a figure is derived from is said where it is compared.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnergySnapshot } from 'carbonscope';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { type ExposedSample, parseSamples } from '#library-tests/helpers/metrics.js';
import { type OtlpReceiver, otlpReceiver } from '#library-tests/helpers/otlp-receiver.js';
import { scratchFolder } from '#library-tests/helpers/scratch-folder.js';
import { projectRoot } from '../../../src/paths.js';
import { collectorBinary, type RunningCollector, startCollector } from '../../helpers/collector.js';
import { type RunningPrometheus, startPrometheus } from '../../helpers/prometheus.js';
import { freePort } from '../../helpers/spawn-server.js';
import { waitFor } from '../../helpers/wait.js';

const CLI = join(projectRoot, 'packages', 'carbonscope', 'bin', 'carbonscope.js');
const SERVER = join(projectRoot, 'dist', 'src', 'server.js');
const PUE = 1.4;
const INTENSITY = 250;
/** Grams of CO2e per joule at this PUE and intensity (gCO2e/kWh ÷ 3.6e6 J/kWh). */
const GRAMS_PER_JOULE = (PUE * INTENSITY) / 3.6e6;
const ROUNDING = 1e-9;

interface Span {
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

function spansOf(receiver: OtlpReceiver): Span[] {
  return receiver.traces.flatMap((t) =>
    ((t.resourceSpans ?? []) as Array<{ scopeSpans: Array<{ spans: Span[] }> }>).flatMap((r) =>
      r.scopeSpans.flatMap((s) => s.spans),
    ),
  );
}

function attribute(span: Span, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
}

function sum(samples: ExposedSample[], name: string, labels: Record<string, string> = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

function close(actual: number, expected: number, what: string): void {
  expect(actual, what).to.be.closeTo(expected, Math.abs(expected) * ROUNDING + 1e-15);
}

describe('one workload, every output tells the same story', function () {
  this.timeout(180_000);
  const folder = scratchFolder('one-story-');
  let collector: RunningCollector | undefined;
  let prometheus: RunningPrometheus | undefined;
  let spans: OtlpReceiver | undefined;
  let run: ChildProcess | undefined;

  before(() => collectorBinary());

  after(async () => {
    // Its process group: the CLI's command, the service, outlives a CLI killed alone (a test
    // that failed before its SIGTERM left the service listening, its parent pid 1), or one that
    // died. A group already empty (the run ended well) is no failure: what follows must run.
    try {
      if (run?.pid !== undefined) process.kill(-run.pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    await prometheus?.stop();
    await collector?.stop();
    await spans?.close();
  });

  it('gives the same energy, emissions, intensity and estimate label in each', async () => {
    const csv = join(folder.dir, 'emissions.csv');
    collector = await startCollector(['processors::batch::timeout=1s']);
    spans = await otlpReceiver();
    const exporter = collector.exporterAddress;
    prometheus = await startPrometheus(() =>
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [{ job_name: 'otel-collector', static_configs: [{ targets: [exporter] }] }],
      }),
    );
    const port = await freePort();
    const env = childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ENERGY_SOURCE: 'estimate',
      CARBON_ZONE: 'DE',
      CARBON_INTENSITY: String(INTENSITY),
      PUE: String(PUE),
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${collector.otlpUrl}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${spans.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    const args = ['run', '--json', '-o', csv, '--otlp', collector.otlpUrl, '--', process.execPath];
    const child = spawn(process.execPath, [CLI, ...args, SERVER], {
      env,
      stdio: 'pipe',
      detached: true,
    });
    run = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the service to be ready', async () => (await fetch(`${base}/readyz`)).ok);

    // The workload: 60 requests, one at a time, on four routes.
    const chats: Array<{ impacts: { energy: { value: { min: number; max: number } } } }> = [];
    for (let i = 0; i < 60; i++) {
      const kind = i % 6;
      const json = { 'content-type': 'application/json' };
      if (kind < 3) {
        const body = JSON.stringify({ activity: `driving ${i} hours` });
        await (await fetch(`${base}/predict`, { method: 'POST', headers: json, body })).text();
      } else if (kind === 3) {
        await (await fetch(`${base}/carbon_intensity`)).text();
      } else if (kind === 4) {
        const body = JSON.stringify({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'hi' }],
        });
        chats.push(
          await (await fetch(`${base}/chat`, { method: 'POST', headers: json, body })).json(),
        );
      } else {
        await (await fetch(`${base}/nope`)).text();
      }
    }
    const energyOf = async () =>
      (await (await fetch(`${base}/energy`)).json()) as EnergySnapshot & {
        operations: Array<{
          operation: string;
          count: number;
          joules: number;
          operationalGrams: number;
          estimated: boolean;
        }>;
      };
    // Every operation settled: /energy counts 30 of /predict's, 10 chats.
    await waitFor('the workload settled', async () => {
      const ops = (await energyOf()).operations;
      return (
        ops.find((o) => o.operation === '/predict')?.count === 30 &&
        ops.find((o) => o.operation === 'chat')?.count === 10
      );
    });

    // /metrics and /energy at one sample: the same figures, not merely close.
    let energy = await energyOf();
    let metrics: ExposedSample[] = [];
    await waitFor('/metrics and /energy read at one sample', async () => {
      const before = await energyOf();
      metrics = parseSamples(await (await fetch(`${base}/metrics`)).text());
      energy = await energyOf();
      return before.samples === energy.samples;
    });
    for (const scope of ['host', 'process'] as const) {
      const t = energy.totals[scope];
      expect(t.estimated, `${scope} estimated on /energy`).to.equal(true);
      const joules = sum(
        metrics,
        scope === 'host'
          ? 'hw_host_energy_joules_total'
          : 'carbonscope_process_energy_joules_total',
        { carbonscope_estimated: 'true' },
      );
      close(joules, t.joules, `${scope} joules: /metrics vs /energy`);
      const usage = {
        carbonscope_scope: scope,
        carbonscope_phase: 'usage',
        carbonscope_estimated: 'true',
      };
      close(sum(metrics, 'carbonscope_emissions_grams_total', usage), t.grams, `${scope} grams`);
      close(t.grams, t.joules * GRAMS_PER_JOULE, `${scope} grams = joules × PUE × intensity`);
    }
    expect(energy.grid).to.include({ carbonIntensity: INTENSITY, source: 'fixed' });
    // The dashboard's sentence: the process's grams so far (younger than an hour), estimated.
    await waitFor('/dashboard/data and /energy read at one sample', async () => {
      const data = (await (await fetch(`${base}/dashboard/data`)).json()) as {
        energy: { samples: number };
        lastHour: { grams: number; estimated: boolean };
      };
      const now = await energyOf();
      if (data.energy.samples !== now.samples) return false;
      close(data.lastHour.grams, now.totals.process.grams, 'dashboard last hour grams');
      expect(data.lastHour.estimated, 'dashboard last hour estimated').to.equal(true);
      return true;
    });
    expect(
      sum(metrics, 'carbonscope_grid_carbon_intensity', { carbonscope_grid_zone: 'DE' }),
    ).to.equal(INTENSITY);

    // Per operation: /energy's mean × count, /metrics' histogram sum and the spans' sum agree.
    // Every span of each kind: the batches need not end in the order the requests did (CI
    // once read the spans when the last chat's was still in the next batch).
    const expectedSpans = {
      'POST /predict': 30,
      inference: 30,
      chat: 10,
      'GET /carbon_intensity': 10,
    };
    await waitFor('every span exported', async () => {
      const names = spansOf(spans as OtlpReceiver).map((s) => s.name);
      return Object.entries(expectedSpans).every(
        ([name, count]) => names.filter((n) => n === name).length === count,
      );
    });
    const exported = spansOf(spans);
    for (const [operation, spanName] of [
      ['/predict', 'POST /predict'],
      ['inference', 'inference'],
      ['chat', 'chat'],
      ['/carbon_intensity', 'GET /carbon_intensity'],
    ] as const) {
      const op = energy.operations.find((o) => o.operation === operation);
      expect(op?.estimated, `${operation} estimated on /energy`).to.equal(true);
      const labels = { carbonscope_operation: operation, carbonscope_estimated: 'true' };
      const histogramJoules = sum(metrics, 'carbonscope_operation_energy_joules_sum', labels);
      close(
        (op?.joules ?? 0) * (op?.count ?? 0),
        histogramJoules,
        `${operation}: /energy vs /metrics`,
      );
      const ofOp = exported.filter((s) => s.name === spanName);
      expect(ofOp.map((s) => attribute(s, 'carbonscope.estimated'))).to.satisfy((v: unknown[]) =>
        v.every((e) => e === true),
      );
      const spanJoules = ofOp.reduce(
        (t, s) => t + Number(attribute(s, 'carbonscope.energy_joules')),
        0,
      );
      close(spanJoules, histogramJoules, `${operation}: spans vs /metrics`);
      const spanGrams = ofOp.reduce(
        (t, s) => t + Number(attribute(s, 'carbonscope.emissions_grams')),
        0,
      );
      close(spanGrams, spanJoules * GRAMS_PER_JOULE, `${operation}: span grams`);
    }

    // /chat's impacts (kWh, EcoLogits) and the LLM counter (J) are one figure in two units.
    const llmMin = chats.reduce((t, c) => t + c.impacts.energy.value.min * 3.6e6, 0);
    const llm = { carbonscope_bound: 'min', carbonscope_estimated: 'true' };
    close(
      sum(metrics, 'carbonscope_llm_energy_joules_total', llm),
      llmMin,
      '/chat impacts vs counter',
    );

    // Through the Collector into Prometheus: the operation histograms are /metrics' exactly.
    // The workload's operations, each of them: the test's own reads went on after `metrics` was
    // read (Prometheus had /dashboard/data's 0.0078 J where /metrics had none, when it was a
    // sample ahead of this query).
    const ownReads = ['/energy', '/metrics', '/readyz', '/dashboard/data'];
    const workload = new Set(
      metrics
        .filter((s) => s.name === 'carbonscope_operation_energy_joules_sum')
        .map((s) => s.labels.carbonscope_operation ?? '')
        .filter((operation) => !ownReads.includes(operation)),
    );
    expect([...workload]).to.include.members(['/predict', 'inference', 'chat']);
    const exposed = (operation: string) =>
      sum(metrics, 'carbonscope_operation_energy_joules_sum', {
        carbonscope_operation: operation,
      });
    const storedOf = async () => {
      const viaPrometheus = await prometheus?.client.query(
        'carbonscope_operation_energy_joules_sum{exported_job="carbonscope"}',
      );
      return (operation: string) =>
        (viaPrometheus ?? [])
          .filter((s) => s.metric.carbonscope_operation === operation)
          .reduce((total, s) => total + Number(s.value[1]), 0);
    };
    // Every operation's, not one's: CI once read Prometheus when it had every /predict but a
    // push before the last chat's (0.1383 J of /metrics' 0.1451).
    await waitFor('Prometheus to have the workload', async () => {
      const stored = await storedOf();
      return [...workload].every(
        (operation) =>
          Math.abs(stored(operation) - exposed(operation)) <=
          Math.abs(exposed(operation)) * ROUNDING + 1e-15,
      );
    });
    const stored = await storedOf();
    for (const operation of workload) {
      close(stored(operation), exposed(operation), `Prometheus ${operation}`);
    }

    // The CLI: its summary, --json, CSV and last push describe one run.
    child.kill('SIGTERM');
    expect(await exited, stderr).to.equal(0);
    const report = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as {
      durationSeconds: number;
      energy: { joules: number; kwh: number; estimated: boolean };
      emissions: { grams: number; kg: number };
      grid: { carbonIntensity: number };
      pue: number;
    };
    expect(report.energy.estimated).to.equal(true);
    expect(report.pue).to.equal(PUE);
    expect(report.grid.carbonIntensity).to.equal(INTENSITY);
    close(report.energy.kwh, report.energy.joules / 3.6e6, 'CLI kwh');
    close(report.emissions.kg, report.emissions.grams / 1000, 'CLI kg');
    close(report.emissions.grams, report.energy.joules * GRAMS_PER_JOULE, 'CLI grams');
    const [header, row] = readFileSync(csv, 'utf8').trim().split('\n');
    const columns = (header ?? '').split(',');
    const cell = (name: string) => (row ?? '').split(',')[columns.indexOf(name)] ?? '';
    // CodeCarbon's energy includes the PUE; --json gives the IT energy.
    close(Number(cell('energy_consumed')), report.energy.kwh * PUE, 'CSV energy_consumed');
    close(Number(cell('emissions')), report.emissions.kg, 'CSV emissions');
    close(Number(cell('duration')), report.durationSeconds, 'CSV duration');
    expect(cell('tracking_mode')).to.equal('process-estimated');
    expect(stderr).to.match(/energy of the command: .* J \(.* W average, estimated/);
    await waitFor("the CLI's last push in Prometheus", async () => {
      const r = await prometheus?.client.query(
        'carbonscope_process_energy_joules_total{exported_job="carbonscope-cli",carbonscope_estimated="true"}',
      );
      return (
        r?.length === 1 &&
        Math.abs(Number(r[0]?.value[1]) - report.energy.joules) <= report.energy.joules * ROUNDING
      );
    });
  });
});
