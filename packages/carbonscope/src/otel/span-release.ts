import { performance } from 'node:perf_hooks';
import type { Span, TimeInput } from '@opentelemetry/api';
import {
  type Clock,
  monotonicClock,
  type Timer,
  type TimerHandle,
  unrefTimer,
} from '../energy/index.js';
import { endTimeFor } from './span-end-time.js';

/**
 * Spans a settlement ends at once before it paces the rest: well inside the SDK's default
 * BatchSpanProcessor queue (2,048), which also takes every other span meanwhile.
 */
const AT_ONCE = 256;
/** How often paced spans are looked at (ms). */
const TICK_MS = 10;
/**
 * Spans one tick ends at most, so the SDK's export of a batch (512) outpaces them: a tick that
 * ran late (the process off the CPU, its loop blocked) found every span due meanwhile overdue,
 * and ended them all in one run: a 600 ms stall handed the SDK 5,744 spans, past its queue. At
 * a tick every 10 ms it ends up to 25,600 spans a second; beyond, MAX_PACED bounds what waits.
 */
const PER_TICK = AT_ONCE;
/**
 * The most one tick ends, however late it ran: PER_TICK for each TICK_MS since the tick before,
 * up to this. Under overload a loop turn takes 100-400 ms, so one tick a turn at PER_TICK ended
 * 640-2,560 spans a second while a service ended 2,700: the paced spans grew by ~400 a second
 * (12,600 held after 30 s, ~2.3 KB each) until MAX_PACED. Half the SDK's queue: a stall's late
 * tick still hands it no more than its queue takes.
 */
const MOST_PER_TICK = 4 * PER_TICK;
/**
 * Spans left waiting past their due time at most: a tick ends the oldest beyond, whatever
 * MOST_PER_TICK. A loop turn of more requests than MOST_PER_TICK (a service under overload over
 * more than ~1,000 connections: 6,000 a second in 200 ms turns) left the release behind for as
 * long as the overload lasted (56,700 held after 60 s, toward MAX_PACED); past this, a tick
 * hands the SDK what came due in its turn, as many as a turn's requests gave it with no
 * carbonscope, and what is held stays level. Above the 5,744 a stall of 600 ms left overdue,
 * which MOST_PER_TICK still paces; about 19 MB of spans (~2.3 KB each).
 */
const MOST_OVERDUE = 8192;
/** Spans paced at most; beyond, a span ends at once, so what is held stays bounded. */
const MAX_PACED = 65_536;

/**
 * Ends the spans carbonscope held back until their operations' energy was settled, at the
 * pace the instrumentation ended them. A sample settles a whole interval's operations in one
 * call; ending their spans there handed the SDK's BatchSpanProcessor an interval's spans at
 * once, and past its queue (2,048 by default) it drops them: at 5,000 requests a second, more
 * than half of a traced service's server spans were lost. So each settlement's spans after the
 * first AT_ONCE are ended as long after the settlement as they were ended after its first one,
 * which is the flow the SDK would have had with no carbonscope, one interval later. Each span
 * keeps the end time the instrumentation gave it.
 */
export class SpanRelease {
  /** When the last tick ran (or the first span was paced), on `clock`. */
  private tickedMs = 0;
  private readonly spans: Array<Span | undefined> = [];
  private readonly times: TimeInput[] = [];
  private readonly due: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  /** Set for the synchronous run that calls end(): one settlement (the tracker's loop). */
  private settling = false;
  /** This settlement's delay: from its first span's end to the settlement (ms). */
  private delayMs = 0;
  private atOnce = 0;
  /** The SDK's clock (performance.now()) as this settlement began. */
  private sdkNowMs = 0;
  /** Entries compaction dropped so far: an entry's place in the list is its number less this. */
  private dropped = 0;
  /**
   * Whose settlements paced the entries (settlingFor): run k's owner paced the entries numbered
   * from runFrom[k] up to the next run's; the first run's from is the oldest entry's or before.
   */
  private runFrom: number[] = [0];
  private runOwner: Array<object | undefined> = [undefined];
  /**
   * The owners whose settlements run now, the innermost last: one instance's settlement can run
   * inside another's (a settled listener sampling a second instance), and as it ends the outer
   * one's goes on.
   */
  private readonly settlements: object[] = [];

