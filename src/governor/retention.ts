// History retention, once an hour on the injected clock (the hour counted from the last run that
// finished on the database, see start()): fact journal entries older than the
// journal window are folded into one snapshot per object (the memory at that point, and the
// lifecycle its decisions had left, so replay can still start there); decisions older than the
// decision window are deleted, and so are an object's decisions beyond the newest N; and
// idempotency keys older than their time to live. Each step deletes in bounded batches, so a
// large backlog never holds the writer for long.
//
// A snapshot's lifecycle is the one before it plus the decisions since, so no decision after
// the snapshot may go before its effect is kept: before decisions are pruned, the snapshot moves
// up to the newest of them (folding the journal entries up to the memory that decision saw).

import type { Clock } from "../core/clock.ts";
import { nextTurn } from "../core/concurrency.ts";
import { LeaseLost } from "../core/errors.ts";
import { isAfter, lifecycleAfter, lifecycleAt } from "../core/history.ts";
import { decisionIdAt, idTime } from "../core/id-times.ts";
import { foldJournal, type JournalEntry } from "../core/journal.ts";
import type { Store } from "../core/store.ts";
import type { Decision } from "../core/types.ts";
import { every } from "../timers/every.ts";

export const RETENTION_INTERVAL_MS = 3_600_000;
/** The first run is this long after start at the earliest. */
export const RETENTION_START_DELAY_MS = 300_000;
/**
 * How far ahead of its decision's time an id may be, at most: a driver call between the two,
 * and a server continuing after ids of a server whose clock was ahead (ids.ts MAX_LEAD_MS).
 */
const MINT_SLACK_MS = 3_600_000;

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
/** Journal entries folded into a snapshot at a time, at most. */
export const FOLD_CHUNK = 5_000;

export interface RetentionReport {
  compacted: number;
  decisions: number;
  /** Objects that had decisions deleted by count (VIGIL_DECISIONS_PER_OBJECT). */
  objectsTrimmed: number;
  /** Actions done whose decision went before (besides those that went with it). */
  actions: number;
  idempotencyKeys: number;
}

/** A run told to stop (Retention.stop) leaves the object it is at. */
class Stopped extends Error {}

export class Retention {
  /** Set by stop(): a run under way touches no further object, nor deletes any further batch. */
  private stopping = false;

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

  /**
   * Runs retention an hour after the last run that finished on this database (recorded in it),
   * but not before {@link RETENTION_START_DELAY_MS} after start (start-up's own load comes first),
   * and then an hour after each run ended. It ran first an hour after start: a server restarted
   * more often than that (a crash loop, frequent deploys) never pruned.
   */
  start(): void {
    this.stopping = false;
    let wait = RETENTION_START_DELAY_MS;
    let first = true;
    const run = async () => {
      wait = RETENTION_INTERVAL_MS;
      if (first) {
        first = false;
        // Unread (the database failing): the run is due, and tells what fails.
        const last = await this.store.retentionRanAt().catch(() => null);
        // A mark ahead of this clock (another server's, whose clock was ahead) waits an hour at most.
        const left =
          last === null ? 0 : Math.min(last + RETENTION_INTERVAL_MS - this.clock.now(), RETENTION_INTERVAL_MS);
        if (left > 0) return void (wait = left);
      }
      await this.runOnce();
      // A run stopped half-way is not marked: the next server's first run does the rest.
      if (!this.stopping) await this.store.markRetentionRun(this.clock.now());
    };
    const stop = every(this.clock, () => wait, run, this.onError);
    this.stop = () => {
      this.stopping = true;
      return stop();
    };
  }

  /**
   * Stops the hourly runs, and resolves once a run under way has finished (at once before start):
   * it is told to stop, so only the work on the object it is at (to the end of a fold's chunk) is
   * waited for. A shutdown during a run over a large backlog waited for all of it.
   */
  stop: () => Promise<void> = () => Promise.resolve();

