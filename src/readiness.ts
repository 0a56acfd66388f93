import { messageOf } from 'carbonscope';

/** Start-up work the service waits for before it says it is ready (model loaded, first sample). */
export class Readiness {
  private readonly pending = new Map<string, string>();
  private readonly failed = new Map<string, string>();

  /** Marks `name` pending until `work` settles; a rejection keeps the service unready. */
  waitFor(name: string, work: Promise<unknown>): void {
    this.pending.set(name, 'starting');
    work.then(
      () => this.pending.delete(name),
      (err: unknown) => {
        this.pending.delete(name);
        this.failed.set(name, messageOf(err));
      },
    );
  }

  get ready(): boolean {
    return this.pending.size === 0 && this.failed.size === 0;
  }

  status(): { ready: boolean; pending: string[]; failed: Record<string, string> } {
    return {
      ready: this.ready,
      pending: [...this.pending.keys()],
      failed: Object.fromEntries(this.failed),
    };
  }
}
