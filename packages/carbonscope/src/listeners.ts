/**
 * Listeners, copied on write: a call walks the array as it was when it began, so a listener
 * that unsubscribes as it is called (one waiting for the first operation) no longer takes the
 * next one's call, and calling them allocates nothing; subscribing is rare.
 */
export class Listeners<L> {
  all: readonly L[] = [];

  /** Adds `listener`; returns what takes it off again. */
  add(listener: L): () => void {
    this.all = [...this.all, listener];
    return () => {
      const i = this.all.indexOf(listener);
      if (i >= 0) this.all = [...this.all.slice(0, i), ...this.all.slice(i + 1)];
    };
  }
}
