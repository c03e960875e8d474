// The hot object table: a bounded set of object records in memory, the database as the durable
// truth. Objects that are not dormant stay in memory (they are the ones timers, actions and
// facts keep coming for); dormant ones stay only while recently used, up to a capacity, and
// any other object is read from the store when something arrives for it.
//
// Each object has a mailbox (one task at a time per object), and every change reaches the
// table the same way: commit (grouped with other objects' changes), then update the hot copy,
// then tell the scheduler about the timers it set. Nothing is visible before it is durable.
//
// The file is past 400 lines because what it keeps per object (the hot copies, the doubtful
// ones, the closed actions, the unfinished deletions) is read and changed together, in one place.

import { BoundedMap } from "../core/bounded-map.ts";
import { DeletionUnfinished, isUnreachableDatabase, overloaded } from "../core/errors.ts";
import { KeyedQueue } from "../core/keyed-queue.ts";
import { emptyBatch, type ActionRecord, type ActionUpdate, type CommitBatch, type Store } from "../core/store.ts";
import { applyTimerOps } from "../core/timers.ts";
import type { Decision, ObjectRecord, TimerOp } from "../core/types.ts";
import { ColdReads } from "./cold-reads.ts";
import { GroupCommitter } from "./group-commit.ts";

/** Told what the table commits (the governor's census and metrics); none of these may throw. */
export interface TableObserver {
  /** A group commit's transaction is durable, with `batches` arrivals in it. */
  committed?(batches: number): void;
  /**
   * An object's committed record replaced `before`: its hot copy, or the record its mailbox
   * task took; undefined for a new object, or a change made without taking it first (none is
   * today). `decision` is the one stored with it.
   */
  replaced?(before: ObjectRecord | undefined, after: ObjectRecord, decision: Decision | null): void;
  /** An object was deleted; `before` as in `replaced`. */
  deleted?(before: ObjectRecord | undefined): void;
  /** A reread found the object's row gone: a deletion whose answer was lost (after `deleted`). */
  deletionFound?(id: string): void;
  /**
   * A doubtful object was read again (in its mailbox): `pending`, its outbox rows the store has
   * pending (none when its row is gone), are what its actions are now, whatever was queued.
   * Returns the action whose answer is being recorded (claimed, in flight), if one is.
   */
  outbox?(id: string, pending: ActionRecord[]): string | null;
  /**
   * A decision whose write's answer was lost, found stored when its object was read again: it
   * was recorded after all, though no one was told (its request had a 503).
   */
  found?(decision: Decision): void;
  /** An action a lost write closed (confirmed, failed, superseded), found so at a reread. */
  closed?(update: ActionChange): void;
}

/** An action's row as it is written, with the object's change and the decision it carries. */
export type ActionChange = ActionRecord & Pick<ActionUpdate, "object" | "decision">;

/** How many dormant objects stay in memory by default (VIGIL_HOT_OBJECTS). */
export const DEFAULT_HOT_OBJECTS = 100_000;
/** How many tasks may wait in one object's mailbox by default (VIGIL_MAILBOX_LIMIT). */
export const DEFAULT_MAILBOX_LIMIT = 1_000;

export class ObjectTable {
  /** Objects that are not dormant: always in memory. */
  private readonly awake = new Map<string, ObjectRecord>();
  /** Dormant objects, the most recently used up to the capacity. */
  private readonly dormant: BoundedMap<string, ObjectRecord>;
  private readonly mailboxes = new KeyedQueue();
  private readonly committer: GroupCommitter;
  private readonly coldReads: ColdReads;

  constructor(
    private readonly store: Store,
    /** Told the due time of every timer a commit set. */
    private readonly timerSet: (dueAt: number) => void,
    /** How many dormant objects to keep in memory. */
    capacity = DEFAULT_HOT_OBJECTS,
    /** How many tasks may wait in one object's mailbox before clients are refused. */
    private readonly mailboxLimit = DEFAULT_MAILBOX_LIMIT,
    private readonly observer: TableObserver = {},
  ) {
    this.dormant = new BoundedMap(capacity);
    this.committer = new GroupCommitter(store);
    this.coldReads = new ColdReads((ids) => store.getObjects(ids));
    if (observer.committed) this.committer.onCommitted = observer.committed;
  }

  /**
   * What `take` gave each task still running in its object's mailbox, updated by its commits:
   * the record a change replaces when the object is not held in memory (a hot set of 0, or its
   * dormant copy dropped meanwhile), so that the observer still learns where it was.
   */
  private readonly taken = new Map<string, ObjectRecord>();

