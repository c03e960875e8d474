// The hot write path: a group of arrivals as a handful of multi-row statements, whatever the
// group's size. Building each row through drizzle's query builder and preparing one statement
// per row cost more than the evaluation itself (measured: 4-6 statements per arrival, ~70% of
// the CPU of an arrival); one statement per table and group costs a fraction of that. Column
// names follow schema.ts; the store contract suite holds both paths to the same results.

import type { InStatement, InValue } from "@libsql/client";
import type { ActionUpdate, CommitBatch, LeaseHolder } from "../core/store.ts";
import { jsonText } from "../core/json.ts";
import type { Decision, JsonObject, ObjectRecord } from "../core/types.ts";

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
    jsonText(o.memory),
    o.memoryVersion,
    o.substrate.driver,
    jsonText(o.substrate.config),
    o.substrate.observed ? jsonText(o.substrate.observed as unknown as JsonObject) : null,
    o.holdUntil,
    o.lastDecisionId,
    o.lastFactAt,
    o.createdAt,
    o.updatedAt,
  ];
}

/** Turns a decision into its row's body (decision-codec.ts), and says which statements it needs first. */
export type DecisionEncoder = (d: Decision) => { body: string; before?: InStatement[] };

/**
 * `INSERT INTO table (cols) VALUES (?,...),(?,...) [suffix]`. The rows go in statements of a
 * power-of-two number of rows (37 rows: 32, 4 and 1), so that a writer that keeps prepared
 * statements sees a few shapes per table, however the groups vary; and each within MAX_VALUES.
 */
function insertMany(table: string, columns: readonly string[], rows: InValue[][], suffix = ""): InStatement[] {
  if (rows.length === 0) return [];
  const most = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(MAX_VALUES / columns.length))));
  const out: InStatement[] = [];
  for (let i = 0; i < rows.length;) {
    const size = Math.min(most, 2 ** Math.floor(Math.log2(rows.length - i)));
    // A plain loop: Array.prototype.flat is several times slower on these arrays.
    const args: InValue[] = [];
    for (let r = i; r < i + size; r++) for (const v of rows[r]!) args.push(v);
    out.push({ sql: insertSql(table, columns, size, suffix), args });
    i += size;
  }
  return out;
}

