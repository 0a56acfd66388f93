import { JOULES_PER_KWH } from '../emissions.js';
import { printable } from '../printable.js';
import type { ComponentEnergy, PricedSource, Report } from './report.js';

/** toFixed writes every digit from here on, in exponent notation (`1.2345678901234568e+21`). */
const TO_FIXED_LIMIT = 1e21;

/** Three significant digits, without exponent noise for everyday magnitudes. */
export function sig(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= TO_FIXED_LIMIT) return x.toExponential(2);
  if (abs >= 1000) return x.toFixed(0);
  if (abs >= 0.001) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

/**
 * Whether `x` of a unit reads 1000 or more once rounded to the three digits sig gives below
 * 1000: 999.96 mg is then 1 g, not "1000 mg".
 */
function readsThousand(x: number): boolean {
  return Math.abs(Number(x.toPrecision(3))) >= 1000;
}

/** Joules for small amounts, Wh and kWh once they grow. */
export function formatEnergy(joules: number): string {
  if (joules >= JOULES_PER_KWH || readsThousand(joules / 3600)) {
    return `${sig(joules / JOULES_PER_KWH)} kWh`;
  }
  if (joules >= 3600) return `${sig(joules / 3600)} Wh`;
  return `${sig(joules)} J`;
}

export function formatGrams(grams: number): string {
  if (grams >= 1000 || readsThousand(grams)) return `${sig(grams / 1000)} kg`;
  if (grams > 0 && !readsThousand(grams * 1000)) return `${sig(grams * 1000)} mg`;
  return `${sig(grams)} g`;
}

