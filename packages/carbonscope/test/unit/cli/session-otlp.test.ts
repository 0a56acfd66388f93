import { expect } from 'chai';
import { parseRunArgs } from '../../../src/cli/args.js';
import { openSession, startMeter } from '../../../src/cli/session.js';
import { otlpReceiver } from '../../helpers/otlp-receiver.js';

/** A fixed grid intensity: no network but the receiver's. */
const ENV = { CARBON_INTENSITY: '300', CARBON_ZONE: 'DE' };

/** The OTLP exporter reads its variables from the process's environment itself. */
const TEMPORALITY = 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE';

/** What `body` writes to stderr, as it writes it (the session's logger writes there). */
async function stderrOf<T>(body: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const value = await body();
    return { value, lines: text.split('\n').filter((l) => l !== '') };
  } finally {
    process.stderr.write = write;
  }
}

/**
 * A `run --otlp` session under delta temporality pushing to a receiver that answers the nth push
 * with `answers[n - 1]` (200 past them), closed once a push got through: close()'s result and
 * the lines written. The temporality variable is set only meanwhile, whatever fails.
 */
async function runSession(answers: number[], carriedPointsMax?: number) {
  const receiver = await otlpReceiver({
    answer: () => answers[receiver.received.length - 1] ?? 200,
  });
  const before = process.env[TEMPORALITY];
  try {
    process.env[TEMPORALITY] = 'delta';
    const options = parseRunArgs(
      ['--source', 'estimate', '--interval', '1s', '--otlp'].concat([receiver.url, '--', 'true']),
    );
    const { value: end, lines } = await stderrOf(async () => {
      const session = await openSession({
        options,
        args: [],
        env: ENV,
        processCpu: () => 0,
        ...(carriedPointsMax === undefined ? {} : { carriedPointsMax }),
      });
      await startMeter(session.meter);
      // The refused pushes were answered before the next one was sent, a second later.
      while (receiver.pushes.length < 1) await new Promise((r) => setTimeout(r, 50));
      await session.meter.stop();
      return session.close();
    });
    return { end, lines, text: lines.join('\n'), url: `${receiver.url}/v1/metrics` };
  } finally {
    if (before === undefined) delete process.env[TEMPORALITY];
    else process.env[TEMPORALITY] = before;
    await receiver.close();
  }
}

describe("run's --otlp session", () => {
  it('ends in a line that says what the carried points cap dropped, not as pushed', async function () {
    this.timeout(30_000);
    // The first two periodic pushes are refused (401: carried, not malformed), the next taken;
    // a cap of 1 point: the refused push's points are past it, but the last.
    const { end, lines, text, url } = await runSession([401, 401], 1);
    expect(end, text).to.equal('told');
    // Told at close only: the lines the run kept, then the end's, which sums them.
    const [first, ...rest] = lines;
    const last = rest.pop();
    expect(first, text).to.match(
      /^carbonscope: warning: metrics for \S+: dropped \d+ delta data points that failed pushes carried, the oldest: over the 1 kept to send again$/,
    );
    expect(first?.startsWith(`carbonscope: warning: metrics for ${url}: `)).to.equal(true);
    // Where the second refused push dropped more, the line of the outage's total follows.
    expect(rest.length, text).to.be.at.most(1);
    for (const line of rest) expect(line).to.match(/: dropped \d+ delta data points in all while/);
    const points = Number(/dropped (\d+)/.exec(rest[0] ?? first ?? '')?.[1]);
    expect(points, text).to.be.above(0);
    expect(last).to.equal(
      `carbonscope: warning: pushed the metrics to ${url}, but not ${points} delta data points that failed pushes carried (dropped, as told above)`,
    );
  });

  it('counts the points a push refused as malformed (400) took once: as that push, lost', async function () {
    this.timeout(30_000);
    // The first push refused (401: carried), the second, carrying its points, as malformed.
    const { end, lines, text, url } = await runSession([401, 400]);
    expect(end, text).to.equal('told');
    expect(lines, text).to.have.length(2);
    expect(lines[0], text).to.match(
      /: dropped \d+ delta data points that failed pushes carried: the push that carried them again was refused as malformed \(HTTP 400\)$/,
    );
    // Those points are part of what the refused push carried: not a second count beside it.
    expect(lines[1]).to.equal(
      `carbonscope: warning: pushed the metrics to ${url}, but not what 1 earlier push that failed carried: it is lost (delta temporality)`,
    );
  });
});
