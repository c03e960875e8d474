// The drizzle schema: objects, the fact journal, decisions (compact, see decision-codec.ts)
// and the policy versions they were taken under, the action outbox, timers, idempotency keys,
// and which schedules each policy's objects are armed for. Times are epoch milliseconds; JSON
// columns hold text.
// After a change here run `npm run db:generate` and commit the new migration.

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const objects = sqliteTable(
  "objects",
  {
    id: text("id").primaryKey(),
    policy: text("policy").notNull(),
    state: text("state").notNull(),
    stateSince: integer("state_since").notNull(),
    /** When the current wake began; null while not waking or active (dwell.minActive counts from it). */
    wokeAt: integer("woke_at"),
    memory: text("memory").notNull(),
    memoryVersion: integer("memory_version").notNull(),
    driver: text("driver").notNull(),
    driverConfig: text("driver_config").notNull(),
    observed: text("observed"),
    holdUntil: integer("hold_until"),
    lastDecisionId: text("last_decision_id"),
    lastFactAt: integer("last_fact_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * Decisions stored for this object: counted up by every commit, and set to the true count when
     * retention trims the object to VIGIL_DECISIONS_PER_OBJECT (pruning by age does not lower it,
     * so it can run high; it only decides which objects to look at).
     */
    decisionCount: integer("decision_count").notNull().default(0),
  },
  (t) => [
    index("objects_state").on(t.state, t.id),
    index("objects_policy").on(t.policy, t.id),
    index("objects_driver").on(t.driver, t.id),
    /**
     * The failed objects whose stored observation lists `leftovers` (what reconciliation observes
     * of failed objects, substrate-sync.ts), and no others: a fleet's many failed objects without
     * leftovers are not read by the pass, and other rows' writes leave this index alone.
     */
    index("objects_failed_leftovers")
      .on(t.id)
      .where(sql`state = 'failed' AND json_type(observed, '$.leftovers') IS NOT NULL`),
  ],
);

export const journal = sqliteTable(
  "journal",
  {
    objectId: text("object_id").notNull(),
    seq: integer("seq").notNull(),
    patch: text("patch").notNull(),
    at: integer("at").notNull(),
    /** `patch`, or `snapshot`: the whole memory at `seq`, left where older entries were compacted. */
    kind: text("kind").notNull().default("patch"),
    /** On a snapshot: the lifecycle at `seq` as JSON (core/journal.ts LifecycleSeed). */
    seed: text("seed"),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.seq] }), index("journal_at").on(t.at)],
);

export const decisions = sqliteTable(
  "decisions",
  {
    /** Sortable by time (governor/ids.ts): retention by age deletes a range of the key. */
    id: text("id").primaryKey(),
    objectId: text("object_id").notNull(),
    at: integer("at").notNull(),
    /** A compact JSON array (decision-codec.ts), or a whole Decision as JSON (older rows). */
    body: text("body").notNull(),
  },
  (t) => [index("decisions_object").on(t.objectId, t.id)],
);

/** Every policy version a stored decision was taken under, by content hash. */
export const policyVersions = sqliteTable("policy_versions", {
  key: integer("key").primaryKey(),
  hash: text("hash").notNull().unique(),
  name: text("name").notNull(),
  version: text("version").notNull(),
  /** The validated policy document as JSON: what a stored decision's explanation is read against. */
  document: text("document").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * The version each policy serves, written at every load and reload of its file (and at a start
 * that serves a stored version for a file refused or gone), with its document: what serves at the
 * next start when the file is refused or gone. A version's row in `policy_versions` is written
 * only with its first decision, so an edit undone (v1, v2, v1 again) leaves no trace there.
 */
export const policyServed = sqliteTable("policy_served", {
  policy: text("policy").primaryKey(),
  hash: text("hash").notNull(),
  version: text("version").notNull(),
  document: text("document").notNull(),
  servedAt: integer("served_at").notNull(),
});

/** The schedules each policy's objects are armed for (canonical JSON), so start-up rearms only what changed. */
export const policySchedules = sqliteTable("policy_schedules", {
  policy: text("policy").primaryKey(),
  schedules: text("schedules").notNull(),
});

/**
 * Who governs this database: one row, taken at start and renewed while the server runs, so
 * that a second server on the same database refuses to start instead of governing twice.
 */
export const lease = sqliteTable("lease", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  acquiredAt: integer("acquired_at").notNull(),
  renewedAt: integer("renewed_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

export const actions = sqliteTable(
  "actions",
  {
    id: text("id").primaryKey(),
    objectId: text("object_id").notNull(),
    decisionId: text("decision_id").notNull(),
    kind: text("kind").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("actions_status").on(t.status, t.id), index("actions_object").on(t.objectId, t.decisionId)],
);

export const timers = sqliteTable(
  "timers",
  {
    objectId: text("object_id").notNull(),
    name: text("name").notNull(),
    dueAt: integer("due_at").notNull(),
    kind: text("kind").notNull(),
    /**
     * A cron tick's schedule as it was armed (core/schedule.ts scheduleSpec: cron and time zone),
     * so that a tick of a schedule a reload changed is told from one of the new schedule; null
     * for other timers and for ticks armed before migration 0009.
     */
    spec: text("spec"),
    /**
     * A timer put off while its policy was not loaded: when it was first due (its due time is
     * moved on a minute at a time), so that it fires late by that time after a restart too; null
     * otherwise (a timer set again has none).
     */
    firstDue: integer("first_due"),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.name] }), index("timers_due").on(t.dueAt, t.objectId, t.name)],
);

export const idempotency = sqliteTable(
  "idempotency",
  {
    objectId: text("object_id").notNull(),
    key: text("key").notNull(),
    /** sha256 of the request's facts, canonical JSON. */
    fingerprint: text("fingerprint").notNull(),
    decisionId: text("decision_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.key] }), index("idempotency_created").on(t.createdAt)],
);

/**
 * Objects whose deletion has begun: a long history is deleted a batch at a time, each its own
 * transaction, and the object's row and this mark go last, together. A server that stops
 * between finishes the deletion when it starts again (LibsqlStore.finishDeletions).
 */
export const deletions = sqliteTable("deletions", {
  objectId: text("object_id").primaryKey(),
});