  /**
   * Objects whose last write failed on the way to a remote database (isUnreachableDatabase): it
   * may have been committed with its answer lost, so their hot copy may be behind their row. Their
   * next `take` (and `load`) reads the row again; reusing the old copy would write over it (its
   * next journal entry's seq is taken already: every later arrival would fail).
   */
  private readonly doubtful = new Map<
    string,
    { known: ObjectRecord | undefined; creation: Decision | null; decisions: Decision[]; closing: ActionChange[] }
  >();

  /**
   * Per object, the action a lost write closed (confirmed, or failed for good) whose answer the
   * dispatcher was still recording when a reread found it no longer pending (its `current`): the
   * answer was recorded already (`recorded` takes it), and writing it again would overwrite it
   * (as superseded, taking it for one a rebind detached). A retry still queued is dropped by the
   * reread instead (the dispatcher's resync), so nothing is kept for it.
   */
  private readonly closed = new Map<string, string>();

  /**
   * Clients' requests queued or running per object (absent: none), which VIGIL_MAILBOX_LIMIT
   * bounds: the server's own work in the same mailbox (timers, confirmations) is not counted.
   */
  private readonly requests = new Map<string, number>();

  /** Objects whose deletion began and did not finish: gone for every request until it does. */
  private readonly unfinished = new Set<string>();

  /**
   * After a write of the object failed with `e`: when it may have been committed, the object is
   * doubtful (true), and what the observer knows of it is kept for the re-read to tell it from:
   * the record it had, and the decision of a creation (an object it does not count yet); with
   * them, the decisions and the action closings the lost writes carried, to be told if stored.
   */
  private doubt(id: string, e: unknown, decision: Decision | null = null, action?: ActionChange): boolean {
    if (!isUnreachableDatabase(e)) return false;
    let doubt = this.doubtful.get(id);
    if (!doubt) {
      const creation = decision?.trigger.kind === "create" ? decision : null;
      doubt = { known: this.peek(id) ?? this.taken.get(id), creation, decisions: [], closing: [] };
      this.doubtful.set(id, doubt);
    }
    if (decision) doubt.decisions.push(decision);
    if (action && action.status !== "pending") doubt.closing.push(action);
    return true;
  }

  /**
   * Runs `write` of the object (storing `decision`, if any); a failure that may have been
   * committed makes it doubtful.
   */
  private async doubting<T>(
    id: string,
    write: () => Promise<T>,
    decision: Decision | null = null,
    action?: ActionChange,
  ): Promise<T> {
    try {
      return await write();
    } catch (e) {
      this.doubt(id, e, decision, action);
      throw e;
    }
  }

  /** Whether a task is queued or running in the object's mailbox (its hot copy may be about to change). */
  working(id: string): boolean {
    return this.mailboxes.depth(id) > 0;
  }

  /** The object's hot copy, if it is in memory; reads nothing. */
  peek(id: string): ObjectRecord | undefined {
    return this.awake.get(id) ?? this.dormant.get(id);
  }

  /**
   * What a listing filtered by state and policy shows for one of its rows: the hot copy, unless
   * that no longer matches the filter. Either can be the newer: a row read before a commit lags
   * its hot copy, and a commit is durable (so a read sees it) a moment before its hot copy is
   * replaced. Every item of a listing then matches its filter. Undefined for an object whose
   * deletion did not finish (it is gone for every request).
   */
  listed(
    row: ObjectRecord,
    filter: { state?: string | undefined; policy?: string | undefined },
  ): ObjectRecord | undefined {
    if (this.unfinished.has(row.id)) return undefined;
    // A doubtful object's hot copy may be behind its row (its last write's answer was lost).
    const hot = this.doubtful.has(row.id) ? undefined : this.peek(row.id);
    if (hot === undefined) return row;
    // An empty filter is none, as the stores read it.
    if (filter.state && hot.state !== filter.state) return row;
    if (filter.policy && hot.policy !== filter.policy) return row;
    return hot;
  }

  /** The object: its hot copy, or else its row, read without bringing it into memory. */
  async load(id: string): Promise<ObjectRecord | undefined> {
    if (this.unfinished.has(id)) return undefined;
    const hot = this.doubtful.has(id) ? undefined : this.peek(id);
    return hot ?? (await this.store.getObject(id)) ?? undefined;
  }

