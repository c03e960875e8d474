// The drizzle schema: objects, the fact journal, decisions, the action outbox, timers and
// idempotency keys. Times are epoch milliseconds; JSON columns hold text.
// After a change here run `npm run db:generate` and commit the new migration.

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
  },
  (t) => [index("objects_state").on(t.state, t.id), index("objects_policy").on(t.policy, t.id)],
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
  },
  (t) => [primaryKey({ columns: [t.objectId, t.seq] }), index("journal_at").on(t.at)],
);

export const decisions = sqliteTable(
  "decisions",
  {
    id: text("id").primaryKey(),
    objectId: text("object_id").notNull(),
    at: integer("at").notNull(),
    outcome: text("outcome").notNull(),
    triggerKind: text("trigger_kind").notNull(),
    body: text("body").notNull(),
  },
  (t) => [index("decisions_object").on(t.objectId, t.id)],
);

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
  (t) => [index("actions_status").on(t.status, t.id), index("actions_object").on(t.objectId)],
);

export const timers = sqliteTable(
  "timers",
  {
    objectId: text("object_id").notNull(),
    name: text("name").notNull(),
    dueAt: integer("due_at").notNull(),
    kind: text("kind").notNull(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.name] }), index("timers_due").on(t.dueAt)],
);

export const idempotency = sqliteTable(
  "idempotency",
  {
    objectId: text("object_id").notNull(),
    key: text("key").notNull(),
    response: text("response").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.key] })],
);
