import type { CpuAccount } from './callback-cpu.js';
import type { ChildCpuAccount } from './probes.js';

/** The operation an OperationCpu measures: whether it still runs, and whether it is settled. */
export interface CpuOwner {
  readonly ended: boolean;
  readonly closed: boolean;
}

/**
 * What the callback clock measured of one operation. Made only for an operation begun while
 * CPU is measured (`exact`, a calibration window) or run() then: between windows no operation
 * carries these numbers, each of which V8 would box on every operation it creates.
 */
export class OperationCpu implements CpuAccount, ChildCpuAccount {
  /**
   * CPU ms measured in its callbacks until it is settled: the callbacks it scheduled count after
   * its end too.
   */
  busyMs = 0;
  /** busyMs at the last sample. */
  busyAtSample = 0;
  callbacks = 0;
  takeovers = 0;
  /** Its work's time out on libuv's pool (PoolWork), and that at the last sample. */
  poolMs = 0;
  poolAtSample = 0;
  /** The other threads' CPU it was given at samples for that work (ms). */
  offThreadMs = 0;
  /**
   * The CPU of the non-Node children it spawned (ChildrenCpu charges it as it reads them), and
   * that at the last sample (ms).
   */
  childMs = 0;
  childAtSample = 0;

  /**
   * `window`: the calibration window it began in (0 for none). `measured`: its CPU is read
   * (a request begun while measuring, or an operation run() while measuring); an operation
   * begun in a window but not yet run is not.
   */
  constructor(
    private readonly owner: CpuOwner,
    readonly window: number,
    public measured: boolean,
  ) {}

  get ended(): boolean {
    return this.owner.ended;
  }

  get closed(): boolean {
    return this.owner.closed;
  }

  /** CPU ms since the last sample, or NaN when its CPU is not read. */
  sinceSample(): number {
    return this.measured ? this.busyMs - this.busyAtSample : Number.NaN;
  }

  /** Its children's CPU charged since the last sample (ms). */
  childSinceSample(): number {
    return this.childMs - this.childAtSample;
  }

  /** Its pool work's time out since the last sample (ms). */
  poolSinceSample(): number {
    return this.poolMs - this.poolAtSample;
  }
}
