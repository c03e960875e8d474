// Group commit: arrivals that come together commit together, in one transaction, and each
// caller's promise settles only when its own writes are durable. A failing group is retried
// one batch at a time so that one bad arrival fails alone (not when a remote database could not
// be reached: then every batch of the group fails with it).
//
// Up to `maxInFlight` groups are on their way to the store at once: while one commits (on the
// writer thread, waiting for the disk), the arrivals that come meanwhile form the next group
// instead of waiting for it. Groups never share an object (an object's next arrival waits in
// its mailbox for the previous commit), and the store commits them in the order they were sent.

import { isUnreachableDatabase } from "../core/errors.ts";
import type { CommitBatch, Store } from "../core/store.ts";

interface Waiter {
  /** A batch to commit with others, or else `job`. */
  batch: CommitBatch | null;
  /** A write the store makes another way, run alone in the commit order (see `run`). */
  job?: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Waiter[] = [];
  /** A job is running: nothing else is sent until it is done. */
  private exclusive = false;
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
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (this.queue.length >= this.eagerBatches && this.inFlight < this.maxInFlight) this.launch();
      else this.schedule();
    });
  }

  /**
   * Runs `job`, a write the store makes another way (an action's final failure, with its
   * decision), in the commit order: once every batch sent before it is committed and its caller
   * has gone on (published its decision), and before any batch sent after it. A job that
   * publishes a decision does so inside `job`, so that decisions are published in the order of
   * their ids, which a client resuming the event stream after an id relies on.
   */
  run(job: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch: null, job, resolve, reject });
      this.schedule();
    });
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
    while (!this.exclusive && this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.job) {
        // Alone, after the groups before it: the end of the last one launches it.
        if (this.inFlight > 0) return;
        this.queue.shift();
        this.exclusive = true;
        this.inFlight++;
        void this.runJob(head).finally(() => {
          this.exclusive = false;
          this.inFlight--;
          this.schedule();
          this.wakeIfIdle();
        });
        return;
      }
      const job = this.queue.findIndex((w) => w.job !== undefined);
      const group = this.queue.splice(0, job === -1 ? this.maxBatches : Math.min(job, this.maxBatches));
      this.inFlight++;
      void this.send(group).finally(() => {
        this.inFlight--;
        this.schedule();
        this.wakeIfIdle();
      });
    }
  }

  private async runJob(w: Waiter): Promise<void> {
    // A turn of the event loop first: the callers of the groups before it publish their
    // decisions in the microtasks that follow their commits.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      await w.job!();
    } catch (e) {
      w.reject(e);
      return;
    }
    w.resolve();
  }

  private async send(group: Waiter[]): Promise<void> {
    try {
      await this.store.commit(group.map((w) => w.batch!));
    } catch (e) {
      // A remote database not reached: each batch alone would wait as long again, and the group
      // may have been committed with its answer lost (then each alone fails on what it wrote).
      if (group.length === 1 || isUnreachableDatabase(e)) for (const w of group) w.reject(e);
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
        await this.store.commit([w.batch!]);
      } catch (e) {
        w.reject(e);
        continue;
      }
      this.committed(1);
      w.resolve();
    }
  }
}
