import { expect } from 'chai';
import { countOwnSamples } from '../../bench/perf-samples.js';

const OWN = '/work/app/node_modules/carbonscope/dist';
// Where perf inject --jit put the objects it made of node's jitdump.
const JITTED = '(/tmp/carbonscope-perf-x/jitted-4242-812.so)';

/** One `perf script` sample: a header, its frames leaf first, a blank line. */
function sample(...frames: string[]): string {
  const header = 'node  4242 86089.483878:     1001001 cpu-clock:ppp: ';
  return [header, ...frames.map((f) => `\t    7faf3c129415 ${f}`), ''].join('\n');
}

const ownFinish = `JS:*finish file://${OWN}/src/energy/tracker.js:281:11+0x1a4 ${JITTED}`;
const ownOnStart = `JS:*onStart file://${OWN}/src/http/request-tracking.js:34:21+0x4 ${JITTED}`;
const ownAnonymous = `JS:* file://${OWN}/src/otel/bind-metrics.js:233:12+0x335 ${JITTED}`;
const koa = `JS:*respond /work/app/node_modules/koa/lib/application.js:288:18+0x9c3 ${JITTED}`;
const appHandler = `JS:^handler file:///work/app/src/routes.js:10:3+0x20 ${JITTED}`;
const builtin = 'Builtins_MapPrototypeSet+0x57f (/usr/bin/node)';
const kernel = 'do_syscall_64+0x5c ([kernel.kallsyms])';

describe("bench: carbonscope's own samples in perf script output", () => {
  it('counts a sample as own when its innermost JavaScript frame is the package', () => {
    const text = [
      sample(ownFinish, koa),
      // A builtin it called (a Map, an allocation) is its cost too.
      sample(builtin, ownOnStart, koa),
      sample(builtin, koa),
      sample(kernel),
    ].join('\n');
    const r = countOwnSamples(text, OWN);
    expect(r.total).to.equal(4);
    expect(r.own).to.equal(2);
    expect(r.functions).to.deep.equal([
      ['finish src/energy/tracker.js:281:11', 1],
      ['onStart src/http/request-tracking.js:34:21', 1],
    ]);
  });

  it("leaves out application code that carbonscope calls (a track(fn)'s fn)", () => {
    const r = countOwnSamples(sample(builtin, appHandler, ownFinish, koa), OWN);
    expect(r).to.deep.include({ total: 1, own: 0 });
  });

  it('names an anonymous function by its place, and orders functions by samples', () => {
    const text = [sample(ownAnonymous), sample(ownAnonymous), sample(ownFinish)].join('\n');
    const r = countOwnSamples(text, `${OWN}/`);
    expect(r.functions).to.deep.equal([
      ['(anonymous) src/otel/bind-metrics.js:233:12', 2],
      ['finish src/energy/tracker.js:281:11', 1],
    ]);
  });

  it("names a function alike in every tier (Node 24's Maglev frames begin with ')", () => {
    const maglevFinish = ownFinish.replace('JS:*', "JS:'");
    const r = countOwnSamples([sample(maglevFinish), sample(ownFinish)].join('\n'), OWN);
    expect(r.functions).to.deep.equal([['finish src/energy/tracker.js:281:11', 2]]);
  });

  it('counts a sample with no stack, and one whose blank line is missing', () => {
    const header = 'node  4242 86089.5:     1001001 cpu-clock:ppp: ';
    const text = `${header}\n${header}\n\t    7faf ${ownFinish}\n`;
    expect(countOwnSamples(text, OWN)).to.deep.include({ total: 2, own: 1 });
  });

  it('does not take a sibling directory for the package', () => {
    const sibling = `JS:*finish file://${OWN}-old/src/energy/tracker.js:1:1+0x1 ${JITTED}`;
    expect(countOwnSamples(sample(sibling), OWN)).to.deep.include({ total: 1, own: 0 });
  });

  it('counts frames that run only for the package (a publish its subscribers were inlined into)', () => {
    const publish = `JS:*publish node:diagnostics_channel:144:10+0x2c ${JITTED}`;
    const text = [sample(publish, koa), sample(builtin, publish)].join('\n');
    expect(countOwnSamples(text, OWN).own).to.equal(0);
    const r = countOwnSamples(text, OWN, ['publish node:diagnostics_channel:']);
    expect(r.own).to.equal(2);
    expect(r.functions).to.deep.equal([['publish node:diagnostics_channel:144:10', 2]]);
  });
});
