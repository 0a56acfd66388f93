import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { EmissionsTracker, measure, snapshot, start, stop, track } from '../../src/api.js';
import { atDefaultStop } from '../../src/otel/default.js';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';

const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;

function busy(ms: number): number {
  let x = 0;
  for (const end = performance.now() + ms; performance.now() < end; ) x++;
  return x;
}

describe('the programmatic API (start, track, measure, EmissionsTracker, snapshot, stop)', () => {
  afterEach(() => stop());

  it('track() before start() runs the function unmetered; snapshot() is null', () => {
    expect(track('untracked', () => 7)).to.equal(7);
    expect(snapshot()).to.equal(null);
  });

  it('track() of a thenable gives a native Promise before start() as after, and is typed so', async () => {
    let runs = 0;
    // A lazy query builder: it runs when then() is called, each time it is called.
    const builder = {
      where: () => builder,
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what is under test
      then<A, B = never>(
        resolve?: ((rows: string[]) => A | PromiseLike<A>) | null,
      ): PromiseLike<A | B> {
        runs++;
        return Promise.resolve(['row']).then(resolve);
      },
    };
    for (const started of [false, true]) {
      if (started) await start({ env: ENV });
      runs = 0;
      // The type says what comes back: a Promise of the rows, not the builder.
      const tracked: Promise<string[]> = track('query', () => builder);
      expect(tracked, `started: ${started}`).to.be.instanceOf(Promise);
      expect(tracked).to.not.have.property('where');
      await Promise.resolve();
      expect(runs).to.equal(1);
      expect(await tracked).to.deep.equal(['row']);
      expect(runs).to.equal(1);
    }
  });

  it('start() is shared; measure() returns the result with its footprint', async () => {
    const cs = await start({ env: ENV });
    expect(await start()).to.equal(cs);
    await cs.firstSample();
    const { result, footprint } = await measure('job', async () => busy(20));
    expect(result).to.be.greaterThan(0);
    expect(footprint).to.include({ operation: 'job', kind: 'operation', estimated: true });
    expect(footprint.durationSeconds).to.be.at.least(0.019);
    expect(snapshot()?.sources[0]).to.include({ name: 'estimate', estimated: true });
  });

  it('refuses an operation name that is no text, at the call and before start() too', async () => {
    const untyped = (name: unknown) => name as string;
    let ran = 0;
    const fn = () => ++ran;
    for (const name of [undefined, 42, '']) {
      expect(() => track(untyped(name), fn)).to.throw(
        TypeError,
        /^track\(\): the operation name must be a non-empty string \(got /,
      );
    }
    const cs = await start({ env: ENV });
    for (const name of [undefined, 42, '']) {
      expect(() => track(untyped(name), fn)).to.throw(TypeError, /^track\(\): /);
      // The instance start() returns is the same API, one level down.
      expect(() => cs.track(untyped(name), fn)).to.throw(TypeError, /^track\(\): /);
      expect(() => cs.begin(untyped(name))).to.throw(TypeError, /^begin\(\): /);
      const refusedByInstance = await cs.measure(untyped(name), fn).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((refusedByInstance as Error).message).to.match(/^measure\(\): the operation name/);
      const refused = await measure(untyped(name), fn).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(TypeError);
      expect((refused as Error).message).to.match(/^measure\(\): the operation name must be/);
    }
    expect(ran).to.equal(0);
  });

  // Checked by the instance only: a null started carbonscope (its meter, its probes) for a call
  // that then threw, where a wrong name or function starts nothing.
  it('refuses options of measure() that are no object before it starts carbonscope', async () => {
    let ran = 0;
    const refused = await measure('job', () => ++ran, null as unknown as undefined).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(TypeError);
    expect((refused as Error).message).to.match(/^measure\(\): the options must be an object/);
    expect(ran).to.equal(0);
    expect(snapshot(), 'carbonscope started').to.equal(null);
  });

  it('EmissionsTracker.stop() gives the process footprint over the window, sampled at both ends', async () => {
    const tracker = new EmissionsTracker('window', { env: ENV });
    await tracker.start();
    busy(150);
    const footprint = await tracker.stop();
    expect(footprint.operation).to.equal('window');
    expect(footprint.durationSeconds).to.be.at.least(0.149);
    expect(footprint.joules).to.be.greaterThan(0);
    expect(footprint.grams).to.be.closeTo((footprint.joules * 300) / 3.6e6, 1e-12);
    // The process's embodied emissions over the window: its busy share of the host's rate.
    const cs = await start();
    const rate = cs.snapshot().embodied?.gramsPerSecond ?? 0;
    expect(footprint.embodiedGrams).to.be.greaterThan(0);
    expect(footprint.embodiedGrams).to.be.at.most(rate * footprint.durationSeconds * (1 + 1e-9));
  });

  it('EmissionsTracker.stop() without a window open says which mistake it is', async () => {
    const tracker = new EmissionsTracker('window', { env: ENV });
    const refusal = () =>
      tracker.stop().then(
        () => undefined,
        (err: unknown) => (err as Error).message,
      );
    expect(await refusal()).to.equal('EmissionsTracker.stop() before start()');
    await tracker.start();
    await tracker.stop();
    expect(await refusal()).to.equal(
      'EmissionsTracker.stop() twice: its window ended at the first stop(); start() opens another',
    );
  });

  it('stop() then start() builds a new instance, its totals from 0', async () => {
    const first = await start({ env: ENV });
    await first.firstSample();
    busy(30);
    await stop();
    expect(first.snapshot().totals.process.joules).to.be.greaterThan(0);
    const second = await start({ env: ENV });
    expect(second).to.not.equal(first);
    expect(second.snapshot()).to.deep.include({ samples: 0 });
    expect(second.snapshot().totals.process.joules).to.equal(0);
  });

  it('after stop(), track() runs unmetered while measure() starts a new instance, from process.env', async () => {
    const first = await start({ env: ENV });
    await stop();
    expect(track('after', () => 7)).to.equal(7);
    expect(snapshot(), 'track() started nothing').to.equal(null);
    const saved = { ...process.env };
    Object.assign(process.env, ENV);
    try {
      const { result } = await measure('after', () => 8);
      expect(result).to.equal(8);
    } finally {
      for (const key of Object.keys(ENV)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    expect(await start()).to.not.equal(first);
  });

  it('settled() of an operation never ended waits for its end(), after stop() too', async () => {
    const cs = await start({ env: ENV });
    const op = cs.begin('open');
    let settled = false;
    const figure = op.settled().then((f) => {
      settled = true;
      return f;
    });
    await cs.firstSample();
    await stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).to.equal(false);
    const footprint = op.end();
    expect(await figure).to.equal(footprint);
  });

  it("stop() runs what waits for the last sample (register's last push) after it, once", async () => {
    const cs = await start({ env: ENV });
    const seen: string[] = [];
    cs.meter.onSample(() => seen.push('sample'));
    await atDefaultStop(cs, async () => {
      seen.push('push');
    });
    await stop();
    await stop();
    expect(seen.slice(-2)).to.deep.equal(['sample', 'push']);
    expect(seen.filter((s) => s === 'push')).to.have.length(1);
    // Asked for an instance already stopped: it runs at once.
    await atDefaultStop(cs, async () => {
      seen.push('late');
    });
    expect(seen.at(-1)).to.equal('late');
  });

  /** Register's last push stood in for: it begins at the stop, then waits until released. */
  async function heldPush(cs: Awaited<ReturnType<typeof start>>) {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let pushBegan: () => void = () => undefined;
    const began = new Promise<void>((resolve) => {
      pushBegan = resolve;
    });
    const push = { began, pushes: 0, release: () => release() };
    await atDefaultStop(cs, async () => {
      pushBegan();
      await held;
      push.pushes++;
    });
    return push;
  }

  /** A turn of the event loop: a stop() that does not wait for the push has resolved by then. */
  const aTurn = () => new Promise((resolve) => setImmediate(resolve));

  // One of them resolved at once: a process.exit() after it ended the process before the push.
  for (const [title, second] of [
    ['stop()', () => stop()],
    ["the instance's stop()", (cs: Awaited<ReturnType<typeof start>>) => cs.stop()],
  ] as const) {
    it(`stop() and a second ${title} at once: each resolves only once the last push has run`, async () => {
      const cs = await start({ env: ENV });
      const push = await heldPush(cs);
      const done: string[] = [];
      const first = stop().then(() => done.push('first'));
      const secondStop = second(cs).then(() => done.push('second'));
      await push.began;
      await aTurn();
      expect(done, 'resolved before the push').to.deep.equal([]);
      push.release();
      await Promise.all([first, secondStop]);
      expect(push.pushes).to.equal(1);
    });
  }

  // The instance's own stop() forgets the default before its last push: a stop() made during that
  // push found nothing to stop and resolved at once, and an exit after it lost the push.
  it("stop() during the push of the instance's own stop() resolves only once that push has run", async () => {
    const cs = await start({ env: ENV });
    const push = await heldPush(cs);
    const first = cs.stop();
    await push.began;
    const done: string[] = [];
    const second = stop().then(() => done.push(`second, pushes: ${push.pushes}`));
    await aTurn();
    expect(done, 'resolved before the push').to.deep.equal([]);
    push.release();
    await Promise.all([first, second]);
    expect(done).to.deep.equal(['second, pushes: 1']);
  });

  it("the default instance's own stop() is stop(): start() builds anew, the last push runs", async () => {
    const first = await start({ env: ENV });
    const seen: string[] = [];
    await atDefaultStop(first, async () => {
      seen.push('push');
    });
    await first.stop();
    expect(seen).to.deep.equal(['push']);
    expect(track('after', () => 7)).to.equal(7);
    expect(snapshot(), 'no stopped instance is the default one').to.equal(null);
    const second = await start({ env: ENV });
    expect(second).to.not.equal(first);
    await stop();
    expect(seen).to.deep.equal(['push']);
  });

  it('an onEnd listener that throws fails neither stop(), its last push, nor an end() after it', async () => {
    const warnings: string[] = [];
    const warn = (fields: unknown, message?: string) =>
      warnings.push(typeof fields === 'string' ? fields : (message ?? ''));
    const logger = { debug: () => undefined, info: () => undefined, warn, error: warn };
    const cs = await start({ env: ENV, logger });
    await cs.firstSample();
    cs.onEnd(() => {
      throw new Error('listener bug');
    });
    let pushed = false;
    await atDefaultStop(cs, async () => {
      pushed = true;
    });
    const open = cs.begin('open-at-stop');
    cs.begin('ended-before-stop').end();
    await stop();
    expect(pushed, "register's last push").to.equal(true);
    const footprint = open.end();
    expect(footprint).to.include({ operation: 'open-at-stop', provisional: true });
    expect(await open.settled()).to.equal(footprint);
    expect(cs.track('after-stop', () => 5)).to.equal(5);
    // The sample's listener error, and the one as it ended after stop(): one line each.
    expect(warnings.filter((w) => w.includes('listener bug'))).to.have.length(2);
  });

  it('never keeps a process alive: a script that starts and never stops exits on its own', () => {
    const script = `import(${JSON.stringify(join(libraryRoot, 'dist/src/index.js'))}).then(async (cs) => { await cs.start(); console.log('started'); });`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: childEnv(ENV),
      timeout: 10_000,
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout.trim()).to.equal('started');
  });

  // The package README: `op.settled()` waits for that end. A script whose last act awaited it
  // exited with 13 (an unsettled top-level await) before the sample that settles it came.
  it('keeps a script alive while settled() waits for an ended operation, not for one still open', () => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index.js'));
    const run = (body: string) =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const cs = await (await import(${index})).start();${body}`],
        { env: childEnv(ENV), timeout: 10_000, encoding: 'utf8' },
      );
    for (const body of [
      "const op = cs.begin('job'); op.end(); const f = await op.settled(); console.log(f.operation, f.provisional);",
      "const op = cs.begin('job'); const s = op.settled(); op.end(); const f = await s; console.log(f.operation, f.provisional);",
    ]) {
      const out = run(body);
      expect(out.status, out.stderr).to.equal(0);
      expect(out.stdout.trim(), body).to.equal('job false');
    }
    // One never ended never settles, and holds nothing: the script ends as it would without it.
    const open = run("cs.begin('open').settled().then(() => console.log('settled'));");
    expect(open.status, open.stderr).to.equal(0);
    expect(open.stdout).to.equal('');
  });

  // No sample will come to settle it (the meter never started, or it stopped): holding the
  // process then held it for ever, where the script ended before.
  it('holds no script whose ended operation waits on a meter that does not sample', () => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index.js'));
    const script = `const { Carbonscope } = await import(${index}); const cs = await Carbonscope.create(); const op = cs.begin('job'); op.end(); op.settled().then(() => console.log('settled'));`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: childEnv(ENV),
      timeout: 5_000,
      encoding: 'utf8',
    });
    expect(out.signal, 'killed by the test timeout: the process hung').to.equal(null);
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout).to.equal('');
  });

  /**
   * `body` run after start() and the first sample (`before`, before start()), with
   * ENERGY_SAMPLE_INTERVAL_MS at its most: a script that waited for a regular sample is killed
   * (SIGTERM) at 20 s, before its first.
   */
  const afterFirstSample = (body: string, before = '') => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index.js'));
    const script = `${before}const cs = await (await import(${index})).start(); await cs.firstSample();${body}`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: childEnv({ ...ENV, ENERGY_SAMPLE_INTERVAL_MS: '60000' }),
      timeout: 20_000,
      encoding: 'utf8',
    });
  };

  // The script waited for the meter's next regular sample with nothing else to do: a whole
  // interval (60 s here, 10 s for a script that set 10 s) for each await, where measure()
  // sampled at once.
  it('settles what a script with nothing else to do awaits then, not a sample interval later', () => {
    const out = afterFirstSample(
      "for (let i = 0; i < 3; i++) { const op = cs.begin('job'); op.end(); const f = await op.settled(); console.log(f.operation, f.provisional); }",
    );
    expect(out.signal, 'killed: it waited for the regular samples').to.equal(null);
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout.trim().split('\n')).to.deep.equal(['job false', 'job false', 'job false']);
  });

  // The sample was scheduled only at the next end of the loop: one awaited from a beforeExit
  // listener (a script measuring its own flush at the end) came after Node had looked whether
  // the loop went on, and the process ended mid-await with the figure lost, where a timer had
  // held it before.
  it('settles what a beforeExit listener awaits, at each end the listener measures', () => {
    const out = afterFirstSample(
      "let n = 0; process.on('beforeExit', async () => { if (++n > 3) return; const op = cs.begin('flush'); op.end(); const f = await op.settled(); console.log(n, f.provisional); });",
    );
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout.trim().split('\n')).to.deep.equal(['1 false', '2 false', '3 false']);
    expect(out.signal, 'killed: it waited for the regular samples').to.equal(null);
  });

  // signal-exit, imported before start(), keeps the process.emit it found then and calls it from
  // its own wrapper, put over carbonscope's at its first onExit(), or puts it back when its last
  // one goes: the loop's end went past carbonscope's hook, and the script ended mid-await (code
  // 13, or 0 through signal-exit's exit hook), its figure lost.
  for (const [how, body] of [
    [
      'a wrapper over it that calls the emit from before it',
      'process.emit = function (ev, ...a) { return found.call(this, ev, ...a); };',
    ],
    ['the emit from before it put back', 'process.emit = found;'],
  ]) {
    it(`settles what a script awaits with ${how} (signal-exit)`, () => {
      const out = afterFirstSample(
        `const op = cs.begin('job'); op.end(); const p = op.settled(); ${body} const f = await p; console.log(f.provisional);`,
        'const found = process.emit;',
      );
      expect(out.status, out.stderr).to.equal(0);
      expect(out.stdout.trim()).to.equal('false');
      expect(out.signal, 'killed: it waited for the regular samples').to.equal(null);
    });
  }

  // Each awaited operation held the process with a timer of its own: 10,000 awaited, 10,000
  // timers. Nothing holds it while the script has work of its own.
  it('holds no timer per awaited operation', () => {
    const out = afterFirstSample(
      "const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length; const before = timers(); const all = []; for (let i = 0; i < 1000; i++) { const op = cs.begin('job'); op.end(); all.push(op.settled()); } console.log(timers() - before); await cs.stop(); console.log((await Promise.all(all)).length);",
    );
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout.trim().split('\n')).to.deep.equal(['0', '1000']);
  });

  // Waiting for a sample is work under way, as it was when a timer held the process for it: the
  // application's beforeExit listeners are told of the script's own end alone.
  it("tells the application's beforeExit listeners of the end, not of a wait for a sample", () => {
    const out = afterFirstSample(
      "process.on('beforeExit', () => console.log('beforeExit')); const op = cs.begin('job'); op.end(); await op.settled(); console.log('settled');",
    );
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout.trim().split('\n')).to.deep.equal(['settled', 'beforeExit']);
  });

  it('keeps a script alive while a measure() waits for the sample that settles it', () => {
    // measure() right after start: the interval is too short to sample at once, so it waits for
    // the next sample, whose timer alone would not keep the process running.
    const script = `import(${JSON.stringify(join(libraryRoot, 'dist/src/index.js'))}).then(async (cs) => { const { result, footprint, sci } = await cs.measure('job', () => [1, 2, 3, 4], { units: (r) => r.length }); console.log(JSON.stringify({ result, provisional: footprint.provisional, units: sci.units, perUnit: sci.gramsPerUnit === (footprint.grams + footprint.embodiedGrams) / 4, embodied: footprint.embodiedGrams >= 0 })); await cs.stop(); });`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: childEnv(ENV),
      timeout: 10_000,
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).to.equal(0);
    // The public measure() gives the SCI for the units the caller counts in its result.
    expect(JSON.parse(out.stdout)).to.deep.equal({
      result: [1, 2, 3, 4],
      provisional: false,
      units: 4,
      perUnit: true,
      embodied: true,
    });
  });
});
