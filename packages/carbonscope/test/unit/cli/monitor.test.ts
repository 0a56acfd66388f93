import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { MONITOR_HELP, parseDuration, parseMonitorArgs } from '../../../src/cli/args.js';
import {
  DEFAULT_MONITOR_INTERVAL_MS,
  formatMonitorLine,
  localZoneName,
  monitorCommand,
  monitorHeader,
  monitorSessionOptions,
  utcOffsetText,
  zoneNotes,
} from '../../../src/cli/monitor.js';
import type { Session, SessionOptions } from '../../../src/cli/session.js';
import { STOP_SIGNALS, type StopSignals } from '../../../src/cli/stop-signals.js';
import { NO_PROCESS_CPU } from '../../../src/energy/index.js';
import type { IntensityReading, IntensitySource } from '../../../src/grid/index.js';
import { ROOT_README } from '../../helpers/readme-blocks.js';
import { sampleAt } from '../energy/scripted.js';

/** 20:14:03 on the clock of the machine: local time, as `date` and CodeCarbon's logs show it. */
const AT = new Date(2025, 0, 1, 20, 14, 3);

function reading(source: IntensitySource, isEstimated: boolean): IntensityReading {
  return {
    zone: 'DE',
    carbonIntensity: 342,
    unit: 'gCO2e/kWh',
    source,
    isEstimated,
    stale: false,
    ageSeconds: 0,
    datetime: null,
    fetchedAt: AT.toISOString(),
  };
}

/** A sample of 10.97 W, CPU 12 %, whose power was `estimated` or measured. */
function sample(estimated: boolean, intensity: IntensityReading | null) {
  return { ...sampleAt(0, 0, 0, estimated), hostWatts: 10.97, hostUtilization: 0.12, intensity };
}

