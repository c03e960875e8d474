// Reads of cold objects (not in memory), gathered: every id asked for in the same turn of the
// event loop is read in one query, in id order. A burst of timers due for 100,000 cold objects
// then costs a few hundred reads instead of 100,000 (each a read transaction of its own, whose
// page cache the writer's commits keep emptying). A read is asked for from the object's mailbox,
// as the single read was, so what it returns is as current as that read would have been.

import type { ObjectRecord } from "../core/types.ts";

interface Waiter {
  resolve: (object: ObjectRecord | undefined) => void;
  reject: (error: unknown) => void;
}

/** Ids read in one query at most. */
export const COLD_READ_BATCH = 500;

export class ColdReads {
  private pending = new Map<string, Waiter[]>();

  constructor(private readonly read: (ids: readonly string[]) => Promise<ObjectRecord[]>) {}

  /** The object's row, read with the others asked for in this turn; undefined if there is none. */
  get(id: string): Promise<ObjectRecord | undefined> {
    return new Promise((resolve, reject) => {
      let waiting = this.pending.get(id);
      if (!waiting) {
        if (this.pending.size === 0) setImmediate(() => void this.flush());
        this.pending.set(id, (waiting = []));
      }
      waiting.push({ resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()].sort();
    for (let i = 0; i < ids.length; i += COLD_READ_BATCH) {
      const chunk = ids.slice(i, i + COLD_READ_BATCH);
      try {
        const found = new Map((await this.read(chunk)).map((o) => [o.id, o]));
        for (const id of chunk) settle(batch.get(id)!, found.get(id));
      } catch {
        // One row that cannot be read (say, unreadable JSON) must not fail its neighbours: each
        // id is read again alone, and only those whose own read fails are told so.
        await Promise.all(chunk.map((id) => this.alone(id, batch.get(id)!)));
      }
    }
  }

  private async alone(id: string, waiting: Waiter[]): Promise<void> {
    try {
      settle(waiting, (await this.read([id]))[0]);
    } catch (e) {
      for (const w of waiting) w.reject(e);
    }
  }
}

function settle(waiting: Waiter[], object: ObjectRecord | undefined): void {
  for (const w of waiting) w.resolve(object);
}
