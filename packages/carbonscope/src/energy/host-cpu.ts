import { type CpuInfo, cpus as osCpus } from 'node:os';
import { logicalCpus } from '../logical-cpus.js';
import {
  CHAR_0,
  CHAR_9,
  freshFileReader,
  keptFileReader,
  NEWLINE,
  SPACE,
  USER_HZ,
} from '../proc/index.js';
import { countCpuLines, onlineCpusReader } from './online-cpus.js';
import type { HostCpuDelta } from './sources/index.js';

export const PROC_STAT_PATH = '/proc/stat';

/** Cumulative host CPU time, in the unit of whatever read it (ticks or ms). */
interface CpuTimes {
  active: number;
  total: number;
}

/** A read of the host's CPU time, with the CPUs online that it listed. */
interface CpuRead extends CpuTimes {
  /** The CPUs online /proc/stat listed with these times; 0 where it listed none (os.cpus()). */
  online: number;
}

// The aggregate line and one `cpuN` line a CPU online: 4 KiB hold 17 CPUs' lines at the longest
// (218 bytes), ~70 of this 2-vCPU VM's (57). A larger host's doubles it at the first read, kept.
const FIRST_BYTES = 4 * 1024;
// 8,192 CPUs' lines at 218 bytes; past it the count is the online file's (/sys).
const MOST_BYTES = 2 * 1024 * 1024;

/**
 * Parses the aggregate line `cpu  user nice system idle iowait irq softirq steal guest guest_nice`
 * straight from bytes (no string, no regex: it runs every tick). guest/guest_nice are already
 * inside user/nice, so they are not added again. Steal is wall time this machine's CPUs did not
 * run: the hypervisor ran another guest on the core, whose power is that guest's. It counts in
 * the total but not as busy, like iowait, and no process's utime/stime holds it either (the kernel
 * takes it out of the tick it charges). Returns false when the line is not there.
 */
export function parseProcStatHead(buf: Uint8Array, length: number, out: CpuTimes): boolean {
  if (length < 4 || buf[0] !== 99 || buf[1] !== 112 || buf[2] !== 117 || buf[3] !== SPACE) {
    return false; // not "cpu "
  }
  let field = 0;
  let active = 0;
  let notBusy = 0;
  let i = 4;
  while (i < length && buf[i] !== NEWLINE && field < 8) {
    const c = buf[i];
    if (c < CHAR_0 || c > CHAR_9) {
      i++;
      continue;
    }
    let value = 0;
    while (i < length && buf[i] >= CHAR_0 && buf[i] <= CHAR_9) {
      value = value * 10 + (buf[i] - CHAR_0);
      i++;
    }
    // 0 user, 1 nice, 2 system, 3 idle, 4 iowait, 5 irq, 6 softirq, 7 steal
    if (field === 3 || field === 4 || field === 7) notBusy += value;
    else active += value;
    field++;
  }
  if (field < 4) return false;
  out.active = active;
  out.total = active + notBusy;
  return true;
}

/**
 * Reads /proc/stat's aggregate line and its `cpuN` lines into `out` (the CPUs online, in the
 * same read: /sys/devices/system/cpu/online is not read where they are there); false where it
 * cannot, `failure.code` then says why. The kernel makes the whole file at each read from its
 * start however few bytes are asked for, so the larger buffer costs only its copy.
 */
function procStatReader(path: string, failure: { code?: string }): (out: CpuRead) => boolean {
  let buf = new Uint8Array(FIRST_BYTES);
  // The kernel's file is kept open (keptFileReader); a path given (a test's file) is opened at
  // each read, as it may be removed to make a read fail.
  const read = path === PROC_STAT_PATH ? keptFileReader(path) : freshFileReader(path);
  return (out) => {
    try {
      let n = read(buf, buf.length);
      let online = countCpuLines(buf, n, n < buf.length);
      // A host whose `cpuN` lines run past the buffer: a larger one, read again (once, or at a
      // CPU hot-add), and kept.
      while (online === undefined && buf.length < MOST_BYTES) {
        buf = new Uint8Array(buf.length * 2);
        n = read(buf, buf.length);
        online = countCpuLines(buf, n, n < buf.length);
      }
      // This read's reason only: an earlier read's code is not why this one failed.
      failure.code = undefined;
      const parsed = parseProcStatHead(buf, n, out);
      out.online = parsed ? (online ?? 0) : 0;
      return parsed;
    } catch (err) {
      failure.code = (err as NodeJS.ErrnoException).code;
      out.online = 0;
      return false;
    }
  };
}

