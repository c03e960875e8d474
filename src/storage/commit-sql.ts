// The hot write path: a group of arrivals as a handful of multi-row statements, whatever the
// group's size. Building each row through drizzle's query builder and preparing one statement
// per row cost more than the evaluation itself (measured: 4-6 statements per arrival, ~70% of
// the CPU of an arrival); one statement per table and group costs a fraction of that. Column
// names follow schema.ts; the store contract suite holds both paths to the same results.

import type { InStatement, InValue } from "@libsql/client";
import type { CommitBatch } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";

/** SQLite allows 32766 bound values per statement; stay well below. */
const MAX_VALUES = 30_000;

const OBJECT_COLUMNS = [
  "id",
  "policy",
  "state",
  "state_since",
  "woke_at",
  "memory",
  "memory_version",
  "driver",
  "driver_config",
  "observed",
  "hold_until",
  "last_decision_id",
  "last_fact_at",
  "created_at",
  "updated_at",
] as const;

export function objectValues(o: ObjectRecord): InValue[] {
  return [
    o.id,
    o.policy,
    o.state,
    o.stateSince,
    o.wokeAt,
    JSON.stringify(o.memory),
    o.memoryVersion,
    o.substrate.driver,
    JSON.stringify(o.substrate.config),
    o.substrate.observed ? JSON.stringify(o.substrate.observed) : null,
    o.holdUntil,
    o.lastDecisionId,
    o.lastFactAt,
    o.createdAt,
    o.updatedAt,
  ];
}

export function decisionValues(d: Decision): InValue[] {
  return [d.id, d.objectId, d.at, d.outcome, d.trigger.kind, JSON.stringify(d)];
}

/** `INSERT INTO table (cols) VALUES (?,...),(?,...) [suffix]`, split to respect MAX_VALUES. */
function insertMany(table: string, columns: readonly string[], rows: InValue[][], suffix = ""): InStatement[] {
  if (rows.length === 0) return [];
  const perRow = columns.length;
  const chunk = Math.max(1, Math.floor(MAX_VALUES / perRow));
  const placeholder = `(${columns.map(() => "?").join(", ")})`;
  const out: InStatement[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    out.push({
      sql: `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${part.map(() => placeholder).join(", ")}${suffix}`,
      args: part.flat(),
    });
  }
  return out;
}

/** `policy = ?, state = ?, ...` for every column but id, in objectValues order. */
export const OBJECT_UPDATE_SET = OBJECT_COLUMNS.slice(1)
  .map((c) => `${c} = ?`)
  .join(", ");

const upsertObjects = ` ON CONFLICT (id) DO UPDATE SET ${OBJECT_COLUMNS.slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(", ")}`;

/**
 * Every statement of a group of arrivals, for one transaction. The statements of a run of
 * batches with distinct objects can be merged per table; a second batch of an object already
 * in the run starts a new run, so that its writes land after the first one's.
 */
export function commitStatements(batches: CommitBatch[]): InStatement[] {
  const out: InStatement[] = [];
  let run: CommitBatch[] = [];
  const seen = new Set<string>();
  for (const b of batches) {
    if (seen.has(b.object.id)) {
      out.push(...runStatements(run));
      run = [];
      seen.clear();
    }
    run.push(b);
    seen.add(b.object.id);
  }
  out.push(...runStatements(run));
  return out;
}

function runStatements(batches: CommitBatch[]): InStatement[] {
  const objects = batches.map((b) => b.object);
  const journal: InValue[][] = [];
  const decisions: InValue[][] = [];
  const actions: InValue[][] = [];
  const idempotency: InValue[][] = [];
  const timerSets: InValue[][] = [];
  const timerCancels: InStatement[] = [];
  const supersede: InStatement[] = [];
  for (const b of batches) {
    const id = b.object.id;
    if (b.journal)
      journal.push([id, b.journal.seq, JSON.stringify(b.journal.patch), b.journal.at, b.journal.kind ?? "patch"]);
    if (b.decision) decisions.push(decisionValues(b.decision));
    for (const a of b.actions)
      actions.push([
        a.id,
        a.objectId,
        a.decisionId,
        a.kind,
        a.status,
        a.attempts,
        a.nextAttemptAt,
        a.lastError,
        a.createdAt,
        a.updatedAt,
      ]);
    if (b.supersede.length > 0)
      supersede.push({
        sql: `UPDATE actions SET status = 'superseded', updated_at = ? WHERE status = 'pending' AND id IN (${b.supersede.map(() => "?").join(", ")})`,
        args: [b.object.updatedAt, ...b.supersede],
      });
    for (const op of b.timerOps) {
      if (op.op === "set") timerSets.push([id, op.name, op.dueAt!, op.kind]);
      else timerCancels.push({ sql: "DELETE FROM timers WHERE object_id = ? AND name = ?", args: [id, op.name] });
    }
    if (b.idempotency)
      idempotency.push([id, b.idempotency.key, JSON.stringify(b.idempotency.response), b.object.updatedAt]);
  }
  return [
    ...insertMany("objects", OBJECT_COLUMNS, objects.map(objectValues), upsertObjects),
    ...insertMany("journal", ["object_id", "seq", "patch", "at", "kind"], journal),
    ...insertMany("decisions", ["id", "object_id", "at", "outcome", "trigger_kind", "body"], decisions),
    ...supersede,
    ...insertMany(
      "actions",
      [
        "id",
        "object_id",
        "decision_id",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "updated_at",
      ],
      actions,
    ),
    ...timerCancels,
    ...insertMany(
      "timers",
      ["object_id", "name", "due_at", "kind"],
      timerSets,
      " ON CONFLICT (object_id, name) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind",
    ),
    ...insertMany("idempotency", ["object_id", "key", "response", "created_at"], idempotency),
  ];
}
