import { type EnergySample, NO_PROCESS_CPU, type ScopeTotals } from '../energy/index.js';
import type { Env } from '../settings.js';
import { spanText } from '../span-text.js';
import { MONITOR_HELP, type MonitorOptions, parseMonitorArgs } from './args.js';
import { boundedLines } from './bounded-lines.js';
import { finish } from './finish.js';
import { outputClosed } from './output.js';
import { openSession, type Session, type SessionOptions, startMeter } from './session.js';
import { STOP_SIGNALS, type StopSignals, takeStopSignals } from './stop-signals.js';
import { formatEnergy, formatGrams, intensityKind } from './summary.js';
import { openWindow } from './window.js';

/** CodeCarbon's `monitor` samples every 10 s by default; so does this one. */
export const DEFAULT_MONITOR_INTERVAL_MS = 10_000;

/**
 * One line per interval: local time, whole-machine power, energy and emissions so far. Figures
 * that are estimates say so, as the summary does: the power of a model rather than a meter, and
 * emissions at an estimated intensity (an annual average, or flagged so by the upstream).
 */
export function formatMonitorLine(
  at: Date,
  sample: EnergySample,
  totalJoules: number,
  totalGrams: number,
): string {
  // The machine's clock, as `date` and CodeCarbon's log lines: zoneNotes says its zone.
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  const power = `${sample.hostWatts.toFixed(2)} W${sample.totals.host.wattsEstimated ? ' (estimated)' : ''}`;
  const i = sample.intensity;
  // As the summary flags them: an estimate, and a last good value served while the source fails.
  const flags = i
    ? [intensityKind(i.source, i.isEstimated) === 'estimated' && 'estimated', i.stale && 'stale']
    : [];
  const said = flags.filter(Boolean).join(', ');
  const grams = i
    ? ` · ${formatGrams(totalGrams)} CO2e${said ? ` (${i.source}, ${said})` : ''}`
    : '';
  const soFar = `${formatEnergy(totalJoules)} so far${estimatedPart(sample.totals.host, totalJoules)}`;
  // Where the host's CPU time was not read, its stand-in is monitor's own process: none, 0 %.
  const cpu =
    sample.hostCpuReadMs > 0 ? `${(sample.hostUtilization * 100).toFixed(0)}%` : 'not read';
  return `${time}  ${power}  · ${soFar}${grams}  · CPU ${cpu}\n`;
}

/**
 * How much of the energy so far an estimate gave, where the power's label does not say it: the
 * estimate covered a gap, or served until a meter became readable.
 */
function estimatedPart(totals: ScopeTotals, totalJoules: number): string {
  const estimated = totals.estimatedJoules;
  if (!(estimated > 0)) return '';
  if (estimated < totalJoules) return ` (${formatEnergy(estimated)} estimated)`;
  return totals.wattsEstimated ? '' : ' (estimated)';
}

/** The line that says what `monitor` does: every interval, for --duration or until Ctrl-C. */
export function monitorHeader(intervalMs: number, durationMs: number | undefined): string {
  const until = durationMs ? ` for ${spanText(durationMs)}` : '; Ctrl-C to stop';
  return `carbonscope: monitoring the whole machine every ${spanText(intervalMs)}${until}\n`;
}

/**
 * The process's zone as the user named it in TZ where Intl takes that name (ICU canonicalises
 * Asia/Kolkata to Asia/Calcutta), else ICU's; undefined where neither names one (TZ unset on a
 * host without a zone, an invalid TZ or a POSIX rule ICU does not read: the clock is then UTC,
 * where `date` reads the rule; unread-zone.ts warns of that).
 */
export function localZoneName(tz: string | undefined = process.env.TZ): string | undefined {
  // A Node built without Intl: the offset alone then says the zone.
  if (typeof Intl === 'undefined') return undefined;
  const resolved = new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone as
    | string
    | undefined;
  const known = resolved && resolved !== 'Etc/Unknown' ? resolved : undefined;
  const given = tz?.replace(/^:/, '');
  if (!given || !known) return known;
  try {
    const same = new Intl.DateTimeFormat('en-US', { timeZone: given }).resolvedOptions().timeZone;
    return same === known ? given : known;
  } catch {
    return known;
  }
}

