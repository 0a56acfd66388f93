import {
  type LentFigures,
  type OperationKind,
  type OperationScore,
  sciOf,
} from '../energy/index.js';
import { englishOrder } from '../english-order.js';
import type { BoundedLabelSet } from '../labels/index.js';

interface Tally {
  operation: string;
  kind: OperationKind;
  count: number;
  joules: number;
  grams: number;
  embodiedGrams: number;
  estimated: boolean;
}

/**
 * Every operation name's settled figures since the start (the bounded set of names the metrics
 * use, the rest as `other`), for the snapshot: per operation, E × I, M and the SCI. A settled
 * operation costs a map lookup and a few additions, none when it repeats the last one's name.
 */
export class OperationScores {
  private readonly byName = new Map<string, Tally>();

  /** The last name recorded and its tally: settled operations come in runs of one name. */
  private lastName: string | undefined;
  private lastTally: Tally | undefined;

  /** `names`: the operation metrics' own set, so the snapshot names what they name. */
  constructor(private readonly names: BoundedLabelSet) {}

  record(footprint: LentFigures): void {
    const tally = footprint.operation === this.lastName ? this.lastTally : undefined;
    this.add(tally ?? this.find(footprint), footprint);
  }

  private find(footprint: LentFigures): Tally {
    let tally = this.byName.get(footprint.operation);
    if (!tally) {
      const operation = this.names.label(footprint.operation);
      tally = this.byName.get(operation);
      if (!tally) {
        tally = {
          operation,
          kind: footprint.kind,
          count: 0,
          joules: 0,
          grams: 0,
          embodiedGrams: 0,
          estimated: false,
        };
        this.byName.set(operation, tally);
      }
    }
    this.lastName = footprint.operation;
    this.lastTally = tally;
    return tally;
  }

  private add(tally: Tally, footprint: LentFigures): void {
    tally.count++;
    tally.joules += footprint.joules;
    tally.grams += footprint.grams;
    tally.embodiedGrams += footprint.embodiedGrams;
    if (footprint.estimated) tally.estimated = true;
  }

  /** Per operation name, most frequent first. */
  list(): OperationScore[] {
    return (
      [...this.byName.values()]
        .map((t) => {
          const sci = sciOf(t, t.count);
          return {
            operation: t.operation,
            kind: t.kind,
            count: t.count,
            joules: t.joules / t.count,
            operationalGrams: sci.operationalGrams / t.count,
            embodiedGrams: sci.embodiedGrams / t.count,
            sciGrams: sci.gramsPerUnit,
            estimated: sci.estimated,
          };
        })
        // Ties in English order whatever LANG says, as the snapshot's readers expect.
        .sort((a, b) => b.count - a.count || englishOrder(a.operation, b.operation))
    );
  }
}
