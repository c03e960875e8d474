// Group commit: arrivals that come together commit together, in one transaction, and each
// caller's promise settles only when its own writes are durable. A failing group is retried
// one batch at a time so that one bad arrival fails alone.
//
// Up to `maxInFlight` groups are on their way to the store at once: while one commits (on the
// writer thread, waiting for the disk), the arrivals that come meanwhile form the next group
// instead of waiting for it. Groups never share an object (an object's next arrival waits in
// its mailbox for the previous commit), and the store commits them in the order they were sent.

import type { CommitBatch, Store } from "../core/store.ts";

interface Waiter {
  batch: CommitBatch;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Waiter[] = [];
  /** The promises of the batches not yet settled (committed or refused), for `settled`. */
  private readonly pending = new Set<Promise<void>>();
  private inFlight = 0;
  private scheduled = false;
  private idlers: (() => void)[] = [];
  /** Transactions committed and batches in them, for the benchmark and tests. */
  readonly stats = { transactions: 0, batches: 0 };
  /** Told the number of batches in each transaction that committed (metrics); a throw is ignored. */
  onCommitted: (batches: number) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly maxBatches = 512,
    private readonly maxInFlight = 2,
    /**
     * A group this big goes at once, without waiting for the turn to end: the writer commits it
     * while the arrivals still being evaluated in this turn form the next one.
     */
    private readonly eagerBatches = 32,
  ) {}

  commit(batch: CommitBatch): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (this.queue.length >= this.eagerBatches && this.inFlight < this.maxInFlight) this.launch();
      else this.schedule();
    });
    this.pending.add(done);
    const forget = () => this.pending.delete(done);
    done.then(forget, forget);
    return done;
  }

  /**
   * Resolves once every batch sent before the call has settled and its caller has gone on (a
   * turn of the event loop later, so that the decisions they carried are published): a write
   * that goes to the store another way, with a decision minted after theirs, calls this first,
   * so that decisions are published in the order of their ids.
   */
  async settled(): Promise<void> {
    if (this.pending.size === 0) return;
    await Promise.allSettled(this.pending);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** A group is forming, committing, or waiting to be sent. */
  get busy(): boolean {
    return this.scheduled || this.inFlight > 0 || this.queue.length > 0;
  }

  async idle(): Promise<void> {
    while (this.busy) await new Promise<void>((r) => this.idlers.push(r));
  }

  /** Sends the queued arrivals on the next turn, so that those coming together go together. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.launch();
      // An eager group may have emptied the queue and committed meanwhile: then this was the
      // last thing keeping the committer busy.
      this.wakeIfIdle();
    });
  }

  private wakeIfIdle(): void {
    if (!this.busy) for (const r of this.idlers.splice(0)) r();
  }

  private launch(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxBatches);
      this.inFlight++;
      void this.send(group).finally(() => {
        this.inFlight--;
        this.schedule();
        this.wakeIfIdle();
      });
    }
  }

  private async send(group: Waiter[]): Promise<void> {
    try {
      await this.store.commit(group.map((w) => w.batch));
    } catch (e) {
      if (group.length === 1) group[0]!.reject(e);
      else await this.oneByOne(group);
      return;
    }
    // Outside the try: once the group is durable, nothing may send it again.
    this.committed(group.length);
    for (const w of group) w.resolve();
  }

  /** Counts a durable transaction; a throwing `onCommitted` cannot undo or fail the commit. */
  private committed(batches: number): void {
    this.stats.transactions++;
    this.stats.batches += batches;
    try {
      this.onCommitted(batches);
    } catch {
      // A counter that failed: the commit stands, and its callers are told so.
    }
  }

  private async oneByOne(group: Waiter[]): Promise<void> {
    for (const w of group) {
      try {
        await this.store.commit([w.batch]);
      } catch (e) {
        w.reject(e);
        continue;
      }
      this.committed(1);
      w.resolve();
    }
  }
}