  async runOnce(): Promise<RetentionReport> {
    const now = this.clock.now();
    const { journalMs, decisionsMs, decisionsPerObject, idempotencyMs } = this.policy;
    // An object whose write is refused is passed over (its history waits for the next run), so
    // that it holds up no other object's; the run then ends with one error naming them. Once the
    // lease is lost no write will pass: the run stops there. Each object's work is followed by a
    // turn of the event loop (the store's reads never give one): a pass over a million objects
    // holds neither the requests nor the lease's renewal.
    const refused = { objects: new Set<string>(), first: null as Error | null };
    const own = async <T>(objectId: string, task: () => Promise<T>, otherwise: T): Promise<T> => {
      if (this.stopping) return otherwise;
      try {
        return await this.exclusive(objectId, task);
      } catch (e) {
        if (e instanceof LeaseLost) throw e;
        // Stopped inside its fold: the object keeps what the fold has not taken in yet.
        if (e instanceof Stopped) return otherwise;
        refused.objects.add(objectId);
        refused.first ??= e as Error;
        return otherwise;
      } finally {
        await nextTurn();
      }
    };
    // The journal first: its snapshots read the decisions that the next steps may delete.
    const compacted = journalMs === null ? 0 : await this.compactJournals(now - journalMs, own);
    // Without journal retention there are no snapshots: replay starts at the creation.
    const folding = journalMs !== null;
    let decisions = 0;
    if (decisionsMs !== null)
      for (let after: string | undefined; !this.stopping;) {
        const batch = await this.store.oldDecisions(now - decisionsMs, BATCH, after);
        // Oldest first: the last one of each object is the newest of its that goes.
        const newest = new Map(batch.map((d) => [d.objectId, d.id]));
        const kept = new Set<string>();
        if (folding)
          for (const [objectId, id] of newest)
            if (!(await own(objectId, () => this.foldThrough(objectId, id).then(() => true), false)))
              kept.add(objectId);
        const going = batch.filter((d) => !kept.has(d.objectId));
        try {
          decisions += await this.store.deleteDecisions(going.map((d) => d.id));
        } catch {
          // One object's refused row takes the whole batch back: each object's on its own.
          for (const objectId of newest.keys())
            if (!kept.has(objectId)) {
              const its = going.filter((d) => d.objectId === objectId).map((d) => d.id);
              decisions += await own(objectId, () => this.store.deleteDecisions(its), 0);
            }
        }
        if (batch.length < BATCH) break;
        after = batch[batch.length - 1]!.id;
      }
    let objectsTrimmed = 0;
    if (decisionsPerObject !== null) {
      // A pass over every object, a page at a time, so that no one read blocks for long.
      for (let after: string | null = null; !this.stopping;) {
        const page = await this.store.objectsOverDecisionLimit(decisionsPerObject, after, SCAN_PAGE);
        for (const id of page.over) {
          const trimmed = await own(
            id,
            async () => {
              const newest = folding ? await this.store.decisionBeyond(id, decisionsPerObject) : null;
              if (newest !== null) await this.foldThrough(id, newest);
              return this.store.pruneObjectDecisions(id, decisionsPerObject);
            },
            0,
          );
          decisions += trimmed;
          // Those it trimmed: not one passed over (refused, or the run stopped), nor one with none beyond.
          if (trimmed > 0) objectsTrimmed++;
        }
        if (page.next === null) break;
        after = page.next;
        await nextTurn();
      }
    }
    const drain = async (step: (limit: number) => Promise<number>): Promise<number> => {
      let total = 0;
      while (!this.stopping) {
        const n = await step(BATCH);
        total += n;
        if (n < BATCH) break;
      }
      return total;
    };
    // Actions done whose decision is gone: one still pending when its decision went (by age or by
    // count), and any an older version left. By age, those older than the window (a short range
    // of the key, the rest went with their decisions); by count alone, a pass over every action.
    let actions = 0;
    if (decisionsMs !== null || decisionsPerObject !== null)
      for (let after: string | null = null; !this.stopping;) {
        const page = await this.store.pruneActions(decisionsMs === null ? now : now - decisionsMs, after, SCAN_PAGE);
        actions += page.deleted;
        if (page.next === null) break;
        after = page.next;
        await nextTurn();
      }
    const idempotencyKeys =
      idempotencyMs === null ? 0 : await drain((n) => this.store.pruneIdempotency(now - idempotencyMs, n));
    if (refused.first) {
      const objects = [...refused.objects];
      this.onError(
        new Error(
          `retention passed over ${objects.length} object(s) whose history could not be written (${objects.slice(0, 5).join(", ")}${objects.length > 5 ? ", ..." : ""}): ${refused.first.message}`,
        ),
      );
    }
    return { compacted, decisions, objectsTrimmed, actions, idempotencyKeys };
  }

  /** Folds every object's entries older than `cutoff` into a snapshot; returns how many objects. */
  private async compactJournals(
    cutoff: number,
    own: <T>(objectId: string, task: () => Promise<T>, otherwise: T) => Promise<T>,
  ): Promise<number> {
    let compacted = 0;
    // A page of objects at a time, and the journal within it, so that no one read (nor its answer)
    // is as large as the database.
    for (let after: string | null = null; !this.stopping;) {
      const page = await this.store.compactableJournal(cutoff, after, SCAN_PAGE);
      for (const { objectId, seq } of page.targets)
        if (await own(objectId, () => this.compactOne(objectId, seq, cutoff), false)) compacted++;
      if (page.next === null) return compacted;
      after = page.next;
      await nextTurn();
    }
    return compacted;
  }

  /**
   * Folds one object's entries up to `seq`, unless the object is gone, or was deleted and
   * created again since `seq` was read (its journal is young then).
   */
  private async compactOne(objectId: string, seq: number, cutoff: number): Promise<boolean> {
    if (!(await this.store.getObject(objectId))) return false;
    const entries = await this.entriesThrough(objectId, seq, cutoff);
    const last = entries[entries.length - 1];
    if (!last || last.seq !== seq || last.at >= cutoff) return false;
    await this.snapshotAt(objectId, entries, last);
    return true;
  }