  /**
   * `clock` and `ticks` are Node's own (monotonicClock, unref'd real timers); tests give
   * scripted ones to run ticks as late as a saturated loop does.
   */
  constructor(
    private readonly clock: Clock = monotonicClock,
    private readonly ticks: Timer = unrefTimer,
  ) {}

  /**
   * Ends `span` at `time`, now or later; `endedMs` is when it was ended (monotonicClock).
   * `tracked`: `time` was read on the tracker's clock. The SDK reads a number as a time on
   * performance.now()'s scale when it is no later than its own performance.now(), else as
   * milliseconds since 1970; the tracker's clock has performance.now()'s origin by an estimate,
   * so a reading of it could be a hair later, and is held to the SDK's clock (read once per
   * settlement), and given to a span of another implementation as epoch ms (endTimeFor). A time
   * the instrumentation gave passes as it is.
   */
  end(span: Span, time: TimeInput, endedMs: number, tracked = false): void {
    if (!this.settling) {
      // A settlement's loop can pause (a collection: 20 ms seen); its spans share one delay.
      this.settling = true;
      queueMicrotask(this.settled);
      this.delayMs = Math.max(0, this.clock() - endedMs);
      this.atOnce = AT_ONCE;
      this.sdkNowMs = performance.now();
    }
    if (tracked && typeof time === 'number') {
      if (time > this.sdkNowMs) time = this.sdkNowMs;
      time = endTimeFor(span, time);
    }
    const paced = this.spans.length - this.head;
    if (paced === 0 && this.atOnce > 0) {
      this.atOnce--;
      span.end(time);
      return;
    }
    if (paced >= MAX_PACED) {
      span.end(time);
      return;
    }
    if (paced === 0) this.tickedMs = this.clock();
    this.spans.push(span);
    this.times.push(time);
    this.due.push(endedMs + this.delayMs);
    this.timer ??= this.ticks.once(TICK_MS, this.tick);
  }

