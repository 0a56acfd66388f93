import type { DroppedOperation, OperationKind } from '../energy/index.js';
import type { BoundedLabelSet } from '../labels/index.js';

/** Why an operation was dropped: it ran too long (a leak), or was the oldest of too many (a burst). */
export type DropReason = DroppedOperation['reason'];

/** How many operations of one name (bounded), kind and reason were dropped from sharing. */
export interface DropCount {
  readonly operation: string;
  readonly kind: OperationKind;
  readonly reason: DropReason;
  readonly count: number;
}

interface Tally {
  readonly operation: string;
  readonly kind: OperationKind;
  readonly reason: DropReason;
  count: number;
}

type Tallies = Record<DropReason, Map<string, Tally>>;

const tallies = (): Tallies => ({ age: new Map(), running: new Map() });

/**
 * Drops since the start per operation name, kind and reason, for carbonscope.operation.dropped:
 * names labelled by the operation metrics' own set (ENERGY_OPERATION_MAX_NAMES names, the rest
 * `other`); kind and reason are two values each. Kept here, not in one binding of the
 * instruments, so a binding made later (the application's provider after carbonscope's own)
 * observes the same totals. A drop costs a map lookup.
 */
export class DropCounts {
  private readonly byKind: Record<OperationKind, Tallies> = {
    request: tallies(),
    operation: tallies(),
  };

  constructor(private readonly names: BoundedLabelSet) {}

  record({ operation, kind, reason }: DroppedOperation): void {
    const label = this.names.label(operation);
    const byName = this.byKind[kind][reason];
    const tally = byName.get(label);
    if (tally) tally.count++;
    else byName.set(label, { operation: label, kind, reason, count: 1 });
  }

  *list(): IterableIterator<DropCount> {
    for (const byReason of [this.byKind.request, this.byKind.operation]) {
      yield* byReason.age.values();
      yield* byReason.running.values();
    }
  }
}