describe('monitor lines', () => {
  // The help said "Ctrl-C, SIGTERM or --duration" while SIGHUP (a closed terminal) stops it too,
  // with its summary and row, as the README says.
  it('--help names every signal that stops it with its summary', () => {
    const said = MONITOR_HELP.slice(0, MONITOR_HELP.indexOf('Options:'));
    for (const signal of STOP_SIGNALS) {
      expect(said, signal).to.include(signal === 'SIGINT' ? 'Ctrl-C' : signal);
    }
  });

  // The sampler tells a meter of no process by this reader (its unread host CPU is then taken as
  // idle, meter.test.ts); only a root-only integration spec saw monitor pass it.
  it('measures the machine: its session reads no process (NO_PROCESS_CPU)', () => {
    const session = monitorSessionOptions(parseMonitorArgs([]), [], {});
    expect(session.processCpu).to.equal(NO_PROCESS_CPU);
    expect(session.processMeasured?.()).to.equal(false);
  });

  // The test above pins the options, not that the command asks for them: a command that built
  // its own (run's process reader, say) kept it green.
  it('opens the session that monitorSessionOptions describes: no process read', async () => {
    const asked: SessionOptions[] = [];
    const opened = new Error('the session was opened');
    const open = async (o: SessionOptions): Promise<Session> => {
      asked.push(o);
      throw opened;
    };
    // No signal comes: the command ends where its session would start measuring.
    const signals: StopSignals = { stopped: new Promise(() => undefined), started() {} };
    const ended = await monitorCommand([], {}, signals, open).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(ended).to.equal(opened);
    expect(asked).to.have.length(1);
    expect(asked[0]?.processCpu).to.equal(NO_PROCESS_CPU);
    expect(asked[0]?.processMeasured?.()).to.equal(false);
    expect(asked[0]?.defaultIntervalMs).to.equal(DEFAULT_MONITOR_INTERVAL_MS);
  });

  /** Runs `body` with the process's zone `tz` (Node reads TZ again when it is set). */
  function inZone<T>(tz: string, body: () => T): T {
    const was = process.env.TZ;
    process.env.TZ = tz;
    try {
      return body();
    } finally {
      if (was === undefined) delete process.env.TZ;
      else process.env.TZ = was;
    }
  }

  it('tell the time on the local clock, not UTC', () => {
    // UTC+5:30 all year, a half hour no UTC time shares.
    const line = inZone('Asia/Kolkata', () =>
      formatMonitorLine(new Date(2025, 0, 1, 9, 5, 7), sample(false, null), 1, 0),
    );
    expect(line.slice(0, 8)).to.equal('09:05:07');
  });

  // Lines said 02:30:00 both at 00:30 UTC (CEST) and at 01:30 UTC (CET) on 2026-10-25, and no
  // line or header named the zone: a log of them could not be put in order.
  it('say their zone first, and again where the UTC offset changes, as summer time ends', () => {
    const seen = inZone('Europe/Berlin', () => {
      const note = zoneNotes();
      return ['00:30:00', '00:59:50', '01:00:00', '01:30:00'].map((t) => {
        const at = new Date(`2026-10-25T${t}Z`);
        return note(at) + formatMonitorLine(at, sample(false, null), 1, 0).slice(0, 8);
      });
    });
    expect(seen).to.deep.equal([
      'carbonscope: times are Europe/Berlin, UTC+02:00\n02:30:00',
      '02:59:50',
      'carbonscope: times are now Europe/Berlin, UTC+01:00 (were UTC+02:00)\n02:00:00',
      '02:30:00',
    ]);
    // The README shows both notes as they print.
    const readme = readFileSync(ROOT_README, 'utf8');
    for (const note of [seen[0], seen[2]]) {
      expect(readme).to.include(`\`${note?.split('\n')[0]}\``);
    }
  });

  it('name the zone as TZ does, with its offset; UTC alone where the clock is UTC', () => {
    const first = (tz: string) => inZone(tz, () => zoneNotes()(new Date('2026-01-15T12:00:00Z')));
    // ICU calls it Asia/Calcutta; the user set Asia/Kolkata.
    expect(first('Asia/Kolkata')).to.equal('carbonscope: times are Asia/Kolkata, UTC+05:30\n');
    expect(first('America/St_Johns')).to.equal(
      'carbonscope: times are America/St_Johns, UTC-03:30\n',
    );
    expect(first(':Europe/Berlin')).to.equal('carbonscope: times are Europe/Berlin, UTC+01:00\n');
    expect(first('UTC')).to.equal('carbonscope: times are UTC\n');
    // Node keeps UTC for a name it does not know, as `date` does: the offset says so. (Not as
    // `date` for a POSIX rule, which it reads: the CLI warns then, unread-zone.test.)
    expect(first('Nowhere/Atlantis')).to.equal('carbonscope: times are UTC+00:00\n');
    expect(inZone('Nowhere/Atlantis', () => localZoneName())).to.equal(undefined);
  });

  it('write the offset in ASCII digits whatever the locale', () => {
    expect(utcOffsetText(-330)).to.equal('UTC+05:30');
    expect(utcOffsetText(570)).to.equal('UTC-09:30');
    expect(utcOffsetText(0)).to.equal('UTC+00:00');
  });

  it('label estimated power and an estimated grid intensity as estimates', () => {
    const line = formatMonitorLine(
      AT,
      sample(true, reading('annual-average', true)),
      1.12,
      1.06e-4,
    );
    expect(line).to.equal(
      '20:14:03  10.97 W (estimated)  · 1.12 J so far · 0.106 mg CO2e (annual-average, estimated)  · CPU 12%\n',
    );
  });

  it('leave measured power, a live intensity and CARBON_INTENSITY unlabelled', () => {
    for (const intensity of [reading('electricity-maps', false), reading('fixed', false)]) {
      expect(formatMonitorLine(AT, sample(false, intensity), 1.12, 1.06e-4)).to.equal(
        '20:14:03  10.97 W  · 1.12 J so far · 0.106 mg CO2e  · CPU 12%\n',
      );
    }
  });

  // A last good value served for up to 3 h after Electricity Maps stopped answering went
  // unmarked on the lines, where the summary says "live, stale" and the dashboard "stale".
  it('label emissions at a stale intensity as stale', () => {
    const stale = { ...reading('electricity-maps', false), stale: true };
    expect(formatMonitorLine(AT, sample(false, stale), 1.12, 1.06e-4)).to.equal(
      '20:14:03  10.97 W  · 1.12 J so far · 0.106 mg CO2e (electricity-maps, stale)  · CPU 12%\n',
    );
  });

  // The power said nothing of the estimate's joules once a meter took over (a late RAPL).
  it('say how much of the energy so far is an estimate once a meter took over', () => {
    const measuredNow = sample(false, null);
    const host = {
      ...measuredNow.totals.host,
      joules: 1.12,
      estimatedJoules: 0.3,
      estimated: true,
    };
    const line = formatMonitorLine(
      AT,
      { ...measuredNow, totals: { ...measuredNow.totals, host } },
      1.12,
      0,
    );
    expect(line).to.equal('20:14:03  10.97 W  · 1.12 J so far (0.3 J estimated)  · CPU 12%\n');
  });
  // With /proc/stat unreadable (a service under systemd's ProcSubset=pid, here a bind mount over
  // it) every line said `CPU 0%` on a machine at 100 %: monitor measures no process, so the floor
  // that stands in for the host's busy time is 0. The line says the CPU was not read instead.
  it('say the CPU was not read, not 0 %, in an interval whose host CPU time was not read', () => {
    const unread = { ...sample(true, null), hostUtilization: 0, hostCpuReadMs: 0 };
    expect(formatMonitorLine(AT, unread, 1.12, 0)).to.equal(
      '20:14:03  10.97 W (estimated)  · 1.12 J so far  · CPU not read\n',
    );
  });

  // The README showed `16.2 W (estimated)` and `1.12 Wh so far (0.3 Wh estimated)`: a line prints
  // two decimals of watts, and 0.3 Wh (1080 J) as joules.
  it("show the README's samples of a line as it prints them", () => {
    const readme = readFileSync(ROOT_README, 'utf8');
    const bullet =
      /^- `monitor` prints a line per interval[\s\S]*?(?=^- )/m.exec(readme)?.[0] ?? '';
    const samples = [...bullet.matchAll(/`([^`\n]*(?: W| so far|CO2e)[^`\n]*)`/g)].map((m) => m[1]);
    expect(samples).to.have.length(4);
    const measuredNow = sample(false, null);
    const host = {
      ...measuredNow.totals.host,
      joules: 1.12,
      estimatedJoules: 0.3,
      estimated: true,
    };
    const lines = [
      formatMonitorLine(AT, sample(true, reading('annual-average', true)), 1.12, 1.06e-4),
      formatMonitorLine(AT, { ...measuredNow, totals: { ...measuredNow.totals, host } }, 1.12, 0),
      formatMonitorLine(
        AT,
        sample(false, { ...reading('electricity-maps', false), stale: true }),
        1.12,
        1.06e-4,
      ),
    ];
    for (const piece of samples) {
      expect(
        lines.some((l) => l.includes(piece ?? '')),
        `${piece}`,
      ).to.equal(true);
    }
  });

  // `-d 5m --interval 10m` read "every 600 s for 300 s": the units the options were given in.
  it('tells the interval and duration in the units they are given in', () => {
    expect(monitorHeader(10_000, undefined)).to.equal(
      'carbonscope: monitoring the whole machine every 10 s; Ctrl-C to stop\n',
    );
    expect(monitorHeader(600_000, 300_000)).to.equal(
      'carbonscope: monitoring the whole machine every 10 min for 5 min\n',
    );
    expect(monitorHeader(100, 1500)).to.equal(
      'carbonscope: monitoring the whole machine every 100 ms for 1.5 s\n',
    );
    expect(monitorHeader(3_600_000, 90_000)).to.equal(
      'carbonscope: monitoring the whole machine every 1 h for 1 min 30 s\n',
    );
    expect(monitorHeader(1000, 596 * 3_600_000 + 60_000)).to.equal(
      'carbonscope: monitoring the whole machine every 1 s for 596 h 1 min\n',
    );
    // `-d 4.1m` is 245,999.99999999997 ms: its rest of a minute read "5.99999999999997 s".
    const given = (text: string) => parseDuration(text, 'duration');
    expect(monitorHeader(given('1s'), given('4.1m'))).to.equal(
      'carbonscope: monitoring the whole machine every 1 s for 4 min 6 s\n',
    );
    expect(monitorHeader(given('2.01s'), given('1.001m'))).to.equal(
      'carbonscope: monitoring the whole machine every 2.01 s for 1 min 0.06 s\n',
    );
  });
});