/**
 * `UTC+01:00`, `UTC-09:30` from Date's getTimezoneOffset (minutes west): digits of its own, where
 * Intl's offset names follow the locale (Arabic-Indic digits under ar_EG).
 */
export function utcOffsetText(minutesWest: number): string {
  const east = -minutesWest;
  const abs = Math.abs(east);
  const p = (n: number) => String(n).padStart(2, '0');
  return `UTC${east < 0 ? '-' : '+'}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

function zoneText(minutesWest: number, zone: string | undefined): string {
  const offset = utcOffsetText(minutesWest);
  if (zone === undefined) return offset;
  return zone === 'UTC' || zone === 'Etc/UTC' ? 'UTC' : `${zone}, ${offset}`;
}

/**
 * The lines' times carry no zone, so the stream says it: once before the first line, and again
 * before the first line at another UTC offset. As summer time ends the hour repeated then reads
 * apart (before the note at one offset, after it at the other), and each line stays short.
 */
export function zoneNotes(zone: string | undefined = localZoneName()): (at: Date) => string {
  let offset: number | undefined;
  return (at) => {
    const now = at.getTimezoneOffset();
    if (now === offset) return '';
    const was = offset;
    offset = now;
    if (was === undefined) return `carbonscope: times are ${zoneText(now, zone)}\n`;
    return `carbonscope: times are now ${zoneText(now, zone)} (were ${utcOffsetText(was)})\n`;
  };
}

/**
 * What monitor's session measures: the machine, no process in particular. NO_PROCESS_CPU says so
 * to the sampler, whose warning for an unread host CPU then takes it as idle, not as busy as a
 * measured process that is none.
 */
export function monitorSessionOptions(
  options: MonitorOptions,
  args: readonly string[],
  env: Env,
): SessionOptions {
  return {
    options,
    args,
    env,
    processCpu: NO_PROCESS_CPU,
    // So its process scope is no measurement: --otlp would push 0 J for it.
    processMeasured: () => false,
    defaultIntervalMs: DEFAULT_MONITOR_INTERVAL_MS,
    pushWarnings: true,
  };
}

/**
 * `carbonscope monitor`: the whole machine until a signal or --duration. main takes the stop
 * signals before it loads this module (takeStopSignals). `open` makes its session: given, so that
 * a test sees what the command asks of it (what it measures) without a meter of the machine.
 */
export async function monitorCommand(
  args: string[],
  env: Env = process.env,
  signals: StopSignals = takeStopSignals(STOP_SIGNALS),
  open: (o: SessionOptions) => Promise<Session> = openSession,
): Promise<number> {
  const options = parseMonitorArgs(args);
  if (options.help) {
    process.stdout.write(MONITOR_HELP);
    return 0;
  }
  const closed = outputClosed();
  const session = await open(monitorSessionOptions(options, args, env));
  const { meter } = session;
  const zoneNote = zoneNotes();
  const line = boundedLines(process.stderr);
  meter.onSample((sample) => {
    const totals = sample.totals.host;
    const at = new Date();
    const text = formatMonitorLine(at, sample, totals.joules, totals.grams);
    line(zoneNote(at) + text);
  });
  await startMeter(meter);
  const measured = openWindow(session);
  signals.started();
  process.stderr.write(
    monitorHeader(session.config.energy.sampleIntervalMs, options.durationMs) +
      zoneNote(new Date()),
  );

  await new Promise<void>((resolve) => {
    // The meter's timer does not keep the process alive; this does, until the end.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const timer = options.durationMs ? setTimeout(stop, options.durationMs) : undefined;
    function stop() {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      resolve();
    }
    // A stop that came while it started (settled already) closes the window at once.
    void signals.stopped.then(stop);
    void closed.then(stop);
  });

  const report = await measured.close({ command: 'monitor', projectName: options.projectName });
  const delivered = await finish(report, options, session);
  return delivered ? 0 : 1;
}
