import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { type LineChildOptions, spawnDetached } from '../../../../src/energy/sources/line-child.js';
import type { RestartDelays } from '../../../../src/energy/sources/restart-backoff.js';
import type { HostCpuDelta, SampleTick } from '../../../../src/energy/sources/source.js';
import type { Logger } from '../../../../src/log.js';
import { libraryRoot } from '../../../../src/paths.js';
import { waitFor } from '../../../helpers/wait.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines are kept for assertions. */
export function captureLogger(): { logger: Logger; lines: LogLine[]; warnings: () => LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { logger, lines, warnings: () => lines.filter((l) => l.level >= 40) };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `carbonscope-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fixture(name: string): string {
  return join(libraryRoot, 'test', 'fixtures', 'energy', name);
}

export function fixtureText(name: string): string {
  return readFileSync(fixture(name), 'utf8');
}

export interface ZoneSpec {
  /** Folder name, e.g. `intel-rapl:0:1`. */
  dir: string;
  name: string;
  energyUj: number;
  /** Omit to leave max_energy_range_uj out. */
  maxUj?: number;
  /** constraint_0_max_power_uw (µW); omit to leave it out, as many zones do. */
  maxPowerUw?: number;
}

/** Builds a powercap tree the way the kernel lays it out (flat zone folders under the root). */
export function buildPowercapTree(root: string, zones: readonly ZoneSpec[]): void {
  mkdirSync(root, { recursive: true });
  // The control-type folder exists on real machines and is not a zone.
  mkdirSync(join(root, 'intel-rapl'), { recursive: true });
  writeFileSync(join(root, 'intel-rapl', 'enabled'), '1\n');
  for (const z of zones) {
    const dir = join(root, z.dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'name'), `${z.name}\n`);
    writeFileSync(join(dir, 'energy_uj'), `${z.energyUj}\n`);
    if (z.maxUj !== undefined) writeFileSync(join(dir, 'max_energy_range_uj'), `${z.maxUj}\n`);
    if (z.maxPowerUw !== undefined) {
      writeFileSync(join(dir, 'constraint_0_name'), 'long_term\n');
      writeFileSync(join(dir, 'constraint_0_max_power_uw'), `${z.maxPowerUw}\n`);
    }
  }
}

export function setEnergy(root: string, dir: string, energyUj: number): void {
  writeFileSync(join(root, dir, 'energy_uj'), `${energyUj}\n`);
}

export const NO_CPU: HostCpuDelta = { activeSeconds: 0, totalSeconds: 0, cpus: 1 };

export function tick(elapsedMs: number, hostCpu: HostCpuDelta = NO_CPU, nowMs = 0): SampleTick {
  return { nowMs, elapsedMs, hostCpu };
}

/**
 * Writes an executable node script standing in for a vendor binary. The script records its pid
 * in `<dir>/<name>.pid` so a test can check that close() really ended it.
 */
export function writeFakeBinary(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  const pidFile = join(dir, `${name}.pid`);
  writeFileSync(
    path,
    `#!${process.execPath}\n` +
      `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\n` +
      `const args = process.argv.slice(2);\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

export function fakePid(dir: string, name: string): number {
  return Number(readFileSync(join(dir, `${name}.pid`), 'utf8'));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One line a paced fake prints, and when: milliseconds after the fake started. */
export type PacedLine = readonly [atMs: number, text: string];

/**
 * A fake vendor binary that prints recorded lines at the times they were recorded, each at its
 * own offset from the fake's start (so a slow line delays no later one), then stays silent
 * until killed (the recording ends there; the tool had not). It exits 64
 * when its arguments are not `expectedArgs`.
 */
export function writePacedBinary(
  dir: string,
  name: string,
  lines: readonly PacedLine[],
  expectedArgs: readonly string[],
): string {
  return writeFakeBinary(
    dir,
    name,
    `
if (args.join(' ') !== ${JSON.stringify(expectedArgs.join(' '))}) {
  console.error('unexpected arguments: ' + args.join(' '));
  process.exit(64);
}
const lines = ${JSON.stringify(lines)};
const t0 = performance.now();
let i = 0;
const next = () => {
  if (i === lines.length) {
    setInterval(() => undefined, 60_000);
    return;
  }
  const [at, text] = lines[i];
  setTimeout(() => {
    process.stdout.write(text + '\\n');
    i++;
    next();
  }, Math.max(0, t0 + at - performance.now()));
};
next();
`,
  );
}

/** A Node stand-in for a reader may take seconds to start on a loaded machine. */
export const STAND_IN_START_MS = 20_000;

/** Starts a stand-in appended to `path`, one line a start. */
export const startsIn = (path: string): number =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;

/** Children started so far, counted as each is spawned (a binary that is gone counts too). */
export function countingSpawn(): { lineChild: LineChildOptions; spawns(): number } {
  let spawns = 0;
  const lineChild: LineChildOptions = {
    spawn(file, args) {
      spawns++;
      return spawnDetached(file, args);
    },
  };
  return { lineChild, spawns: () => spawns };
}

/**
 * Resolves once every restart pending at its call has run or been dropped. A restart is a real
 * timer of at most the longest wait, and spawns in its callback, where countingSpawn counts it; a
 * timer of that wait set now is due after it and runs after it however late load makes both.
 * A wait for a stand-in's own start line had no such order: one started late (a loaded machine
 * takes seconds to start Node) wrote it after the check, which passed wrongly.
 */
export const pastPendingRestarts = (delays: RestartDelays) => delay(delays.maxMs + 1);

/**
 * A stand-in for nvidia-smi (or its pmon) that prints `head` once, then `each` every 20 ms: it
 * exits 15 when `die` exists (removing it, so the next one lives) and prints nothing at all while
 * `hold` exists. Each start appends a line to `starts` (startsIn counts them).
 */
export function dyingStandIn(
  dir: string,
  each: string,
  head = '',
): { binary: string; die: string; hold: string; starts: string } {
  const die = join(dir, 'die');
  const hold = join(dir, 'hold');
  const starts = join(dir, 'starts');
  const binary = writeFakeBinary(
    dir,
    'nvidia-smi',
    `const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(starts)}, 'start\\n');
const round = () => {
  if (fs.existsSync(${JSON.stringify(die)})) { fs.rmSync(${JSON.stringify(die)}); process.exit(15); }
  process.stdout.write(${JSON.stringify(each)});
};
const go = () => {
  if (fs.existsSync(${JSON.stringify(hold)})) return setTimeout(go, 10);
  process.stdout.write(${JSON.stringify(head)});
  round();
  setInterval(round, 20);
};
go();`,
  );
  return { binary, die, hold, starts };
}

/**
 * A stand-in's binary taken away as its child dies, until the reader says it is not found, then
 * put back until the reader says it reads again: what a driver upgrade does under a running app.
 */
export async function goneAndBack(
  binary: string,
  die: string,
  warnings: () => readonly LogLine[],
): Promise<void> {
  const away = join(dirname(binary), 'gone');
  renameSync(binary, away);
  writeFileSync(die, '');
  const said = (words: string) => () => warnings().some((w) => String(w.msg).includes(words));
  await waitFor('the binary missed', said('not found'), STAND_IN_START_MS);
  renameSync(away, binary);
  await waitFor('its readings back', said('reads again'), STAND_IN_START_MS);
}
