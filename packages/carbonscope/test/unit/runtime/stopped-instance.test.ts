import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import { setRoute } from '../../../src/http/index.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { memoryLogger } from '../energy/scripted.js';

// An instance kept past its stop() (an application's shutdown, a test's teardown) took every
// call without a word: track() and begin() were counted at an extrapolated figure to listeners
// still subscribed, trackRequests() tracked the process's requests again with nothing to stop
// it, and each onSample() listener was kept for ever, never called. Now each call runs the
// application's work as it would without carbonscope, counts and keeps nothing, and its first
// time is warned of. onEnd() and its like still subscribe: operations running at the stop end
// after it, and are reported.
const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;
const untyped = <T>(value: unknown) => value as T;

async function stoppedInstance() {
  const { logger, lines } = memoryLogger();
  const cs = await Carbonscope.create({ env: ENV, logger });
  await cs.start();
  const heard: string[] = [];
  cs.onEnd((f) => heard.push(`end ${f.operation}`));
  cs.onFinish((f) => heard.push(`finish ${f.operation}`));
  cs.onRequestEnd(() => heard.push('request'));
  cs.onEarlyAnswer(() => heard.push('early'));
  await cs.stop();
  const warnings = () => lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  return { cs, heard, warnings };
}

function sizes(cs: Carbonscope) {
  const meter = untyped<{ listeners: Set<unknown>; sampling: boolean }>(cs.meter);
  const tracker = untyped<{ runningCount: number; listeners: { all: unknown[] } }>(cs.tracker);
  return {
    sampleListeners: meter.listeners.size,
    endListeners: tracker.listeners.all.length,
    running: tracker.runningCount,
    sampling: meter.sampling,
  };
}

async function get(server: Server, path: string): Promise<string> {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return (await fetch(`http://127.0.0.1:${port}${path}`)).text();
}

describe('a Carbonscope called after its stop()', () => {
  it("runs the application's work, counts nothing, keeps nothing, and says so once per call", async () => {
    const { cs, heard, warnings } = await stoppedInstance();
    const before = sizes(cs);
    for (let i = 0; i < 50; i++) {
      expect(cs.track('job', () => 42)).to.equal(42);
      expect(await cs.track('async-job', async () => 'done')).to.equal('done');
      const op = cs.begin('manual');
      if (i % 2 === 0) op.end();
      cs.onSample(() => undefined);
      cs.answeredEarly(400);
    }
    const measured = await cs.measure('measured', () => 7);
    expect(measured.result).to.equal(7);
    expect(measured.footprint).to.include({ joules: 0, grams: 0, provisional: true });
    await cs.start();
    expect(sizes(cs)).to.deep.equal(before);
    expect(before.sampling).to.equal(false);
    expect(heard).to.deep.equal([]);
    const said = (method: string) =>
      `${method} after stop(): this carbonscope is stopped and counts nothing more (it does not start again)`;
    expect(warnings()).to.deep.equal(
      ['track()', 'begin()', 'onSample()', 'answeredEarly()', 'measure()', 'start()'].map(said),
    );
  });

  it('an operation running at the stop is heard of by a listener subscribed after it', async () => {
    const { logger, lines } = memoryLogger();
    const cs = await Carbonscope.create({ env: ENV, logger });
    await cs.start();
    const running = cs.begin('running');
    await cs.stop();
    const heard: string[] = [];
    cs.onEnd((f) => heard.push(`${f.operation} ${f.provisional}`));
    running.end();
    expect(heard).to.deep.equal(['running true']);
    expect(lines.filter((l) => l.level === 40)).to.deep.equal([]);
  });

  it("begin()'s operation ends and settles as any, checked as any, at 0 J", async () => {
    const { cs } = await stoppedInstance();
    const op = cs.begin('manual', 'request');
    expect(() => op.end('/x', 99)).to.throw(RangeError);
    const settled = op.settled();
    const footprint = op.end('/x', 200, { method: 'GET', scheme: 'http' });
    expect(footprint).to.include({ operation: '/x', kind: 'request', joules: 0, status: 200 });
    expect(op.end()).to.equal(footprint);
    expect(await settled).to.equal(footprint);
    expect(() => cs.begin(untyped(5))).to.throw(TypeError, /^begin\(\)/);
    expect(() => cs.onSample(untyped(5))).to.throw(TypeError, /^onSample\(\)/);
  });

  it('trackRequests() tracks nothing, setRoute() names nothing, and requests are served', async () => {
    const { cs, heard, warnings } = await stoppedInstance();
    const tracking = cs.trackRequests();
    const server = createServer((req, res) => {
      setRoute(req, '/users/:id');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 3; i++) expect(await get(server, `/users/${i}`)).to.equal('ok');
    } finally {
      server.close();
      tracking.stop();
    }
    expect(tracking.inFlight).to.equal(0);
    expect(heard).to.deep.equal([]);
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/^trackRequests\(\) after stop\(\)/);
  });
});