  /**
   * The object, brought into memory to be worked on (call in its mailbox): its hot copy,
   * marked recently used, or its row read once from the store (together with the other cold
   * objects asked for in the same turn).
   */
  async take(id: string): Promise<ObjectRecord | undefined> {
    if (this.unfinished.has(id)) return undefined;
    if (this.doubtful.has(id)) return this.reread(id);
    const hot = this.peek(id);
    if (hot) {
      this.keep(hot);
      this.taken.set(id, hot);
      return hot;
    }
    const row = await this.coldReads.get(id);
    if (!row) return undefined;
    // A task queued behind another may find the object already brought in.
    const found = this.peek(id) ?? row;
    this.keep(found);
    this.taken.set(id, found);
    return found;
  }

  /**
   * A doubtful object's row, read again and made its hot copy (the observer told of the change
   * and of its pending actions, the scheduler of its timers); undefined, and forgotten, if the
   * row is gone (a deletion that went through). It stays doubtful while a read fails.
   */
  private async reread(id: string): Promise<ObjectRecord | undefined> {
    const row = await this.coldReads.get(id);
    const pending = row && this.observer.outbox ? await this.store.pendingActions(id) : [];
    const { known, creation, decisions, closing } = this.doubtful.get(id)!;
    const found = this.observer.found ? await this.stored(decisions) : [];
    const open = new Set(pending.map((a) => a.id));
    const closed = row && this.observer.outbox ? closing.filter((a) => !open.has(a.id)) : [];
    this.doubtful.delete(id);
    this.awake.delete(id);
    this.dormant.delete(id);
    const recording = this.observer.outbox?.(id, pending);
    if (recording && closed.some((a) => a.id === recording)) this.closed.set(id, recording);
    if (!row) {
      if (known) {
        this.observer.deleted?.(known);
        this.observer.deletionFound?.(id);
      }
      return undefined;
    }
    this.observer.replaced?.(known, row, known ? null : creation);
    // Told as the lost write would have told them: each action it closed, then its decisions.
    for (const a of closed) this.observer.closed?.(a);
    for (const d of found) this.observer.found!(d);
    this.keep(row);
    this.taken.set(id, row);
    for (const t of row.timers) this.timerSet(t.dueAt);
    return row;
  }

  /** Whether a lost write recorded the action's answer, as a reread found (asked once). */
  recorded(objectId: string, actionId: string): boolean {
    if (this.closed.get(objectId) !== actionId) return false;
    this.closed.delete(objectId);
    return true;
  }

  /** Those of `decisions` that are stored, in their order. */
  private async stored(decisions: Decision[]): Promise<Decision[]> {
    const found: Decision[] = [];
    for (const d of decisions) if (await this.store.getDecision(d.id)) found.push(d);
    return found;
  }

  /**
   * Reads every doubtful object's row again, each in its mailbox: what its lost write recorded
   * (a start, say) is sent, and its decisions told, without waiting for its next request. One
   * whose read fails stays doubtful, for the next call.
   */
  async settleDoubts(): Promise<void> {
    await Promise.all([...this.doubtful.keys()].map((id) => this.run(id, async () => {})));
  }

  /** Objects in memory, awake and dormant. */
  get size(): { awake: number; dormant: number } {
    return { awake: this.awake.size, dormant: this.dormant.size };
  }

  /** Runs `task` in the object's mailbox, after every task already queued for it. */
  run<T>(id: string, task: () => Promise<T>): Promise<T> {
    return this.mailboxes.run(id, () => this.forgetting(id, task));
  }

  /**
   * Runs a mailbox task; what it took is forgotten when it ends. A doubtful object is read again
   * first, whatever the task (a dispatcher's claim takes nothing, and would send an action the
   * lost write superseded); should that read fail, the task's own `take` tries again.
   */
  private async forgetting<T>(id: string, task: () => Promise<T>): Promise<T> {
    try {
      if (this.doubtful.has(id)) await this.reread(id).catch(() => undefined);
      return await task();
    } finally {
      this.taken.delete(id);
    }
  }

  /**
   * Runs a client's `task` in the object's mailbox, unless `mailboxLimit` clients' requests already
   * wait there: then a 429, and nothing is queued. The server's own work (timers, confirmations,
   * observations) is never refused, nor counted: it goes through {@link run}.
   */
  admit<T>(id: string, task: () => Promise<T>): Promise<T> {
    const waiting = this.requests.get(id) ?? 0;
    if (waiting >= this.mailboxLimit)
      return Promise.reject(
        overloaded(
          `object "${id}" already has ${this.mailboxLimit} requests waiting (VIGIL_MAILBOX_LIMIT); retry after a moment`,
        ),
      );
    this.requests.set(id, waiting + 1);
    const done = () => {
      const left = this.requests.get(id)! - 1;
      if (left === 0) this.requests.delete(id);
      else this.requests.set(id, left);
    };
    const result = this.mailboxes.run(id, () => this.forgetting(id, task));
    void result.then(done, done);
    return result;
  }

