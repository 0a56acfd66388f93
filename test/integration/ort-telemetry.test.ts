import { readdirSync, rmSync } from 'node:fs';
import { expect } from 'chai';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { postActivity } from '../helpers/predict-request.js';
import { type SpawnedServer, spawnServer, untilReady } from '../helpers/spawn-server.js';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

/**
 * ONNX Runtime 1.29 and later report usage to Microsoft from Linux and macOS unless told not to:
 * at the first session they write a device id and an event database under
 * `$HOME/.cache/Microsoft/DeveloperTools/.onnxruntime`, a `mat-debug-<pid>.log` in the temporary
 * folder, and try to upload to mobile.events.data.microsoft.com (seen here as DNS queries every
 * few seconds, with backoff). The service makes no call its operator did not configure, so those
 * files are the trace this looks for.
 */
describe('ONNX Runtime telemetry (spawned service, its own HOME and TMPDIR)', function () {
  this.timeout(60_000);
  let server: SpawnedServer | undefined;
  const home = tempDirUntilExit('carbonscope-home-');
  const temp = tempDirUntilExit('carbonscope-tmp-');

  after(async () => {
    await server?.stop();
    for (const dir of [home, temp]) rmSync(dir, { recursive: true, force: true });
  });

  it('is off: a /predict leaves no device id, event store or telemetry log behind', async () => {
    server = await spawnServer({ HOME: home, TMPDIR: temp, OTEL_TRACES_EXPORTER: 'none' });
    await untilReady(server.url);
    const res = await postActivity(server.url);
    expect(res.status).to.equal(200);
    await res.arrayBuffer();
    expect(await server.stop()).to.equal(0);
    expect(filesUnder(home)).to.deep.equal([]);
    expect(filesUnder(temp).filter((f) => /mat-debug|\.ses/.test(f))).to.deep.equal([]);
  });
});
