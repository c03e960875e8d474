// Fact journal retention: entries older than the retention window are folded into one
// snapshot per object (the memory at that point), so replay can still start from there.
// Runs once an hour on the injected clock.

import type { Clock } from "../core/clock.ts";
import { foldJournal } from "../core/journal.ts";
import type { Store } from "../core/store.ts";
import { every } from "../timers/every.ts";

export const RETENTION_INTERVAL_MS = 3_600_000;

export class JournalRetention {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** How long entries are kept whole; null keeps them forever. */
    private readonly retentionMs: number | null,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    if (this.retentionMs === null) return;
    this.stop = every(this.clock, RETENTION_INTERVAL_MS, () => this.runOnce(), this.onError);
  }

  /** Stops the hourly runs (a no-op before start). */
  stop: () => void = () => {};

  /** Compacts every object's entries older than the window; returns how many objects. */
  async runOnce(): Promise<number> {
    if (this.retentionMs === null) return 0;
    const cutoff = this.clock.now() - this.retentionMs;
    const targets = await this.store.compactableJournal(cutoff);
    for (const { objectId, seq } of targets) {
      const entries = (await this.store.journal(objectId, -1, Number.MAX_SAFE_INTEGER)).filter((e) => e.seq <= seq);
      const last = entries[entries.length - 1];
      if (!last) continue;
      await this.store.compactJournal(objectId, seq, {
        seq,
        patch: foldJournal(entries),
        at: last.at,
        kind: "snapshot",
      });
    }
    return targets.length;
  }
}
