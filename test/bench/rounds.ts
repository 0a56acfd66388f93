/**
 * Alternating rounds over servers already running: the same load on each, round after round,
 * in an order that rotates every round so a drift in the machine's load hits each alike, with
 * the server process's CPU time per request read from /proc around every run.
 */
import { type LoadRequest, type LoadResult, median, runLoad } from './load.js';
import { cpuSeconds } from './servers.js';

export interface RoundsPlan {
  warmupSeconds: number;
  rounds: number;
  seconds: number;
  connections: number;
}

export interface Contender {
  key: string;
  label: string;
  url: string;
  pid: number;
  requests: LoadRequest[];
  /** Run before each of its loads (warm-up included): a switch in the server, say. */
  before?: () => Promise<void>;
  /**
   * Seconds of load after `before` and before a round is measured, not counted in it. A round
   * measured from the switch on carries what the switch leaves to do (code that ran in the
   * other state warming up again: in a run of Express under `register`, the first 3 s round
   * after switching tracking on cost 10-15 µs more per request than the next two), and a
   * rotation does not give every contender as many switches.
   */
  settleSeconds?: number;
}

export interface RoundResult extends LoadResult {
  /** User + system CPU of the server process and of the children it reaped, per request. */
  cpuMicrosPerRequest: number;
}

export interface RoundsOutcome {
  /** Each contender's runs, round by round (index i is round i for every contender). */
  runs: Map<string, RoundResult[]>;
  /** 2xx responses each contender gave, warm-up included. */
  answered: Map<string, number>;
}

/** `contender`'s requests over the plan's connections for `seconds`, as fast as it answers. */
export function loadContender(
  contender: Contender,
  plan: RoundsPlan,
  seconds: number,
): Promise<LoadResult> {
  return runLoad({
    url: contender.url,
    connections: plan.connections,
    durationSeconds: seconds,
    requests: contender.requests,
  });
}

export function assertAllOk(contender: Contender, r: LoadResult): void {
  if (r.status2xx === 0 || r.status4xx + r.status5xx + r.errors > 0) {
    throw new Error(
      `${contender.label}: ${r.status2xx} 2xx, ${r.status4xx} 4xx, ${r.status5xx} 5xx, ${r.errors} errors`,
    );
  }
}

/** An empty outcome for `contenders`, and how a load's 2xx answers are counted in it. */
export function tally(contenders: readonly Contender[]) {
  const runs = new Map<string, RoundResult[]>(contenders.map((c) => [c.key, []]));
  const answered = new Map<string, number>(contenders.map((c) => [c.key, 0]));
  const count = (c: Contender, r: LoadResult) =>
    answered.set(c.key, (answered.get(c.key) ?? 0) + r.status2xx);
  return { runs, answered, count };
}

export async function alternatingRounds(
  contenders: readonly Contender[],
  plan: RoundsPlan,
  log: (message: string) => void,
): Promise<RoundsOutcome> {
  const { runs, answered, count } = tally(contenders);
  for (const c of contenders) {
    await c.before?.();
    const r = await loadContender(c, plan, plan.warmupSeconds);
    assertAllOk(c, r);
    count(c, r);
  }
  for (let round = 0; round < plan.rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const c of order) {
      // Before the CPU is read: a switch's own work is not the load's, nor what it leaves.
      await c.before?.();
      if (c.settleSeconds) {
        const settled = await loadContender(c, plan, c.settleSeconds);
        assertAllOk(c, settled);
        count(c, settled);
      }
      const cpu0 = cpuSeconds(c.pid, true);
      const r = await loadContender(c, plan, plan.seconds);
      const cpuMicrosPerRequest = ((cpuSeconds(c.pid, true) - cpu0) * 1e6) / r.total;
      assertAllOk(c, r);
      count(c, r);
      runs.get(c.key)?.push({ ...r, cpuMicrosPerRequest });
      log(
        `round ${round + 1} ${c.key}: ${r.requestsPerSecond.toFixed(0)} req/s, ${cpuMicrosPerRequest.toFixed(1)} µs CPU`,
      );
    }
  }
  return { runs, answered };
}

/** What the rounds' arithmetic reads of a result. */
type Cpu = Pick<RoundResult, 'cpuMicrosPerRequest'>;

/**
 * The median over rounds of what `subject` cost more than `base` in the same round (µs): the
 * rounds' results taken in pairs, so that what moved both in a round cancels.
 */
export function addedInRounds(subject: readonly Cpu[], base: readonly Cpu[]) {
  return median(subject.map((r, i) => r.cpuMicrosPerRequest - base[i].cpuMicrosPerRequest));
}

/**
 * `added` (µs per request, however it was paired) as a percentage of `base`'s median CPU per
 * request. Not the two medians' ratio: in paired rounds the medians can fall in different rounds,
 * and the percentage then disagrees with the µs it is printed beside.
 */
export function addedPercent(added: number, base: readonly Cpu[]): number {
  return (added / medianCpu(base)) * 100;
}

/** The median over rounds of the CPU per request (µs). */
export function medianCpu(runs: readonly Cpu[]): number {
  return median(runs.map((r) => r.cpuMicrosPerRequest));
}