/** The text of a multi-row INSERT, built once per table and size. */
const insertTexts = new Map<string, string>();
function insertSql(table: string, columns: readonly string[], rows: number, suffix: string): string {
  const key = `${table}\u0000${rows}\u0000${suffix}`;
  let sql = insertTexts.get(key);
  if (sql === undefined) {
    const placeholder = `(${columns.map(() => "?").join(", ")})`;
    sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array.from({ length: rows }, () => placeholder).join(", ")}${suffix}`;
    insertTexts.set(key, sql);
  }
  return sql;
}

/** `policy = ?, state = ?, ...` for every column but id, in objectValues order. */
const OBJECT_UPDATE_SET = OBJECT_COLUMNS.slice(1)
  .map((c) => `${c} = ?`)
  .join(", ");

/**
 * Columns with an index of their own (schema.ts). Writing one rewrites its index entry even when
 * the value is the same: measured, an upsert of 20 rows that sets them wrote about 4x the WAL
 * bytes of one that does not (380 KB against 80 KB) and took about twice as long to commit.
 */
const INDEXED_COLUMNS: ReadonlySet<string> = new Set(["state", "policy", "driver"]);

/** The object's stored decisions are counted on its row (retention by count; its deletes lower it). */
const upsertSetting = (columns: readonly string[]) =>
  ` ON CONFLICT (id) DO UPDATE SET ${columns
    .map((c) => `${c} = excluded.${c}`)
    .join(", ")}, decision_count = objects.decision_count + excluded.decision_count`;

const upsertObjects = upsertSetting(OBJECT_COLUMNS.slice(1));
/** For a row whose indexed columns stay as stored (CommitBatch.keysUnchanged). */
const upsertObjectsKeepingKeys = upsertSetting(OBJECT_COLUMNS.slice(1).filter((c) => !INDEXED_COLUMNS.has(c)));

/**
 * Every statement of a group of arrivals, for one transaction. The statements of a run of
 * batches with distinct objects can be merged per table; a second batch of an object already
 * in the run starts a new run, so that its writes land after the first one's.
 */
export function commitStatements(batches: CommitBatch[], encode: DecisionEncoder): InStatement[] {
  const out: InStatement[] = [];
  let run: CommitBatch[] = [];
  const seen = new Set<string>();
  for (const b of batches) {
    if (seen.has(b.object.id)) {
      out.push(...runStatements(run, encode));
      run = [];
      seen.clear();
    }
    run.push(b);
    seen.add(b.object.id);
  }
  out.push(...runStatements(run, encode));
  return out;
}

function runStatements(batches: CommitBatch[], encode: DecisionEncoder): InStatement[] {
  const objects: InValue[][] = [];
  const objectsKeepingKeys: InValue[][] = [];
  const journal: InValue[][] = [];
  const decisions: InValue[][] = [];
  const before: InStatement[] = [];
  const actions: InValue[][] = [];
  const idempotency: InValue[][] = [];
  const timerSets: InValue[][] = [];
  const timerCancels: InStatement[] = [];
  const supersede: InStatement[] = [];
  for (const b of batches) {
    const id = b.object.id;
    (b.keysUnchanged ? objectsKeepingKeys : objects).push([...objectValues(b.object), b.decision ? 1 : 0]);
    if (b.journal) {
      const j = b.journal;
      journal.push([id, j.seq, jsonText(j.patch), j.at, j.kind ?? "patch", j.seed ? JSON.stringify(j.seed) : null]);
    }
    if (b.decision) {
      const encoded = encode(b.decision);
      if (encoded.before) before.push(...encoded.before);
      decisions.push([b.decision.id, b.decision.objectId, b.decision.at, encoded.body]);
    }
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
      if (op.op === "set") timerSets.push([id, op.name, op.dueAt!, op.kind, op.spec ?? null, op.firstDue ?? null]);
      else timerCancels.push({ sql: "DELETE FROM timers WHERE object_id = ? AND name = ?", args: [id, op.name] });
    }
    if (b.idempotency)
      idempotency.push([
        id,
        b.idempotency.key,
        b.idempotency.fingerprint,
        b.idempotency.decisionId,
        b.object.updatedAt,
      ]);
  }
  return [
    ...before,
    ...insertMany("objects", [...OBJECT_COLUMNS, "decision_count"], objects, upsertObjects),
    ...insertMany("objects", [...OBJECT_COLUMNS, "decision_count"], objectsKeepingKeys, upsertObjectsKeepingKeys),
    ...insertMany("journal", ["object_id", "seq", "patch", "at", "kind", "seed"], journal),
    ...insertMany("decisions", ["id", "object_id", "at", "body"], decisions),
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
      ["object_id", "name", "due_at", "kind", "spec", "first_due"],
      timerSets,
      " ON CONFLICT (object_id, name) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind, spec = excluded.spec, first_due = excluded.first_due",
    ),
    ...insertMany("idempotency", ["object_id", "key", "fingerprint", "decision_id", "created_at"], idempotency),
  ];
}

/** An outbox row's change, with the object row and the decision it brings (one transaction). */
export function actionUpdateStatements(u: ActionUpdate, encode: DecisionEncoder): InStatement[] {
  const statements: InStatement[] = [
    {
      sql: "UPDATE actions SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
      args: [u.status, u.attempts, u.nextAttemptAt, u.lastError, u.updatedAt, u.id],
    },
  ];
  if (u.object) {
    // The row only: an update leaves the object's timers as they are.
    const [id, ...rest] = objectValues(u.object);
    statements.push({
      sql: `UPDATE objects SET ${OBJECT_UPDATE_SET}, decision_count = decision_count + ? WHERE id = ?`,
      args: [...rest, u.decision ? 1 : 0, id!],
    });
  }
  if (u.decision) {
    const encoded = encode(u.decision);
    statements.push(...(encoded.before ?? []), {
      sql: "INSERT INTO decisions (id, object_id, at, body) VALUES (?, ?, ?, ?)",
      args: [u.decision.id, u.decision.objectId, u.decision.at, encoded.body],
    });
  }
  return statements;
}

/** Takes the lease row `name` only if it is free, expired, already ours, or `replacing`'s (a holder known dead). */
export function leaseClaimStatement(name: string, claim: LeaseHolder, now: number, replacing?: string): InStatement {
  return {
    sql: `INSERT INTO lease (name, owner, host, pid, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
        acquired_at = CASE WHEN lease.owner = excluded.owner THEN lease.acquired_at ELSE excluded.acquired_at END,
        renewed_at = CASE WHEN lease.owner = excluded.owner THEN MAX(lease.renewed_at, excluded.renewed_at) ELSE excluded.renewed_at END,
        expires_at = CASE WHEN lease.owner = excluded.owner THEN MAX(lease.expires_at, excluded.expires_at) ELSE excluded.expires_at END
      WHERE lease.expires_at < ? OR lease.owner = excluded.owner OR lease.owner = ?`,
    args: [
      name,
      claim.owner,
      claim.host,
      claim.pid,
      claim.acquiredAt,
      claim.renewedAt,
      claim.expiresAt,
      now,
      replacing ?? null,
    ],
  };
}
