import { execFile } from 'node:child_process';
import { readlinkSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { findSample } from '#library-tests/helpers/metrics.js';
import { node24 } from '../helpers/packed-library.js';
import { postActivity } from '../helpers/predict-request.js';
import { type SpawnedServer, spawnServer, untilReady } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The service image runs on Node 24 (Node 20 reached its end of life on 2026-04-30), while the
 * machine that builds and tests the project has Node 20: so the built service, ONNX Runtime's
 * native binding included, is run here on the Node 24 binary the test setup installs, through
 * what the image's users do first: get ready, predict, and see the request's energy in /metrics.
 */
describe('the service on Node 24 (the image runtime)', function () {
  this.timeout(90_000);
  let server: SpawnedServer | undefined;

  after(async () => {
    await server?.stop();
  });

  it('starts, answers /predict and reports its energy, then stops cleanly on SIGTERM', async () => {
    const node = await node24();
    const { stdout: version } = await promisify(execFile)(node, ['--version']);
    expect(version.trim()).to.match(/^v24\./);

    server = await spawnServer(
      { OTEL_TRACES_EXPORTER: 'none', ENERGY_SAMPLE_INTERVAL_MS: '250' },
      { node },
    );
    // The process that serves is that binary (Linux names a process's executable in /proc).
    expect(readlinkSync(`/proc/${server.proc.pid}/exe`)).to.equal(realpathSync(node));
    await untilReady(server.url);
    const res = await postActivity(server.url);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { label?: unknown; energyJoules?: unknown };
    expect(body.label).to.be.a('string');
    expect(body.energyJoules).to.be.a('number');

    // The request's operation is settled at the next meter sample.
    const predict = { carbonscope_operation: '/predict' };
    let text = '';
    await waitFor('/predict in carbonscope_operation_energy_joules', async () => {
      text = await (await fetch(`${server?.url}/metrics`)).text();
      return (findSample(text, 'carbonscope_operation_energy_joules_count', predict) ?? 0) >= 1;
    });
    expect(findSample(text, 'carbonscope_operation_energy_joules_sum', predict)).to.be.above(0);

    expect(await server.stop('SIGTERM')).to.equal(0);
  });
});