  /** Commits one change (grouped with others), then makes it the hot copy. Call in the mailbox. */
  async commit(batch: CommitBatch): Promise<void> {
    const before = this.peek(batch.object.id);
    const o = batch.object;
    const same =
      before !== undefined &&
      before.state === o.state &&
      before.policy === o.policy &&
      before.substrate.driver === o.substrate.driver;
    try {
      await this.committer.commit(same ? { ...batch, keysUnchanged: true } : batch);
    } catch (e) {
      // It may have been committed: the timers it set are armed (one that is not in the database
      // finds nothing due), or none would fire before the object's next request.
      if (this.doubt(o.id, e, batch.decision))
        for (const op of batch.timerOps) if (op.op === "set") this.timerSet(op.dueAt!);
      throw e;
    }
    this.replaced(batch.object, batch.decision);
    this.keep(batch.object);
    for (const op of batch.timerOps) if (op.op === "set") this.timerSet(op.dueAt!);
  }

  /**
   * Commits timer operations alone (no decision, no journal entry: arming, a timer used up or put
   * off); returns the object with its timers as the operations leave them. Call in the mailbox.
   */
  async commitTimers(object: ObjectRecord, ops: TimerOp[]): Promise<ObjectRecord> {
    const updated = { ...object, timers: applyTimerOps(object.timers, ops) };
    await this.commit({ ...emptyBatch(updated), timerOps: ops });
    return updated;
  }

  /** Commits an outbox row's change and, with it, the object's (confirmations, failures). */
  async commitAction(update: ActionChange, publish?: () => void): Promise<void> {
    const write = async () => {
      // Any write of an action's row may be committed with its answer lost: its object is
      // doubtful then, so that a retry it closed (superseded, say) is not sent again.
      await this.doubting(update.objectId, () => this.store.updateAction(update), update.decision ?? null, update);
      if (update.object) {
        this.replaced(update.object, update.decision ?? null);
        this.keep(update.object);
      }
      publish?.();
    };
    // One with a decision (an action's final failure) takes its place in the commit order and
    // publishes there (`publish`): decisions minted before it may still be on their way through
    // the group commit, and a client resuming the event stream after its id would never see
    // them; those minted after it must not be published before it either.
    if (update.decision) await this.committer.run(write);
    else await write();
  }

  /** Deletes the object and its history from the store and the table. Call in the mailbox. */
  async delete(id: string): Promise<boolean> {
    const known = this.peek(id) ?? this.taken.get(id);
    const again = this.unfinished.has(id);
    const forget = () => [this.taken, this.closed, this.awake, this.dormant].forEach((m) => m.delete(id));
    let deleted: boolean;
    try {
      deleted = await this.doubting(id, () => this.store.deleteObject(id));
    } catch (e) {
      // Part of its history is gone: the object is too, told as a deletion found (reread).
      if (e instanceof DeletionUnfinished && !again) {
        this.unfinished.add(id);
        forget();
        this.observer.deleted?.(known);
        this.observer.deletionFound?.(id);
      }
      throw e;
    }
    // Sent again, the deletion was told already (and its last write may have gone in unanswered).
    this.unfinished.delete(id);
    if (deleted && !again) this.observer.deleted?.(known);
    forget();
    return deleted || again;
  }

  /** Whether the object's deletion began and did not finish (it is gone for every request). */
  deletionUnfinished(id: string): boolean {
    return this.unfinished.has(id);
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

  /** Tells the observer of a committed change, with the record it replaced if known. */
  private replaced(after: ObjectRecord, decision: Decision | null): void {
    const id = after.id;
    this.observer.replaced?.(this.peek(id) ?? this.taken.get(id), after, decision);
    if (this.taken.has(id)) this.taken.set(id, after);
  }

  /** Makes `object` the hot copy, in the set its state belongs to, most recently used. */
  private keep(object: ObjectRecord): void {
    const id = object.id;
    if (object.state !== "dormant") {
      this.dormant.delete(id);
      this.awake.set(id, object);
      return;
    }
    this.awake.delete(id);
    this.dormant.set(id, object);
  }
}