  /** Ends every paced span now (at stop, before the SDK shuts down). */
  releaseAll(): void {
    this.release(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /**
   * `owner`'s settlement begins: the spans paced from now on are its; undefined: the settlement
   * that began last ended, and the spans are the one's it ran inside, or no one's. Once a
   * settlement: end() is as it was, a run costs two numbers.
   */
  settlingFor(owner: object | undefined): void {
    const { settlements } = this;
    if (owner) settlements.push(owner);
    else settlements.pop();
    this.runFor(settlements[settlements.length - 1]);
  }

  /**
   * Ends now the paced spans `owner`'s settlements left (its stop()), each of them whatever
   * another's end() threw (the first error is thrown after); another owner's stay paced.
   */
  releaseOwn(owner: object): void {
    if (!this.runOwner.includes(owner)) return;
    const own = this.takeOwn(owner);
    this.release(Number.NEGATIVE_INFINITY, 0); // stops the ticks if none is left
    let failure: { err: unknown } | undefined;
    for (let i = 0; i < own.spans.length; i++) {
      try {
        own.spans[i].end(own.times[i]);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  /** Makes the spans paced from now on `owner`'s: a run of its own, or the last one's again. */
  private runFor(owner: object | undefined): void {
    const { runFrom, runOwner } = this;
    const last = runOwner.length - 1;
    if (runOwner[last] === owner) return;
    const next = this.dropped + this.spans.length;
    if (runFrom[last] === next) {
      // The last run is empty: the owner's run before it goes on (a span settled on its own
      // between two settlements costs no run); else the run is this owner's.
      if (last > 0 && runOwner[last - 1] === owner) {
        runFrom.pop();
        runOwner.pop();
      } else runOwner[last] = owner;
    } else {
      runFrom.push(next);
      runOwner.push(owner);
    }
  }

  /**
   * Takes `owner`'s entries out of the list, the others' moved down in order over their places,
   * their runs made again: the ticks end PER_TICK of the others' spans, as if `owner`'s had never
   * been paced (left as empty places, each counted against a tick's spans, the others' came out
   * slower). Ends nothing: no span's end() runs on a list half done.
   */
  private takeOwn(owner: object): { spans: Span[]; times: TimeInput[] } {
    const { runFrom, runOwner, spans, times, due } = this;
    const own = { spans: [] as Span[], times: [] as TimeInput[] };
    const next = this.dropped + spans.length;
    const runs = { from: [] as number[], owners: [] as Array<object | undefined> };
    let run = 0;
    let kept = 0;
    for (let i = this.head; i < spans.length; i++) {
      while (run + 1 < runFrom.length && runFrom[run + 1] <= this.dropped + i) run++;
      const span = spans[i];
      if (span === undefined) continue;
      if (runOwner[run] === owner) {
        own.spans.push(span);
        own.times.push(times[i]);
        continue;
      }
      const last = runs.owners.length - 1;
      if (last < 0 || runs.owners[last] !== runOwner[run]) {
        runs.from.push(kept);
        runs.owners.push(runOwner[run]);
      }
      spans[kept] = span;
      times[kept] = times[i];
      due[kept] = due[i];
      kept++;
    }
    spans.length = times.length = due.length = kept;
    this.head = 0;
    this.dropped = next - kept; // the next entry's number is as it was
    this.remakeRuns(runs.from, runs.owners, runOwner[runOwner.length - 1]);
    return own;
  }

  /**
   * The runs of the list as takeOwn left it: `from` (places in the list) and `owners`, then
   * `current`'s, the settlement's now, if it is not the last.
   */
  private remakeRuns(
    from: number[],
    owners: Array<object | undefined>,
    current: object | undefined,
  ): void {
    for (let k = 0; k < from.length; k++) from[k] += this.dropped;
    if (owners.length === 0 || owners[owners.length - 1] !== current) {
      from.push(this.dropped + this.spans.length);
      owners.push(current);
    }
    this.runFrom = from;
    this.runOwner = owners;
  }

  private readonly settled = (): void => {
    this.settling = false;
  };

  private readonly tick = (): void => {
    this.timer = undefined;
    const now = this.clock();
    const late = Math.max(1, Math.floor((now - this.tickedMs) / TICK_MS));
    this.tickedMs = now;
    this.release(now, Math.min(MOST_PER_TICK, late * PER_TICK));
  };

  /**
   * Ends the spans due by `until`, in order: `most` of them, and more while the one MOST_OVERDUE
   * further on is due too. The list is in due order about (one settlement's are; the next's come
   * due after them), as the stop at the first span not yet due already takes.
   */
  private release(until: number, most: number): void {
    const stop = Math.min(this.spans.length, this.head + most);
    const { due } = this;
    try {
      while (
        this.head < this.spans.length &&
        due[this.head] <= until &&
        (this.head < stop || due[this.head + MOST_OVERDUE] <= until)
      ) {
        const i = this.head++;
        const span = this.spans[i];
        this.spans[i] = undefined; // collectable once ended
        span?.end(this.times[i]);
      }
    } finally {
      this.compact();
      if (this.head < this.spans.length) this.timer ??= this.ticks.once(TICK_MS, this.tick);
      else if (this.timer) {
        this.timer.cancel();
        this.timer = undefined;
      }
    }
  }

  /** Drops the ended entries once none is left or they are most, in place. */
  private compact(): void {
    const { head } = this;
    const left = this.spans.length - head;
    if (head === 0 || (left > 0 && head < left)) return;
    moveDown(this.spans, head, left);
    moveDown(this.times, head, left);
    moveDown(this.due, head, left);
    this.head = 0;
    this.dropped += head;
    this.dropRuns();
  }

  /** Forgets the runs whose entries are all gone: the first run left begins at the oldest. */
  private dropRuns(): void {
    const { runFrom, runOwner } = this;
    let gone = 0;
    while (gone + 1 < runFrom.length && runFrom[gone + 1] <= this.dropped) gone++;
    if (gone === 0) return;
    runFrom.splice(0, gone);
    runOwner.splice(0, gone);
  }
}

/**
 * Moves `list`'s last `count` entries, from `from` on, to its start, and drops the rest. A loop,
 * not copyWithin: V8 runs copyWithin as the specification's generic algorithm, element by
 * element (60-100 ns each here, against a few for this loop), and about every paced span is
 * moved once in each of the three lists: perf put 0.2 µs of a traced request there.
 */
function moveDown<T>(list: T[], from: number, count: number): void {
  for (let k = 0; k < count; k++) list[k] = list[from + k];
  list.length = count;
}
