// The hot object table: every object's record in memory, the database as the durable truth.
// Each object has a mailbox (one task at a time per object), and every change reaches the
// table the same way: commit (grouped with other objects' changes), then update the hot copy,
// then tell the scheduler about the timers it set. Nothing is visible before it is durable.

import { KeyedQueue } from "../core/keyed-queue.ts";
import type { ActionUpdate, CommitBatch, Store } from "../core/store.ts";
import type { ObjectRecord } from "../core/types.ts";
import { GroupCommitter } from "./group-commit.ts";

export class ObjectTable {
  private readonly hot = new Map<string, ObjectRecord>();
  private readonly mailboxes = new KeyedQueue();
  private readonly committer: GroupCommitter;

  constructor(
    private readonly store: Store,
    /** Told the due time of every timer a commit set. */
    private readonly timerSet: (dueAt: number) => void,
  ) {
    this.committer = new GroupCommitter(store);
  }

  /** Reads every object into memory (at start). */
  async load(): Promise<void> {
    for (const o of await this.store.loadObjects()) this.hot.set(o.id, o);
  }

  get(id: string): ObjectRecord | undefined {
    return this.hot.get(id);
  }

  ids(): string[] {
    return [...this.hot.keys()];
  }

  values(): IterableIterator<ObjectRecord> {
    return this.hot.values();
  }

  /** Runs `task` in the object's mailbox, after every task already queued for it. */
  run<T>(id: string, task: () => Promise<T>): Promise<T> {
    return this.mailboxes.run(id, task);
  }

  /** Commits one change (grouped with others), then makes it the hot copy. Call in the mailbox. */
  async commit(batch: CommitBatch): Promise<void> {
    await this.committer.commit(batch);
    this.hot.set(batch.object.id, batch.object);
    for (const op of batch.timerOps) if (op.op === "set") this.timerSet(op.dueAt!);
  }

  /** Commits an outbox row's change and, with it, the object's (confirmations, failures). */
  async commitAction(update: ActionUpdate): Promise<void> {
    await this.store.updateAction(update);
    if (update.object) this.hot.set(update.object.id, update.object);
  }

  /** Deletes the object and its history from the store and the table. Call in the mailbox. */
  async delete(id: string): Promise<boolean> {
    const deleted = await this.store.deleteObject(id);
    this.hot.delete(id);
    return deleted;
  }

  /** Mailboxes with work queued or running. */
  get busy(): number {
    return this.mailboxes.busy;
  }

  get committing(): boolean {
    return this.committer.busy;
  }

  get commitStats() {
    return this.committer.stats;
  }

  /** Resolves when every mailbox is empty and no commit is in progress. */
  async idle(): Promise<void> {
    await this.mailboxes.idle();
    await this.committer.idle();
  }
}
