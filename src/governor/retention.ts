// History retention, once an hour on the injected clock: fact journal entries older than the
// journal window are folded into one snapshot per object (the memory at that point, and the
// lifecycle its decisions had left, so replay can still start there); decisions older than the
// decision window are deleted, and so are an object's decisions beyond the newest N; and
// idempotency keys older than their time to live. Each step deletes in bounded batches, so a
// large backlog never holds the writer for long.

import type { Clock } from "../core/clock.ts";
import { isAfter, lifecycleAt } from "../core/history.ts";
import { foldJournal } from "../core/journal.ts";
import type { Store } from "../core/store.ts";
import type { Decision } from "../core/types.ts";
import { every } from "../timers/every.ts";

export const RETENTION_INTERVAL_MS = 3_600_000;

/** How long each kind of history is kept; null keeps it forever. */
export interface RetentionPolicy {
  /** Journal entries older than this fold into a snapshot (VIGIL_JOURNAL_RETENTION). */
  journalMs: number | null;
  /** Decisions older than this are deleted (VIGIL_DECISION_RETENTION). */
  decisionsMs: number | null;
  /** At most this many decisions per object are kept (VIGIL_DECISIONS_PER_OBJECT). */
  decisionsPerObject: number | null;
  /** Idempotency keys older than this are forgotten (VIGIL_IDEMPOTENCY_TTL). */
  idempotencyMs: number | null;
}

/** Rows deleted per statement; the loop goes on until a step has nothing left. */
const BATCH = 5_000;
/** Objects looked at per read when finding those over VIGIL_DECISIONS_PER_OBJECT. */
const SCAN_PAGE = 5_000;

export interface RetentionReport {
  compacted: number;
  decisions: number;
  objectsTrimmed: number;
  idempotencyKeys: number;
}

export class Retention {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: RetentionPolicy,
    private readonly onError: (e: Error) => void = () => {},
    /**
     * Runs a task in the object's mailbox (Governor.exclusive), so that folding its journal
     * never races a delete or a new fact for it.
     */
    private readonly exclusive: <T>(objectId: string, task: () => Promise<T>) => Promise<T> = (_, task) => task(),
  ) {}

  start(): void {
    this.stop = every(this.clock, RETENTION_INTERVAL_MS, () => this.runOnce(), this.onError);
  }

  /** Stops the hourly runs (a no-op before start). */
  stop: () => void = () => {};

  async runOnce(): Promise<RetentionReport> {
    const now = this.clock.now();
    const { journalMs, decisionsMs, decisionsPerObject, idempotencyMs } = this.policy;
    // The journal first: its snapshots read the decisions that the next steps may delete.
    const compacted = journalMs === null ? 0 : await this.compactJournals(now - journalMs);
    let decisions = 0;
    if (decisionsMs !== null) decisions += await drain((n) => this.store.pruneDecisions(now - decisionsMs, n));
    let objectsTrimmed = 0;
    if (decisionsPerObject !== null) {
      // A pass over every object, a page at a time, so that no one read blocks for long.
      for (let after: string | null = null; ;) {
        const page = await this.store.objectsOverDecisionLimit(decisionsPerObject, after, SCAN_PAGE);
        for (const id of page.over) decisions += await this.store.pruneObjectDecisions(id, decisionsPerObject);
        objectsTrimmed += page.over.length;
        if (page.next === null) break;
        after = page.next;
      }
    }
    const idempotencyKeys =
      idempotencyMs === null ? 0 : await drain((n) => this.store.pruneIdempotency(now - idempotencyMs, n));
    return { compacted, decisions, objectsTrimmed, idempotencyKeys };
  }

  /** Folds every object's entries older than `cutoff` into a snapshot; returns how many objects. */
  private async compactJournals(cutoff: number): Promise<number> {
    const targets = await this.store.compactableJournal(cutoff);
    let compacted = 0;
    for (const { objectId, seq } of targets)
      if (await this.exclusive(objectId, () => this.compactOne(objectId, seq))) compacted++;
    return compacted;
  }

  /** Folds one object's entries up to `seq`, unless the object is gone (deleted meanwhile). */
  private async compactOne(objectId: string, seq: number): Promise<boolean> {
    if (!(await this.store.getObject(objectId))) return false;
    const entries = (await this.store.journal(objectId, -1, Number.MAX_SAFE_INTEGER)).filter((e) => e.seq <= seq);
    const last = entries[entries.length - 1];
    if (!last) return false;
    // Decisions before an earlier snapshot may be gone: its lifecycle is the starting point.
    const previous = entries.find((e) => e.kind === "snapshot" && e.seed);
    let decisions = await this.decisionsUntil(objectId, last.at);
    if (previous) decisions = decisions.filter((d) => isAfter(d, previous.at, previous.seq));
    await this.store.compactJournal(objectId, seq, {
      seq,
      patch: foldJournal(entries),
      at: last.at,
      kind: "snapshot",
      seed: lifecycleAt(decisions, last.at, seq, previous?.seed),
    });
    return true;
  }

  /** The object's decisions taken at or before `until`, oldest first. */
  private async decisionsUntil(objectId: string, until: number): Promise<Decision[]> {
    const newestFirst: Decision[] = [];
    for (let before: string | undefined; ;) {
      const page = await this.store.listDecisions(objectId, 500, before);
      newestFirst.push(...page.filter((d) => d.at <= until));
      if (page.length < 500) break;
      before = page[page.length - 1]!.id;
    }
    return newestFirst.reverse();
  }
}

/** Runs a bounded delete until it deletes less than a full batch; returns the total. */
async function drain(step: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step(BATCH);
    total += n;
    if (n < BATCH) return total;
  }
}