  /** Folds `entries` (the journal from its head) into a snapshot at `last`, with the lifecycle then. */
  private async snapshotAt(objectId: string, entries: readonly JournalEntry[], last: JournalEntry): Promise<void> {
    const previous = snapshotOf(entries);
    // Read from just after `last.at` (with room for an id minted a while after its time).
    const from = decisionIdAt(last.at + MINT_SLACK_MS);
    const decisions = await this.decisionsSince(objectId, previous, (d) => d.at <= last.at, from);
    await this.store.compactJournal(objectId, last.seq, {
      seq: last.seq,
      patch: foldJournal(entries),
      at: last.at,
      kind: "snapshot",
      seed: lifecycleAt(decisions, last.at, last.seq, previous?.seed),
    });
  }

  /**
   * Moves the object's snapshot up to decision `id` before it is pruned: the memory that
   * decision saw, at its time, with the lifecycle it left. Nothing to do when the snapshot is
   * there already, or the object or the decision is gone.
   */
  private async foldThrough(objectId: string, id: string): Promise<void> {
    const [through, object] = [await this.store.getDecision(id), await this.store.getObject(objectId)];
    // An object deleted meanwhile took its decisions with it; one re-created since is another.
    if (!through || !object || through.objectId !== objectId || through.at < object.createdAt) return;
    const entries = await this.entriesThrough(objectId, through.memoryVersion);
    const last = entries[entries.length - 1];
    if (!last) return;
    const previous = snapshotOf(entries);
    if (previous && !isAfter(through, previous.at, previous.seq)) return;
    // The snapshot will count the decisions of its instant that are not after it as in it
    // (history.ts isAfter), kept ones too: its lifecycle takes them in.
    const sameInstant = (await this.store.decisionsAfter(objectId, 500, id)).filter(
      (d) => d.at === through.at && !isAfter(d, through.at, through.memoryVersion),
    );
    const decisions = [...(await this.decisionsSince(objectId, previous, () => true, id)), through, ...sameInstant];
    const seed = lifecycleAfter(decisions, through.at, previous?.seed);
    // Decisions that left the lifecycle as it was (a creation that woke nothing, say), with no
    // fact since the snapshot, need not be kept: no later snapshot can fall among them, so the
    // snapshot stays, and a million such objects cost no write.
    const unchanged = JSON.stringify(seed) === JSON.stringify(lifecycleAfter([], through.at, previous?.seed));
    if (previous && previous.seq === through.memoryVersion && unchanged) return;
    await this.store.compactJournal(objectId, last.seq, {
      seq: last.seq,
      patch: foldJournal(entries),
      at: through.at,
      kind: "snapshot",
      seed,
    });
  }

  /**
   * The object's journal entries from its head (a snapshot, if any) up to memory version `seq`,
   * oldest first (seqs run on by one), and none after: the entries newer than a cutoff can be as
   * many as those before it. While more than {@link FOLD_CHUNK} lie before `seq`, the head is
   * first folded forward by that many: a backlog of a million entries (journal retention turned
   * on or made shorter) is folded a chunk at a time, never read whole into memory, each step a
   * snapshot as a run with an earlier cutoff would have made. Never past an entry as new as
   * `cutoff` (none then): an object deleted and created again since its targets were read has a
   * young journal.
   */
  private async entriesThrough(objectId: string, seq: number, cutoff = Infinity): Promise<JournalEntry[]> {
    for (;;) {
      const [head] = await this.store.journal(objectId, -1, 1);
      if (!head || head.seq > seq) return [];
      if (head.seq === seq) return [head];
      if (seq - head.seq <= FOLD_CHUNK)
        return (await this.store.journal(objectId, -1, seq - head.seq + 1)).filter((e) => e.seq <= seq);
      const chunk = await this.store.journal(objectId, -1, FOLD_CHUNK);
      const last = chunk[chunk.length - 1];
      if (chunk.length < FOLD_CHUNK || !last || last.at >= cutoff) return [];
      await this.snapshotAt(objectId, chunk, last);
      await nextTurn();
      if (this.stopping) throw new Stopped();
    }
  }

  /**
   * The object's decisions that `within` takes, before decision id `from` (or from the newest)
   * and after the snapshot `previous` (decisions before an earlier snapshot may be gone: its
   * lifecycle is the starting point), oldest first.
   */
  private async decisionsSince(
    objectId: string,
    previous: JournalEntry | undefined,
    within: (d: Decision) => boolean,
    from?: string,
  ): Promise<Decision[]> {
    const newestFirst: Decision[] = [];
    for (let before = from; ;) {
      const page = await this.store.listDecisions(objectId, 500, before);
      for (const d of page) {
        // Minted before the snapshot's time: so are the rest, and taken before it too.
        const minted = idTime(d.id);
        if (previous && minted !== null && minted < previous.at) return newestFirst.reverse();
        if (within(d) && (!previous || isAfter(d, previous.at, previous.seq))) newestFirst.push(d);
      }
      if (page.length < 500) return newestFirst.reverse();
      before = page[page.length - 1]!.id;
      await nextTurn();
    }
  }
}

/** The snapshot (with its lifecycle) at the head of a journal, if retention left one. */
const snapshotOf = (entries: readonly JournalEntry[]) => entries.find((e) => e.kind === "snapshot" && e.seed);
