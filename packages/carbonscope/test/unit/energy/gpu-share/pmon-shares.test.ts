import { expect } from 'chai';
import { PmonParser, PmonShares } from '../../../../src/energy/gpu-share/index.js';
import { h200Text, pipedBlocks, pipedLines } from './fixtures.js';

/** Shares where the command is pid 574 of the capture (full duty), 575 (30 %) a neighbour. */
function sharesOf574(
  o: {
    pidExists?: (pid: number) => boolean;
    staleMs?: number;
    isCommand?: (pid: number) => boolean;
  } = {},
) {
  let now = 0;
  const shares = new PmonShares({
    isCommand: o.isCommand ?? ((pid) => pid === 574),
    pidExists: o.pidExists ?? (() => true),
    clock: () => now,
    ...(o.staleMs === undefined ? {} : { staleMs: o.staleMs }),
  });
  const parser = new PmonParser();
  const feed = (lines: readonly string[]) => {
    for (const line of lines) {
      const row = parser.line(line);
      if (row) shares.add(row);
    }
  };
  return {
    shares,
    feed,
    at: (ms: number) => {
      now = ms;
    },
  };
}

describe('energy/gpu-share: the command share by SM utilization', () => {
  it("gives pid 574 457/493 of the H200 over the capture's 5 samples in one interval", () => {
    const { shares, feed, at } = sharesOf574();
    shares.begin(async () => undefined);
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    at(4300);
    shares.next(4300);
    expect(shares.share('gpu0')).to.equal(457 / 493);
    expect(shares.share('gpu1')).to.equal(undefined); // a GPU pmon never named
    expect(shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
  });

  it('shares each interval by its own samples: 99/99, 74/98, 86/98, 99/99, 99/99', () => {
    const { shares, feed, at } = sharesOf574();
    shares.begin(async () => undefined);
    shares.next(0);
    const got: Array<number | undefined> = [];
    pipedBlocks('pmon-piped.txt').forEach((block, i) => {
      at(1000 * i + 50);
      feed(block);
      shares.next(1000 * i + 100);
      got.push(shares.share('gpu0'));
    });
    expect(got).to.deep.equal([1, 74 / 98, 86 / 98, 1, 1]);
  });

  it('keeps the latest share through an interval pmon printed nothing in, until it is stale', () => {
    const { shares, feed, at } = sharesOf574({ staleMs: 2500 });
    shares.begin(async () => undefined);
    shares.next(0);
    const [, second] = pipedBlocks('pmon-piped.txt');
    feed(pipedLines('pmon-piped.txt').slice(0, 2)); // the header
    at(900);
    feed(second);
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(74 / 98);
    shares.next(1500); // the meter samples every 500 ms, pmon prints every second
    expect(shares.share('gpu0')).to.equal(74 / 98);
    shares.next(3400); // 2.5 s after that sample came
    expect(shares.share('gpu0')).to.equal(74 / 98);
    shares.next(3500); // pmon silent for longer: the share is not known
    expect(shares.share('gpu0')).to.equal(undefined);
  });

  it('attributes nothing in an interval where no process used the SMs (idle GPU)', () => {
    const { shares, feed } = sharesOf574();
    shares.begin(async () => undefined);
    shares.next(0);
    feed(h200Text('idle.txt').split('\n'));
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(0);
    feed(pipedLines('pmon-after.txt')); // after the loads ended
    shares.next(2000);
    expect(shares.share('gpu0')).to.equal(0);
  });

  it('reads no share when the busy pids are none of this pid namespace (a container)', () => {
    // In a container the command's own pids are not the ones pmon names (the host's).
    const { shares, feed } = sharesOf574({ pidExists: () => false, isCommand: () => false });
    shares.begin(async () => undefined);
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    shares.next(1000);
    // Computed meanwhile (none of these pids is the command's), and dropped at the end.
    expect(shares.share('gpu0')).to.equal(0);
    expect(shares.outcome()).to.deep.equal({
      read: false,
      fallback:
        "nvidia-smi pmon names busy processes (pid 574, 575) none of which this /proc shows or the command's tree holds (another pid namespace: a container? or /proc mounted with hidepid)",
    });
  });

  it('reads shares when one busy pid is in this namespace, even if another is not', () => {
    const { shares, feed } = sharesOf574({ pidExists: (pid) => pid === 575 });
    shares.begin(async () => undefined);
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(457 / 493);
    expect(shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
  });

  it('reads shares from the first interval when the first busy pid is gone by its check', () => {
    // The command's neighbour 574 exited between pmon's sample and the look in /proc (or /proc
    // hides it: hidepid); 575, busy a second later, is here. The command (none of them) had 0.
    const { shares, feed, at } = sharesOf574({
      isCommand: () => false,
      pidExists: (pid) => pid === 575,
    });
    shares.begin(async () => undefined);
    shares.next(0);
    const got: Array<number | undefined> = [];
    pipedBlocks('pmon-piped.txt').forEach((block, i) => {
      at(1000 * i + 50);
      feed(block);
      shares.next(1000 * i + 100);
      got.push(shares.share('gpu0'));
    });
    expect(got).to.deep.equal([0, 0, 0, 0, 0]);
    expect(shares.outcome()).to.deep.equal({ read: true });
  });

  it("takes a busy pid of the command's tree as this namespace's, though /proc no longer has it", () => {
    // pid 574, the command, had ended when its last rows came: its tree still names it.
    const { shares, feed, at } = sharesOf574({ pidExists: () => false });
    shares.begin(async () => undefined);
    shares.next(0);
    const got: Array<number | undefined> = [];
    pipedBlocks('pmon-piped.txt').forEach((block, i) => {
      at(1000 * i + 50);
      feed(block);
      shares.next(1000 * i + 100);
      got.push(shares.share('gpu0'));
    });
    expect(got).to.deep.equal([1, 74 / 98, 86 / 98, 1, 1]);
    expect(shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
  });

  it('decides the namespace at the end: a local busy pid after foreign ones leaves no gap', () => {
    // 575 is not here, 574 (not the command) is; 575's row comes alone first (its 24 % row of
    // the capture's second block): that interval is shared (0) like the ones after 574 shows.
    const { shares, feed, at } = sharesOf574({
      isCommand: () => false,
      pidExists: (pid) => pid === 574,
    });
    shares.begin(async () => undefined);
    shares.next(0);
    const [, second, third] = pipedBlocks('pmon-piped.txt');
    feed(pipedLines('pmon-piped.txt').slice(0, 2)); // the header
    at(50);
    feed([second[1]]);
    shares.next(100);
    expect(shares.share('gpu0')).to.equal(0);
    at(1050);
    feed(third);
    shares.next(1100);
    expect(shares.share('gpu0')).to.equal(0);
    expect(shares.outcome()).to.deep.equal({ read: true });
  });

  it('names the GPUs pmon printed no utilization for, with their MIG mode where known', () => {
    // Four GPUs draw power; pmon prints the capture's rows of gpu0 and, for gpu1 (MIG enabled),
    // the `-` row it prints for a GPU whose utilization it cannot read. gpu2 (MIG disabled) and
    // gpu3 (mode unknown) get no row at all; gpu4's `-` row is an idle GPU's.
    const { shares, feed, at } = sharesOf574();
    shares.watch(
      [0, 1, 2, 3, 4],
      new Map([
        [0, 'disabled'],
        [1, 'enabled'],
        [2, 'disabled'],
        [4, 'disabled'],
      ]),
    );
    shares.begin(async () => undefined);
    shares.next(0);
    const [idleRow] = pipedLines('pmon-after.txt').slice(2);
    feed(pipedLines('pmon-piped.txt'));
    feed([idleRow.replace(/^( *)0/, '$11'), idleRow.replace(/^( *)0/, '$14')]);
    at(4300);
    shares.next(4300);
    expect(shares.share('gpu0')).to.equal(457 / 493);
    expect(shares.share('gpu4')).to.equal(0);
    // Not 0: a `-` on a MIG-enabled GPU is not an idle one.
    expect(shares.share('gpu1')).to.equal(undefined);
    expect(shares.outcome()).to.deep.equal({
      read: true,
      unshared: [
        {
          device: 'gpu1',
          why: 'pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)',
        },
        { device: 'gpu2', why: 'pmon printed no utilization for it' },
        { device: 'gpu3', why: 'pmon printed no utilization for it (MIG mode?)' },
      ],
      commandBusy: true,
    });
  });

  it('shares a MIG-enabled GPU as any other once pmon shows SM use on it', () => {
    const { shares, feed, at } = sharesOf574();
    shares.watch([0], new Map([[0, 'enabled']]));
    shares.begin(async () => undefined);
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    at(4300);
    shares.next(4300);
    expect(shares.share('gpu0')).to.equal(457 / 493);
    expect(shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
  });

  it('takes an interval of only `-` rows on a MIG-enabled GPU as one pmon printed nothing in', () => {
    // After pmon showed SM use there, a `-` is still no sample: not an idle 0 share, the
    // latest share while it is fresh, then none.
    const { shares, feed, at } = sharesOf574({ staleMs: 2500 });
    shares.watch([0], new Map([[0, 'enabled']]));
    shares.begin(async () => undefined);
    shares.next(0);
    const [first] = pipedBlocks('pmon-piped.txt');
    const [idleRow] = pipedLines('pmon-after.txt').slice(2);
    at(50);
    feed(first);
    shares.next(100);
    expect(shares.share('gpu0')).to.equal(1);
    const got: Array<number | undefined> = [];
    for (const ms of [1050, 2050, 3050]) {
      at(ms);
      feed([idleRow]);
      shares.next(ms + 50);
      got.push(shares.share('gpu0'));
    }
    expect(got).to.deep.equal([1, 1, undefined]);
  });

  it('says why when pmon failed before it answered, and reads nothing', () => {
    const { shares, feed } = sharesOf574();
    shares.fail('nvidia-smi pmon not found');
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(undefined);
    expect(shares.outcome()).to.deep.equal({ read: false, fallback: 'nvidia-smi pmon not found' });
  });

  it("says whether pmon ever showed the command's processes on the SMs", () => {
    const busy = sharesOf574();
    busy.shares.begin(async () => undefined);
    busy.shares.next(0);
    busy.feed(pipedLines('pmon-piped.txt'));
    busy.shares.next(4300);
    expect(busy.shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
    // 575 is the command: its rows are `-` (no SM use) in 3 of the 5 samples, not in all.
    const neighbour = sharesOf574({ isCommand: (pid) => pid === 575 });
    neighbour.shares.begin(async () => undefined);
    neighbour.shares.next(0);
    neighbour.feed(pipedLines('pmon-piped.txt').slice(0, 4));
    neighbour.shares.next(1000);
    expect(neighbour.shares.outcome()).to.deep.equal({ read: true });
  });

  it('says a GPU is in MIG mode where pmon failed on it, as the likely why', () => {
    const { shares } = sharesOf574();
    shares.fail('nvidia-smi pmon says: Failed to initialize pmon: Not Supported');
    shares.watch(
      [0, 1],
      new Map([
        [0, 'disabled'],
        [1, 'enabled'],
      ]),
    );
    expect(shares.outcome()).to.deep.equal({
      read: false,
      fallback:
        'nvidia-smi pmon says: Failed to initialize pmon: Not Supported (gpu1 is in MIG mode, where pmon reads no utilization)',
    });
  });

  it('stops sharing when pmon ends during the run, and says the share covers the time before', () => {
    const { shares, feed, at } = sharesOf574();
    at(100);
    shares.begin(async () => undefined);
    shares.next(100);
    feed(pipedLines('pmon-piped.txt'));
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(457 / 493);
    at(3100);
    shares.fail('nvidia-smi pmon ended (exit 1)');
    shares.next(3200);
    expect(shares.share('gpu0')).to.equal(undefined);
    expect(shares.outcome()).to.deep.equal({
      read: true,
      fallback:
        "nvidia-smi pmon ended (exit 1) after 3.0 s: the command's GPU energy covers only the time before",
      commandBusy: true,
    });
  });

  it('is not tried until begun or failed: no outcome, no share', () => {
    const { shares, feed } = sharesOf574();
    shares.next(0);
    feed(pipedLines('pmon-piped.txt'));
    shares.next(1000);
    expect(shares.share('gpu0')).to.equal(undefined);
    expect(shares.outcome()).to.equal(undefined);
  });

  it("gives the GPU's mean SM utilization, all processes', over the H200 capture's 5 samples", () => {
    // Per sample 99 + -, 74 + 24, 86 + 12, 99 + -, 99 + -: 493 / 5. Lines that came at once
    // (a reader that lags) and each sample as it came give the same.
    const all = sharesOf574();
    all.shares.begin(async () => undefined);
    all.feed(pipedLines('pmon-piped.txt'));
    expect(all.shares.utilizationPercent()).to.equal(493 / 5);
    const timed = sharesOf574();
    timed.shares.begin(async () => undefined);
    pipedBlocks('pmon-piped.txt').forEach((block, i) => {
      timed.at(1000 * i);
      timed.feed(block);
    });
    expect(timed.shares.utilizationPercent()).to.equal(493 / 5);
    // The idle capture's two `-` samples: 0.
    const idle = sharesOf574();
    idle.shares.begin(async () => undefined);
    idle.feed(h200Text('idle.txt').split('\n'));
    expect(idle.shares.utilizationPercent()).to.equal(0);
  });

  it('averages the watched GPUs pmon read, not a MIG-enabled one it printed `-` for', () => {
    const { shares, feed } = sharesOf574();
    shares.watch([0, 1, 2], new Map([[1, 'enabled']]));
    shares.begin(async () => undefined);
    const [idleRow] = pipedLines('pmon-after.txt').slice(2);
    feed(pipedLines('pmon-piped.txt'));
    feed([idleRow.replace(/^( *)0/, '$11'), idleRow.replace(/^( *)0/, '$12')]);
    // gpu0's 5 samples and gpu2's idle one, as CodeCarbon averages every GPU's every sample.
    expect(shares.utilizationPercent()).to.equal(493 / 6);
  });

  it("leaves a MIG-enabled GPU's `-` samples out of its mean once pmon showed SM use on it", () => {
    // On MIG pmon's `-` is no sample, not 0 %. Its first `-` rows come before watch() tells the
    // mode (run asks it while pmon starts), more after the busy ones: none may pull 493 / 5 down.
    const { shares, feed } = sharesOf574();
    shares.begin(async () => undefined);
    const [idleRow] = pipedLines('pmon-after.txt').slice(2);
    feed(pipedLines('pmon-after.txt').slice(0, 2)); // the header
    feed([idleRow, idleRow]);
    shares.watch([0], new Map([[0, 'enabled']]));
    feed(pipedLines('pmon-piped.txt'));
    feed([idleRow]);
    expect(shares.utilizationPercent()).to.equal(493 / 5);
  });

  it('has no utilization of a MIG-enabled GPU whose every row since begin() is `-`', () => {
    // Busy before begin() (the baseline), then only `-`: unknown, not a measured 0.
    const { shares, feed } = sharesOf574();
    shares.watch([0], new Map([[0, 'enabled']]));
    const [first] = pipedBlocks('pmon-piped.txt');
    feed(first);
    shares.begin(async () => undefined);
    const [idleRow] = pipedLines('pmon-after.txt').slice(2);
    feed([idleRow, idleRow, idleRow]);
    expect(shares.utilizationPercent()).to.equal(undefined);
  });

  it('has no utilization where pmon never answered', () => {
    const failed = sharesOf574();
    failed.shares.fail('nvidia-smi pmon not found');
    failed.feed(pipedLines('pmon-piped.txt'));
    expect(failed.shares.utilizationPercent()).to.equal(undefined);
    const unbegun = sharesOf574();
    unbegun.feed(pipedLines('pmon-piped.txt'));
    expect(unbegun.shares.utilizationPercent()).to.equal(undefined);
  });
});
