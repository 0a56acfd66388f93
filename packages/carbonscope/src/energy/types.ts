import type { IntensityReading } from '../grid/types.js';

export type Scope = 'host' | 'process';
export type Component = 'cpu' | 'dram' | 'gpu' | 'ram' | 'package' | 'system';

/** What one operation (a request, an inference, a chat) cost while it ran. */
export interface OperationFootprint {
  operation: string;
  durationSeconds: number;
  energyJoules: number;
  emissionsGrams: number;
  /** True when the process energy behind it came from an estimate rather than a meter. */
  estimated: boolean;
}

export interface ActiveOperation {
  /**
   * Ends the operation, records it, and returns its share of the process's energy. `operation`
   * renames it when the name is known only at the end (a request's route template). Idempotent.
   */
  end(operation?: string): OperationFootprint;
}

/** The part of the meter that routes and library users need. */
export interface OperationTracker {
  begin(operation: string): ActiveOperation;
  /** Runs fn (sync or async) as one operation; returns what fn returns. */
  track<T>(operation: string, fn: () => T): T;
}

export type { IntensityReading };
