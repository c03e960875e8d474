// The durable store as the governor needs it, in Vigil's words. Implementations:
// storage/libsql-store.ts (drizzle over libsql: file, :memory:, remote) and
// storage/memory-store.ts (plain maps, for fixtures and tests). One contract suite runs on all.

import type { JournalEntry } from "./journal.ts";
import type {
  ActionKind,
  ActionStatus,
  Decision,
  Json,
  LifecycleState,
  ObjectRecord,
  TimerKind,
  TimerOp,
} from "./types.ts";

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
  idempotency: { key: string; response: Json } | null;
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
  state?: LifecycleState;
  policy?: string;
  limit: number;
  /** Exclusive: ids greater than this one. */
  after?: string;
}

export interface DueTimer {
  objectId: string;
  name: string;
  dueAt: number;
  kind: TimerKind;
}

export interface Store {
  /** Creates or upgrades the schema. Idempotent. */
  migrate(): Promise<void>;
  /** Every object with its pending timers (the governor keeps them hot). */
  loadObjects(): Promise<ObjectRecord[]>;
  getObject(id: string): Promise<ObjectRecord | null>;
  /** Commits several arrivals in ONE transaction; on error nothing of any of them is written. */
  commit(batches: CommitBatch[]): Promise<void>;
  deleteObject(id: string): Promise<boolean>;
  listObjects(query: ObjectQuery): Promise<ObjectRecord[]>;
  /** Newest first; `before` is an exclusive decision id. */
  listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]>;
  /** A decision with its actions' current status. */
  getDecision(id: string): Promise<Decision | null>;
  getIdempotent(objectId: string, key: string): Promise<Json | null>;
  /** The fact journal of one object, oldest first, from `afterSeq` (exclusive). */
  journal(objectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]>;
  /** For each object, the newest journal seq older than `before` (what retention may compact). */
  compactableJournal(before: number): Promise<{ objectId: string; seq: number }[]>;
  /** Replaces the entries up to `seq` with one snapshot of memory at `seq`, atomically. */
  compactJournal(objectId: string, seq: number, snapshot: JournalEntry): Promise<void>;
  /** Outbox rows still pending, oldest first. */
  pendingActions(): Promise<ActionRecord[]>;
  updateAction(update: ActionUpdate): Promise<void>;
  /** Timers due at or before `until`, earliest first (served by an index on due time). */
  dueTimers(until: number, limit: number): Promise<DueTimer[]>;
  /** The earliest pending timer, or null. */
  nextTimer(): Promise<DueTimer | null>;
  close(): Promise<void>;
}
