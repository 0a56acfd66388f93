// Whether a process that ends now, with no turn for a last push, loses anything: only what was
// counted after the collection of each pushing reader's last successful push. A push that
// failed counts as none: under cumulative temporality the next push would have carried its
// figures again, and there is no next; under delta they were lost with it, and are no more
// exported now than then. Its own line told of that failure; the exit line says what was
// counted since the last push that arrived, which holds either way.
import { failureOf, type PushMetricExporter } from './sdk/index.js';

type Reader = import('@opentelemetry/sdk-metrics').IMetricReader;

/** Taken as a reader collects; tells, later, whether anything was counted since. */
export type CountedSince = () => boolean;

interface Slot {
  /** The mark of the reader's latest collection, until its export ends. */
  collected: CountedSince | undefined;
  /** The mark of the collection its last successful push carried; none before one. */
  pushed: CountedSince | undefined;
}

/** The marks of an own provider's pushing readers (OTLP, console). */
export class PushMarks {
  private readonly slots: Slot[] = [];
  private take: (() => CountedSince) | undefined;

  /**
   * Each collection from now on takes `take()`'s mark: the instruments are bound after the
   * provider starts, and a collection before that carried none of their figures.
   */
  markWith(take: () => CountedSince): void {
    this.take = take;
  }

  /**
   * `inner`, remembering the mark of what each successful export carried; `watch` makes the
   * reader that exports through it mark each collection, before its callbacks observe (a sample
   * during the collection then counts as after it: the line said once too often, never missed).
   */
  pushing(inner: PushMetricExporter): {
    exporter: PushMetricExporter;
    watch<R extends Reader>(reader: R): R;
  } {
    const slot: Slot = { collected: undefined, pushed: undefined };
    this.slots.push(slot);
    const exporter: PushMetricExporter = {
      // The periodic reader exports once at a time, right after its collection.
      export: (metrics, done) => {
        const mark = slot.collected;
        inner.export(metrics, (result) => {
          if (mark && failureOf(result) === undefined) slot.pushed = mark;
          done(result);
        });
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
      selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
      selectAggregation: inner.selectAggregation?.bind(inner),
    };
    const watch = <R extends Reader>(reader: R): R => {
      const collect = reader.collect.bind(reader);
      reader.collect = (options) => {
        slot.collected = this.take?.();
        return collect(options);
      };
      return reader;
    };
    return { exporter, watch };
  }

  /** Whether a pushing reader holds figures counted since its last successful push, or never pushed. */
  unpushed(): boolean {
    return this.slots.some((slot) => !slot.pushed || slot.pushed());
  }
}
