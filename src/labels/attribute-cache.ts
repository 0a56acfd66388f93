import type { BoundedLabelSet } from './bounded-label-set.js';

/**
 * One attributes object per label value of a bounded set, made on first use and reused for
 * every recording after it, so a hot path allocates nothing. As bounded as its set: at most one
 * object per admitted value plus one for the overflow.
 */
export class AttributeCache<A extends object> {
  private readonly made = new Map<string, A>();

  constructor(
    private readonly labels: BoundedLabelSet,
    private readonly make: (label: string) => A,
  ) {}

  of(value: string): A {
    const label = this.labels.label(value);
    let attributes = this.made.get(label);
    if (attributes === undefined) {
      attributes = this.make(label);
      this.made.set(label, attributes);
    }
    return attributes;
  }
}
