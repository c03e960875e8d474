// Group commit: arrivals that come together commit together, in one transaction, and each
// caller's promise settles only when its own writes are durable. A failing group is retried
// one batch at a time so that one bad arrival fails alone.

import type { CommitBatch, Store } from "../core/store.ts";

interface Waiter {
  batch: CommitBatch;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Waiter[] = [];
  private running: Promise<void> | null = null;
  /** Transactions committed and batches in them, for the benchmark and tests. */
  readonly stats = { transactions: 0, batches: 0 };

  constructor(
    private readonly store: Store,
    private readonly maxBatches = 512,
  ) {}

  commit(batch: CommitBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.running ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  get busy(): boolean {
    return this.running !== null;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxBatches);
        try {
          await this.store.commit(group.map((w) => w.batch));
          this.stats.transactions++;
          this.stats.batches += group.length;
          for (const w of group) w.resolve();
        } catch (e) {
          if (group.length === 1) group[0]!.reject(e);
          else await this.oneByOne(group);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async oneByOne(group: Waiter[]): Promise<void> {
    for (const w of group) {
      try {
        await this.store.commit([w.batch]);
        this.stats.transactions++;
        this.stats.batches++;
        w.resolve();
      } catch (e) {
        w.reject(e);
      }
    }
  }
}
