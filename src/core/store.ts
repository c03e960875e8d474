// The durable store as the governor needs it, in Vigil's words. Implementations:
// storage/libsql-store.ts (drizzle over libsql: file, :memory:, remote) and
// storage/memory-store.ts (plain maps, for fixtures and tests). One contract suite runs on all.

import type { JournalEntry } from "./journal.ts";
import type { PolicyDocument } from "./policy.ts";
import type { ActionKind, ActionStatus, Decision, LifecycleState, ObjectRecord, TimerKind, TimerOp } from "./types.ts";

/** An outbox row: a substrate command waiting for, or done with, its driver. */
export interface ActionRecord {
  id: string;
  objectId: string;
  decisionId: string;
  kind: ActionKind;
  status: ActionStatus;
  attempts: number;
  /** Epoch ms before which the dispatcher must not try again. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Everything one arrival writes. A store commits it atomically, or not at all. */
export interface CommitBatch {
  /** The object after the arrival (inserted or replaced whole, timers included). */
  object: ObjectRecord;
  journal: JournalEntry | null;
  /** Null when the evaluation is counted instead of stored. */
  decision: Decision | null;
  actions: ActionRecord[];
  /** Pending actions of this object that the new ones replace. */
  supersede: string[];
  timerOps: TimerOp[];
  idempotency: IdempotencyRecord | null;
  /**
   * The object's state, policy and driver are those already stored (the object table compares
   * with its hot copy, the committed row): the store need not write them, nor rewrite their
   * index entries. Absent: write the row whole.
   */
  keysUnchanged?: boolean;
}

/** What an idempotency key keeps: the request's fingerprint and the decision it led to. */
export interface IdempotencyRecord {
  key: string;
  /** sha256 of the canonical JSON of the request's facts. */
  fingerprint: string;
  decisionId: string;
}

/**
 * The outbox row of an action a decision about `object` issues, before its first attempt. Its
 * `createdAt` is never before the object's: that order is how a driver's answer is told to be
 * for this object and not for one deleted before it under the same id, and a server's clock that
 * steps back (NTP, a VM resumed) would otherwise date the action earlier, and the answer would be
 * dropped (the object left `waking` or `sleeping` for good).
 */
export function pendingAction(
  id: string,
  object: Pick<ObjectRecord, "id" | "createdAt">,
  decisionId: string,
  kind: ActionRecord["kind"],
  now: number,
): ActionRecord {
  const at = Math.max(now, object.createdAt);
  return {
    id,
    objectId: object.id,
    decisionId,
    kind,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** A commit of the object row alone. */
export function emptyBatch(object: ObjectRecord): CommitBatch {
  return { object, journal: null, decision: null, actions: [], supersede: [], timerOps: [], idempotency: null };
}

/** A change to an outbox row, with the object's state change it causes (same transaction). */
export interface ActionUpdate {
  id: string;
  status: ActionStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  updatedAt: number;
  object?: ObjectRecord;
  /** A decision recording what the update did to the object (a final failure). */
  decision?: Decision;
}

export interface ObjectQuery {
  state?: LifecycleState | undefined;
  policy?: string | undefined;
  driver?: string | undefined;
  limit: number;
  /** Exclusive: ids greater than this one. */
  after?: string | undefined;
  /**
   * With both `state` and `policy`: the one whose index to read by, the one fewer objects have
   * (a hint from counts kept in memory; the page is the same either way, only faster).
   */
  by?: "state" | "policy" | undefined;
  /**
   * Only failed objects whose stored observation lists `leftovers` (with or without `state:
   * "failed"`): what reconciliation observes of failed objects, read by an index of them alone.
   */
  failedWithLeftovers?: boolean | undefined;
}

export interface DueTimer {
  objectId: string;
  name: string;
  dueAt: number;
  kind: TimerKind;
  /** When a timer put off while its policy was not loaded was first due (TimerOp.firstDue). */
  firstDue?: number;
}

/**
 * The durable store. Decision ids sort by the time they were taken (governor/ids.ts), which is
 * what `before` cursors and retention by age rely on.
 */
export interface Store {
  /**
   * Creates or upgrades the schema. Idempotent. `claim` (taking the governing lease) is called
   * once: before any migration is applied when the schema already has the lease, so that a server
   * refused the lease changes nothing in a database another one governs; after them otherwise.
   */
  migrate(claim?: () => Promise<void>): Promise<void>;
  getObject(id: string): Promise<ObjectRecord | null>;
  /** Those of `ids` that exist, in one read (in any order). */
  getObjects(ids: readonly string[]): Promise<ObjectRecord[]>;
  /** Commits several arrivals in ONE transaction; on error nothing of any of them is written. */
  commit(batches: CommitBatch[]): Promise<void>;
  /** Deletes the object and its history; false if there was no such object. */
  deleteObject(id: string): Promise<boolean>;
  /**
   * Finishes the deletions a stopped server began (a store that deletes a long history in
   * several transactions). Called at start, before anything is served.
   */
  finishDeletions(): Promise<void>;
  /**
   * A page of objects by id, filtered by state, policy or driver, or to the failed ones with
   * leftovers (each served by an index).
   */
  listObjects(query: ObjectQuery): Promise<ObjectRecord[]>;
  /** Newest first; `before` is an exclusive decision id. */
  listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]>;
  /** Oldest first; `after` is an exclusive decision id. How replay pages through history. */
  decisionsAfter(objectId: string, limit: number, after?: string): Promise<Decision[]>;
  /** A decision with its actions' current status. */
  getDecision(id: string): Promise<Decision | null>;
  getIdempotent(objectId: string, key: string): Promise<IdempotencyRecord | null>;
  /** The fact journal of one object, oldest first, from `afterSeq` (exclusive). */
  journal(objectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]>;
  /**
   * Looks at up to `scan` objects in id order after the object id `after` (null: from the first)
   * and returns, for each whose journal has entries older than `before` that are not a snapshot,
   * the newest one's seq (what retention may compact), and the last id looked at (null once the
   * end is reached). A bounded step: no one read goes through the whole journal.
   */
  compactableJournal(
    before: number,
    after: string | null,
    scan: number,
  ): Promise<{ targets: { objectId: string; seq: number }[]; next: string | null }>;
  /** Replaces the entries up to `seq` with one snapshot of memory at `seq`, atomically. */
  compactJournal(objectId: string, seq: number, snapshot: JournalEntry): Promise<void>;
  /** Outbox rows still pending, oldest first: all of them, or one object's. */
  pendingActions(objectId?: string): Promise<ActionRecord[]>;
  updateAction(update: ActionUpdate): Promise<void>;
  /** Timers due at or before `until`, earliest first (served by an index on due time). */
  dueTimers(until: number, limit: number): Promise<DueTimer[]>;
  /** The earliest pending timer, or null. */
  nextTimer(): Promise<DueTimer | null>;
  /**
   * Up to `limit` of the oldest decisions taken before `before`, oldest first (what age pruning
   * deletes); with `after`, only those whose id sorts after it (past decisions that stay).
   */
  oldDecisions(before: number, limit: number, after?: string): Promise<{ id: string; objectId: string }[]>;
  /**
   * Deletes these decisions (ids that do not exist are passed over), and their actions that are
   * not pending, and lowers their objects' count of stored decisions (objectsOverDecisionLimit)
   * by as many; returns how many ids.
   */
  deleteDecisions(ids: readonly string[]): Promise<number>;
  /**
   * Looks at up to `scan` objects in id order after `after` (from the first when null) and
   * returns those that have stored more than `keep` decisions, and the last id looked at (null
   * once the end is reached). A bounded step: a whole pass over a million objects is many
   * short reads, not one long one.
   */
  objectsOverDecisionLimit(
    keep: number,
    after: string | null,
    scan: number,
  ): Promise<{ over: string[]; next: string | null }>;
  /** The id of the object's newest decision after its newest `keep`, or null: the last that pruning by count deletes. */
  decisionBeyond(objectId: string, keep: number): Promise<string | null>;
  /** Deletes all but the newest `keep` decisions of an object, oldest first; returns how many. */
  pruneObjectDecisions(objectId: string, keep: number): Promise<number>;
  /**
   * Looks at up to `scan` actions created before `before`, in id order after `after` (from the
   * first when null), and deletes those done (not pending) whose decision is gone; returns how
   * many, and the last id looked at (null once the end is reached). (Those of a deleted decision
   * go with it; this takes the rest: one still pending when its decision went, and those an older
   * version left behind. A decision that stays keeps its actions, whose status it is served with.)
   */
  pruneActions(before: number, after: string | null, scan: number): Promise<{ deleted: number; next: string | null }>;
  /** Deletes up to `limit` idempotency keys used before `before`; returns how many. */
  pruneIdempotency(before: number, limit: number): Promise<number>;
  /**
   * When the last retention run that finished on this database ended, or null if none is recorded:
   * the next server's first run is due an hour after it (governor/retention.ts).
   */
  retentionRanAt(): Promise<number | null>;
  /** Records that a retention run finished at `at`. */
  markRetentionRun(at: number): Promise<void>;
  /** The schedules a policy's objects were last armed for (canonical JSON), or null. */
  armedSchedules(policy: string): Promise<string | null>;
  setArmedSchedules(policy: string, schedules: string): Promise<void>;
  /**
   * A write the size of a group commit's (about 64 KiB) that leaves nothing behind: readiness
   * tries it while the database refuses writes, to learn when commits would go through again
   * (governor/readiness.ts). A write like the others: refused as they are, fenced as they are.
   */
  probeWrite(): Promise<void>;
  /**
   * Why no write can go through any more, known without trying one (a file database's writer
   * thread stopped: storage/sql-writer.ts), or null. Readiness asks it at each probe. Optional:
   * a store that writes on its own connection has no such thing.
   */
  writesStopped?(): Error | null;
  /** Who holds the governing lease, or null. */
  lease(): Promise<LeaseHolder | null>;
  /**
   * Takes the governing lease for `claim.owner`, in one atomic write, if no one holds it, its
   * holder's lease expired before `now`, the holder is `claim.owner` already (a renewal), or
   * the holder is `replacing` (a holder found dead). Returns the holder afterwards: the claim
   * succeeded when that is `claim.owner`.
   */
  claimLease(claim: LeaseHolder, now: number, replacing?: string): Promise<LeaseHolder | null>;
  /** Gives the lease up, if `owner` holds it. */
  releaseLease(owner: string): Promise<void>;
  /**
   * From now on, every write but the lease's asks `governing()` at the moment it is made (after
   * whatever the method read first) and fails with a 503 when it answers false: a server that
   * lost the governing lease writes nothing (governor/fence.ts). Called once per governor that
   * fences the store: a write goes through only while every one of them still governs. Optional:
   * a store whose methods do not wait between reading and writing is fenced at the call.
   */
  fenceWrites?(governing: () => boolean): void;
  /**
   * Tells the store where the documents of loaded policy versions are, so that it may keep a
   * decision compactly against the version it was taken under. Optional.
   */
  knowPolicies?(source: (hash: string) => PolicySource | null): void;
  /**
   * The version policy `name` served last (servePolicies), else, where no load was recorded, the
   * one the newest stored decision of its objects was taken under, else the one stored last; or
   * null: what serves at start when its file does not load. Optional.
   */
  storedPolicy?(name: string): Promise<PolicySource | null>;
  /**
   * The schedule (scheduleSpec) the cron tick `name` of an object was armed for, or null (not a
   * tick, gone, or armed before the store kept it). Optional: without it a tick is not told stale.
   */
  timerSpec?(objectId: string, name: string): Promise<string | null>;
  /** Records `sources` as the versions their policies serve from `at` (a load or reload). Optional. */
  servePolicies?(sources: readonly PolicySource[], at: number): Promise<void>;
  /** Reads of stored history for the event stream and usage (storage/decision-reads.ts). */
  readonly history: DecisionReads;
  /**
   * How many objects each policy has in each state (pairs with none are left out). Read once
   * at start, where the governor's census starts counting (governor/metrics.ts); it reads
   * indexes, not rows.
   */
  countObjects(): Promise<ObjectCount[]>;
  /** How many timers are pending, all objects together. */
  countTimers(): Promise<number>;
  /**
   * The newest decision id and the newest action id stored (none for a kind with none), read
   * at start: the ids a server mints sort after them (governor/ids.ts).
   */
  newestIds(): Promise<string[]>;
  close(): Promise<void>;
}

/** The number of objects of one policy in one state. */
export interface ObjectCount {
  policy: string;
  state: LifecycleState;
  objects: number;
}

/** One stored decision as usage reads it: the state change it made, without its explanation. */
export interface StateChange {
  id: string;
  at: number;
  fromState: LifecycleState;
  toState: LifecycleState;
  /**
   * When the driver confirmed the decision's action (its outbox row's last update), or null. A
   * confirmation moves waking -> active and sleeping -> dormant without a decision of its own.
   */
  confirmedAt: number | null;
}

export interface StateChangeQuery {
  /** Exclusive decision ids: read between them. */
  after?: string | undefined;
  before?: string | undefined;
  limit: number;
  /** `asc` (default) oldest first, `desc` newest first. */
  order?: "asc" | "desc";
}

/** Reads of stored decisions that page by id across objects, or read states without explanations. */
export interface DecisionReads {
  /**
   * Stored decisions with ids after `after` (exclusive), oldest first, of every object or of
   * `objectId`, with their actions' current status. How the event stream resumes.
   */
  since(after: string, limit: number, objectId?: string): Promise<Decision[]>;
  /** The id of the decision that issued an action, or null when the action is not stored. */
  decisionOf(actionId: string): Promise<string | null>;
  /** One object's decisions as state changes, by id (served by the index on object and id). */
  stateChanges(objectId: string, query: StateChangeQuery): Promise<StateChange[]>;
}

/** The server that governs a database, and until when its claim holds unless renewed. */
export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

/** A loaded policy version: what a stored decision's explanation is read against. */
export interface PolicySource {
  name: string;
  version: string;
  hash: string;
  document: PolicyDocument;
}