/** os.cpus() times are milliseconds; used where /proc/stat is missing (macOS, Windows). */
function osCpusTimes(out: CpuRead, list: () => readonly CpuInfo[]): boolean {
  let active = 0;
  let idle = 0;
  const all = list();
  for (const { times } of all) {
    active += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  out.active = active;
  out.total = active + idle;
  // Its count is not taken: the CPUs online are read as where /proc/stat is not (/sys).
  out.online = 0;
  return all.length > 0;
}

/**
 * Why an open fails while the process (EMFILE) or the system (ENFILE) is out of file
 * descriptors: /proc/stat is there, and reads again once they free up.
 */
const SHORT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

export interface HostCpuReaderOptions {
  /** Defaults to /proc/stat; tests write their own file. */
  procStatPath?: string;
  /**
   * Defaults to /sys/devices/system/cpu/online, read only where /proc/stat lists no `cpuN` line
   * (or cannot be read: a /proc mounted subset=pid); tests write their own file.
   */
  onlinePath?: string;
  /**
   * Logical CPUs, fixed. By default the CPUs online at each read, /proc/stat's `cpuN` lines in
   * the same read: its aggregate grows by the time of those only (an offline CPU's counters
   * stop), and a live vCPU hot-add or offline changes them while the process runs. The online
   * file where /proc/stat lists none, logicalCpus(listCpus) where that is unreadable too.
   */
  cpus?: number;
  /** Defaults to os.cpus(); tests give an empty list, as a /proc mounted subset=pid does. */
  listCpus?: () => readonly CpuInfo[];
  /** Told why, of each read that fails once one got through (the caller warns once a reason). */
  onReadError?: (reason: string) => void;
}

/**
 * Returns a function that gives the host CPU time spent since its previous call (the first
 * call: since creation). Reads the aggregate line of /proc/stat (USER_HZ ticks), and the CPUs
 * online from its `cpuN` lines in the same read, and falls back to os.cpus() when that file
 * cannot be read at creation (but for want of descriptors). Deltas never go negative (a CPU
 * going offline can shrink the aggregate); a total of 0 with busy time says the total is not
 * known.
 *
 * A read that fails after one got through (EMFILE while the process is out of file descriptors)
 * is a miss: the last delta stands in for the host's load meanwhile (before the first delta, an
 * `unread` one: the sampler's floor), the baseline is kept, and the next read that gets through
 * gives the delta since it spread over the calls it spans (the sampler calls at a steady
 * interval), so its load is the average over the gap and its size one interval's. It used to
 * switch to os.cpus() for good, which reads /proc/stat too and then gave nothing, and counted
 * from zero: its next delta was all the CPU time since boot.
 */
export function createHostCpuReader(options: HostCpuReaderOptions = {}): () => HostCpuDelta {
  const path = options.procStatPath ?? PROC_STAT_PATH;
  const failure: { code?: string } = {};
  const fromProc = procStatReader(path, failure);
  const list = options.listCpus ?? osCpus;
  const fixedCpus = options.cpus;
  const readOnline = onlineCpusReader(options.onlinePath);
  const now: CpuRead = { active: 0, total: 0, online: 0 };
  const readAtStart = fromProc(now);
  // /proc/stat's count where the read listed one, else the online file's (its only read then).
  const onlineNow = (): number | undefined => (now.online > 0 ? now.online : readOnline());
  let cpus = fixedCpus ?? onlineNow() ?? logicalCpus(list);
  // Left as last read when neither says: a count of 0 would drop the host's CPU power.
  const countOnline = (): void => {
    if (fixedCpus === undefined) cpus = onlineNow() ?? cpus;
  };
  // Out of descriptors at creation is a miss too, not a /proc/stat that is not there.
  const useProc = readAtStart || SHORT_OF_DESCRIPTORS.has(failure.code ?? '');
  // Linux reads os.cpus() from /proc/stat too: where neither lists a CPU, nothing tells the
  // host's CPU time, and the meter is told why rather than handed an idle host.
  let unread: string | undefined;
  const fromList = (): boolean => {
    const listed = osCpusTimes(now, list);
    unread = listed
      ? undefined
      : `cannot read ${path} (${failure.code ?? 'no cpu line'}) and os.cpus() lists no CPU ` +
        "(a /proc mounted with subset=pid, as systemd's ProcSubset=pid does)";
    return listed;
  };
  // Why the latest read failed: fromList's words where it is the reader (then always set).
  const whyUnread = (): string => unread ?? `${path}: ${failure.code ?? 'no cpu line'}`;
  let baseline = readAtStart || (!useProc && fromList());
  // Why there is no baseline yet: the first read that gets through only makes one.
  const noBaseline = baseline ? '' : whyUnread();
  const unitsPerSecond = useProc ? USER_HZ : 1000;
  let prevActive = now.active;
  let prevTotal = now.total;
  // None before the first delta: a miss then has no load to stand in, and is the floor.
  let last: HostCpuDelta | undefined;
  let missed = 0;

  return () => {
    if (!(useProc ? fromProc(now) : fromList())) {
      const why = whyUnread();
      if (baseline) {
        missed += 1;
        options.onReadError?.(why);
        // Marked, for the reports to say what rests on it: a new object only on a miss.
        if (last) return { ...last, standIn: why };
      } else {
        // /sys reads where /proc/stat does not (subset=pid): the sampler's floor models these.
        countOnline();
      }
      return { activeSeconds: 0, totalSeconds: 0, cpus, unread: why };
    }
    if (!baseline) {
      // A delta needs two reads: this interval is as unread as those before it.
      baseline = true;
      countOnline();
      prevActive = now.active;
      prevTotal = now.total;
      last = { activeSeconds: 0, totalSeconds: 0, cpus, unread: noBaseline };
      // Not in `last`: a miss it then stands in for is no baseline.
      return { ...last, baseline: true };
    }
    const spans = missed + 1;
    missed = 0;
    // A miss leaves `cpus` as at the last read that got through, so a count that changed during
    // a gap shows here too.
    const cpusBefore = cpus;
    countOnline();
    const active = Math.max(0, now.active - prevActive);
    // The kernel reads an offline CPU's idle from its ticks, an online one's from its NO_HZ idle
    // time: as a CPU goes off or comes back, the aggregate's idle drops or jumps by what the two
    // differ by (read as 100 % or ~0 % busy). Less time in all than busy, or a count that
    // changed: the total is unknown (0), and the sampler takes the wall time's.
    const elapsed = now.total - prevTotal;
    const total = elapsed >= active && cpus === cpusBefore ? elapsed : 0;
    prevActive = now.active;
    prevTotal = now.total;
    const per = unitsPerSecond * spans;
    last = { activeSeconds: active / per, totalSeconds: total / per, cpus };
    return last;
  };
}