/** Seconds to the hundredth under a minute; whole seconds, then minutes, above (no "60 s"). */
export function formatDuration(seconds: number): string {
  if (Number(seconds.toFixed(2)) < 60) return `${seconds.toFixed(2)} s`;
  const whole = Math.round(seconds);
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m} min ${whole - m * 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function componentLines(components: ComponentEnergy[]): string[] {
  return components.map(
    (c) =>
      `    ${c.component.padEnd(8)} ${formatEnergy(c.joules).padStart(10)}  ${`${sig(c.watts)} W`.padStart(9)}  ${c.source}${c.estimated ? ' (estimated)' : ' (measured)'}`,
  );
}

/**
 * "measured", "estimated", or, where measured and modelled components add up to one total,
 * which of them are estimates ("cpu and ram estimated"): on a GPU machine without RAPL a
 * measured GPU is most of the figure, and one "estimated" undersold it.
 */
function energyKind(estimated: boolean, components: readonly ComponentEnergy[]): string {
  if (!estimated) return 'measured';
  const modelled = components.filter((c) => c.estimated).map((c) => c.component);
  if (modelled.length === 0 || modelled.length === components.length) return 'estimated';
  return `${modelled.join(' and ')} estimated`;
}

/**
 * Quotes an argument for display the way a POSIX shell would need it. One with a control
 * character gets bash's `$'...'` with it escaped (`$'a\nb'`): shown raw, an escape sequence
 * would be run by the terminal and a line break would split the headline.
 */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  if (printable(arg) !== arg) return `$'${printable(arg.replace(/[\\']/g, '\\$&'))}'`;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

function headline(report: Report): string {
  if (report.command === 'monitor') {
    return `carbonscope monitor: whole machine for ${formatDuration(report.durationSeconds)}`;
  }
  const command = (report.argv ?? []).map(shellQuote).join(' ');
  const exit = report.exit;
  // A command that cannot start gets no summary (run.ts returns first), and Node's exit event
  // always carries a code or a signal.
  const how =
    exit?.signal != null ? `was killed by ${exit.signal}` : `exited with code ${exit?.exitCode}`;
  const measured = formatDuration(report.durationSeconds);
  const within = exit?.endedWithinSeconds;
  if (within === undefined) return `carbonscope: \`${command}\` ${how} after ${measured}`;
  // The duration is the energy window (to the last sample, after the exit was seen), no exit time.
  const [from, to] = within.map(formatDuration);
  return (
    `carbonscope: \`${command}\` ${how} between ${from} and ${to} in ` +
    `(carbonscope was stopped, blocked or starved of CPU meanwhile); measured over ${measured}`
  );
}

/** M with what it stands on, then the SCI with its parts, one run being the functional unit. */
function sciLines(report: Report): string[] {
  const { embodied, sci } = report;
  const lines: string[] = [];
  const m = embodied.settings;
  const cpuUnknown =
    report.scope === 'process' && (!report.energy.known || report.energy.cpuUnmeasured);
  if (cpuUnknown) {
    // The command's share of the hardware follows its CPU time, as its CPU-side energy does.
    lines.push("  embodied: unknown (the command's share follows its CPU time)");
  } else if (m && m.totalKg > 0) {
    const whose = report.scope === 'process' ? "the command's share of" : 'the reserved share of';
    lines.push(
      `  embodied: ${atLeast(report)}${formatGrams(embodied.grams)} CO2e (estimated: ${whose} ${sig(m.totalKg)} kgCO2e of hardware over ${sig(m.lifetimeYears)} years, ${m.reservedVcpus} of ${m.hostVcpus} vCPUs; ${m.source})`,
    );
  } else {
    lines.push('  embodied: left out (EMBODIED_KGCO2E=0)');
  }
  if (!sci) {
    lines.push(
      report.energy.cpuUnmeasured && report.grid.carbonIntensity !== null
        ? "  SCI: unknown (the command's embodied share is not known)"
        : '  SCI: unknown (no operational emissions figure)',
    );
    return lines;
  }
  lines.push(
    `  SCI: ${atLeast(report)}${formatGrams(sci.gramsPerUnit)} CO2e per run = (E×I ${formatGrams(sci.operationalGrams)} + M ${formatGrams(sci.embodiedGrams)}) / R ${sci.units} run${sci.estimated ? ' (estimated)' : ''}`,
  );
  return lines;
}

/** What a grid intensity is: the user's own (CARBON_INTENSITY), an estimate, or live. */
export function intensityKind(source: string | null, estimated: boolean): string {
  if (source === 'fixed') return 'set by CARBON_INTENSITY';
  return estimated ? 'estimated' : 'live';
}

/** `live`, `estimated, stale`, `set by CARBON_INTENSITY`: what an intensity is, as shown. */
function intensityFlags(source: string | null, estimated: boolean, stale: boolean): string {
  return [intensityKind(source, estimated), ...(stale ? ['stale'] : [])].join(', ');
}

/** The intensity over all the priced energy: each source's weighed by the energy it priced. */
function meanIntensity(sources: readonly PricedSource[]): number {
  const joules = sources.reduce((sum, s) => sum + s.joules, 0);
  return sources.reduce((sum, s) => sum + s.joules * s.carbonIntensity, 0) / joules;
}

/**
 * One source's intensity as the emissions used it: its average over the energy it priced where
 * that moved during the run (Electricity Maps' hourly values over a long monitor), which the last
 * sample's would not explain; the last sample's otherwise, as it is the same.
 */
function singleIntensityText(grid: Report['grid'], last: number): string {
  const priced = grid.sources[0];
  if (priced && sig(priced.carbonIntensity) !== sig(last)) {
    return `${sig(priced.carbonIntensity)} gCO2e/kWh on average, from ${grid.source}`;
  }
  return `${sig(last)} gCO2e/kWh from ${grid.source}`;
}

/** A share in whole percent, never a 0 % or 100 % of a source that priced some, not all. */
function percentText(share: number): string {
  const percent = Math.round(share * 100);
  if (percent === 0) return '<1 %';
  if (percent === 100 && share < 1) return '>99 %';
  return `${percent} %`;
}

/** `annual-average (38 %, estimated)`; the first, the largest, says what the share is of. */
function pricedText(s: PricedSource, index: number): string {
  const of = index === 0 ? ' of the energy' : '';
  return `${s.source} (${percentText(s.share)}${of}, ${intensityFlags(s.source, s.estimated, s.stale)})`;
}

/** What goes before a figure of the command that can only be short (read by ps). */
function atLeast(report: Report): string {
  return report.energy.lowerBound ? 'at least ' : '';
}

/**
 * The sources whose readings the figures hold, in the order they first gave one, then any other
 * in use at the end: one that took over mid-run (RAPL made readable, a meter that stopped
 * answering) does not hide the one that served before it.
 */
function servedSources(report: Report): { name: string; estimated: boolean }[] {
  const served = new Map<string, { name: string; estimated: boolean }>();
  const add = (name: string, estimated: boolean) => {
    const key = `${name}|${estimated}`;
    if (!served.has(key)) served.set(key, { name, estimated });
  };
  for (const c of report.host.components) add(c.source, c.estimated);
  for (const s of report.measurement.sources) add(s.name, s.estimated);
  return [...served.values()];
}

/** The human summary printed on stderr at the end of `run` and `monitor`. */
export function formatSummary(report: Report): string {
  const lines = [headline(report)];
  const { energy, emissions, grid } = report;
  const kind = energyKind(energy.estimated, energy.components);
  if (report.scope === 'process') {
    if (energy.known) {
      // The GPU share alone is pmon's, not the attribution's share of the host.
      const whose = energy.cpuUnmeasured
        ? 'its GPU share alone'
        : `${report.measurement.attribution ?? ''} share of the host`;
      lines.push(
        `  energy of the command: ${atLeast(report)}${formatEnergy(energy.joules)} (${sig(energy.averageWatts)} W average, ${kind}, ${whose})`,
      );
      lines.push(...componentLines(energy.components));
    } else {
      lines.push(`  energy of the command: unknown (${energy.unknownReason})`);
    }
    lines.push(
      `  whole machine meanwhile: ${formatEnergy(report.host.joules)} (${sig(report.host.averageWatts)} W average, ${energyKind(report.host.estimated, report.host.components)})`,
    );
    // By component, as monitor's: a measured GPU is not hidden in one estimated total.
    lines.push(...componentLines(report.host.components));
  } else {
    lines.push(
      `  energy: ${formatEnergy(energy.joules)} (${sig(energy.averageWatts)} W average, ${kind})`,
    );
    lines.push(...componentLines(energy.components));
  }
  if (grid.carbonIntensity === null) {
    lines.push(`  emissions: unknown (no grid intensity for zone ${grid.zone})`);
  } else if (report.scope === 'process' && !energy.known) {
    lines.push('  emissions: unknown');
  } else if (grid.sources.length > 1) {
    lines.push(
      `  emissions: ${atLeast(report)}${formatGrams(emissions.grams)} CO2e (zone ${grid.zone}: ${sig(meanIntensity(grid.sources))} gCO2e/kWh on average; PUE ${report.pue})`,
      `  intensity: ${grid.sources.map(pricedText).join(', ')}`,
    );
  } else {
    const flags = intensityFlags(grid.source, grid.estimated, grid.stale);
    lines.push(
      `  emissions: ${atLeast(report)}${formatGrams(emissions.grams)} CO2e (zone ${grid.zone}: ${singleIntensityText(grid, grid.carbonIntensity)}, ${flags}; PUE ${report.pue})`,
    );
  }
  lines.push(...sciLines(report));
  const sources = servedSources(report)
    .map((s) => `${s.name} (${s.estimated ? 'estimated' : 'measured'})`)
    .join(', ');
  lines.push(
    `  power from: ${sources}${report.measurement.reasons.length ? ` — ${report.measurement.reasons.join('; ')}` : ''}`,
  );
  if (report.measurement.cpuTime) lines.push(`  command CPU time: ${report.measurement.cpuTime}`);
  for (const note of report.measurement.notes) lines.push(`  note: ${note}`);
  if (report.output) {
    lines.push(
      report.output.written
        ? `  CSV: appended a row to ${printable(report.output.path)}`
        : `  CSV: NOT written: ${printable(report.output.error ?? '')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
