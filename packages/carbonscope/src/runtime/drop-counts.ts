import type { DroppedOperation, OperationKind } from '../energy/index.js';
import { operationLabels } from '../labels/index.js';

/** How many operations of one name (bounded) and kind were dropped from sharing. */
export interface DropCount {
  readonly operation: string;
  readonly kind: OperationKind;
  readonly count: number;
}

interface Tally {
  readonly operation: string;
  readonly kind: OperationKind;
  count: number;
}

/**
 * Drops since the start per operation name and kind, for carbonscope.operation.dropped: names
 * bounded as the operation metrics' are (the first MAX_OPERATIONS dropped, the rest `other`).
 * Kept here, not in one binding of the instruments, so a binding made later (the application's
 * provider after carbonscope's own) observes the same totals. A drop costs a map lookup.
 */
export class DropCounts {
  private readonly names = operationLabels();
  private readonly byKind: Record<OperationKind, Map<string, Tally>> = {
    request: new Map(),
    operation: new Map(),
  };

  record({ operation, kind }: DroppedOperation): void {
    const label = this.names.label(operation);
    const tallies = this.byKind[kind];
    const tally = tallies.get(label);
    if (tally) tally.count++;
    else tallies.set(label, { operation: label, kind, count: 1 });
  }

  *list(): IterableIterator<DropCount> {
    yield* this.byKind.request.values();
    yield* this.byKind.operation.values();
  }
}
