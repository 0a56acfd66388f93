import type { BoundedLabelSet } from './bounded-label-set.js';

/**
 * One attributes object (or a record of them) per label value of one bounded set, or per pair
 * of values of two, made on first use and reused for every recording after it: a lookup
 * allocates nothing. As bounded as its sets: one object per admitted value (pair), plus the
 * overflow's.
 */
export class AttributeCache<A> {
  private readonly made = new Map<string, Map<string, A>>();

  constructor(
    private readonly sets: readonly [BoundedLabelSet] | readonly [BoundedLabelSet, BoundedLabelSet],
    private readonly make: (first: string, second: string) => A,
  ) {}

  of(first: string, second = ''): A {
    const a = this.sets[0].label(first);
    const b = this.sets[1]?.label(second) ?? '';
    let inner = this.made.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.made.set(a, inner);
    }
    let attributes = inner.get(b);
    if (attributes === undefined) {
      attributes = this.make(a, b);
      inner.set(b, attributes);
    }
    return attributes;
  }
}
