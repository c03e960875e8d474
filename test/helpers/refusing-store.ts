// A memory store whose commits fail ("disk full") while `refuse` says so of one of their batches:
// the governor's side of a database that refuses a write.

import type { CommitBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";

export class RefusingStore extends MemoryStore {
  refuse: ((batch: CommitBatch) => boolean) | null = null;

  override async commit(batches: CommitBatch[]): Promise<void> {
    if (this.refuse && batches.some(this.refuse)) throw new Error("disk full");
    return super.commit(batches);
  }
}
