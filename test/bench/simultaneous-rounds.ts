/**
 * Simultaneous rounds: every contender under the same load at the same time, all of them on one
 * CPU (affinity.ts), each round's CPU per request read from /proc around it. On this machine the
 * CPU a request costs drifts by tens of percent within a minute (the host's other tenants):
 * alternating rounds, 8 s apart, read two identical servers 0.66 to 1.32 apart round by round,
 * where two identical servers measured at the same moments on one core read 0.98 to 1.01 apart
 * in eight rounds. What one server costs more than another is then a per-round difference, which
 * the drift leaves alone. The servers share the core, so each serves about 1/n of what it would
 * alone: the absolute figures belong to alternatingRounds, the differences to this.
 */

import {
  assertAllOk,
  type Contender,
  loadContender,
  type RoundsOutcome,
  type RoundsPlan,
  tally,
} from './rounds.js';
import { cpuSeconds } from './servers.js';

/** As alternating rounds' plan; `connections` go to each contender. */
export type SimultaneousPlan = RoundsPlan;

function loadAll(contenders: readonly Contender[], plan: SimultaneousPlan, seconds: number) {
  return Promise.all(contenders.map((c) => loadContender(c, plan, seconds)));
}

export async function simultaneousRounds(
  contenders: readonly Contender[],
  plan: SimultaneousPlan,
  log: (message: string) => void,
): Promise<RoundsOutcome> {
  // A switch in the server (alternatingRounds' `before`) has no turn to run in here.
  const switched = contenders.find((c) => c.before || c.settleSeconds);
  if (switched) throw new Error(`${switched.label}: simultaneous rounds take no switch`);
  const { runs, answered, count } = tally(contenders);
  const warm = await loadAll(contenders, plan, plan.warmupSeconds);
  contenders.forEach((c, i) => {
    assertAllOk(c, warm[i]);
    count(c, warm[i]);
  });
  for (let round = 0; round < plan.rounds; round++) {
    const cpu0 = contenders.map((c) => cpuSeconds(c.pid, true));
    const results = await loadAll(contenders, plan, plan.seconds);
    contenders.forEach((c, i) => {
      const r = results[i];
      const cpuMicrosPerRequest = ((cpuSeconds(c.pid, true) - cpu0[i]) * 1e6) / r.total;
      assertAllOk(c, r);
      count(c, r);
      runs.get(c.key)?.push({ ...r, cpuMicrosPerRequest });
    });
    log(
      `round ${round + 1}: ${contenders.map((c, i) => `${c.key} ${results[i].requestsPerSecond.toFixed(0)} req/s, ${runs.get(c.key)?.at(-1)?.cpuMicrosPerRequest.toFixed(1)} µs CPU`).join('; ')}`,
    );
  }
  return { runs, answered };
}
