// Rows of the store's tables turned back into the domain's records.

import type { ActionRecord } from "../core/store.ts";
import { byDue } from "../core/timers.ts";
import type {
  ActionKind,
  ActionStatus,
  JsonObject,
  LifecycleState,
  ObjectRecord,
  Observation,
  Timer,
  TimerKind,
} from "../core/types.ts";
import Database from "libsql";
import type * as t from "./schema.ts";

type ObjectRow = typeof t.objects.$inferSelect;

/** Objects with their timers (a JSON array of [name, dueAt, kind]), in one query: add a WHERE. */
export const OBJECTS = `SELECT id, policy, state, state_since, woke_at, memory, memory_version, driver,
  driver_config, observed, hold_until, last_decision_id, last_fact_at, created_at, updated_at,
  (SELECT json_group_array(json_array(name, due_at, kind)) FROM timers WHERE object_id = objects.id) AS timers
  FROM objects`;

/** An object and its timers by id. */
export const OBJECT_BY_ID = `${OBJECTS} WHERE id = ?`;

/** Timers due by a time, in firing order (the index timers_due), up to a limit. */
export const DUE_TIMERS =
  "SELECT object_id, name, due_at, kind, first_due FROM timers WHERE due_at <= ? ORDER BY due_at, object_id, name LIMIT ?";

/** Objects and their timers by the ids of a JSON array. */
export const OBJECTS_BY_IDS = `${OBJECTS} WHERE id IN (SELECT value FROM json_each(?))`;

/** A row of {@link OBJECT_BY_ID}, with SQL's column names. */
export interface ObjectSqlRow {
  id: string;
  policy: string;
  state: string;
  state_since: number;
  woke_at: number | null;
  memory: string;
  memory_version: number;
  driver: string;
  driver_config: string;
  observed: string | null;
  hold_until: number | null;
  last_decision_id: string | null;
  last_fact_at: number;
  created_at: number;
  updated_at: number;
  timers: string;
}

export function objectFromSql(r: ObjectSqlRow): ObjectRecord {
  const timers = (JSON.parse(r.timers) as [string, number, TimerKind][]).map(([name, dueAt, kind]) => ({
    name,
    dueAt,
    kind,
  }));
  return toObject(
    {
      id: r.id,
      policy: r.policy,
      state: r.state,
      stateSince: Number(r.state_since),
      wokeAt: r.woke_at === null ? null : Number(r.woke_at),
      memory: r.memory,
      memoryVersion: Number(r.memory_version),
      driver: r.driver,
      driverConfig: r.driver_config,
      observed: r.observed,
      holdUntil: r.hold_until === null ? null : Number(r.hold_until),
      lastDecisionId: r.last_decision_id,
      lastFactAt: Number(r.last_fact_at),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      decisionCount: 0,
    },
    timers.sort(byDue),
  );
}

/**
 * The hot path's reads (objects by id, a page of objects, the due timers) by SQL text on a
 * connection of their own to a database file, each statement prepared once (libsql's
 * synchronous API: a read by primary key takes microseconds, less than the promise and the
 * query building around it).
 */
export class PointReads {
  private readonly db: Database.Database;
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path, { timeout: 5 });
    this.db.exec("PRAGMA busy_timeout = 5000");
  }

  all(sql: string, args: unknown[]): Record<string, unknown>[] {
    return this.statement(sql).all(args) as Record<string, unknown>[];
  }

  private statement(sql: string): Database.Statement {
    let s = this.prepared.get(sql);
    if (!s) this.prepared.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  close(): void {
    this.db.close();
  }
}
type ActionRow = typeof t.actions.$inferSelect;

/**
 * The file of a `file:` URL (without its query), or null for `:memory:` and remote databases.
 * An empty or `localhost` authority names no host, as libsql reads it: `file://localhost/x.db`
 * and `file:///x.db` are both `/x.db` (the writer thread must open the file the client opens).
 */
export function filePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  let path = decodeURIComponent(url.slice("file:".length).split("?")[0]!);
  const authority = /^\/\/([^/]*)(\/.*)$/s.exec(path);
  if (authority && (authority[1] === "" || authority[1]!.toLowerCase() === "localhost")) path = authority[2]!;
  return path === "" || path === ":memory:" ? null : path;
}

/**
 * Names every row repeats (policy, state, driver), one string each: a row read gives fresh
 * strings, and a hot set of 100,000 objects read from the database kept some 90 bytes an
 * object of copies of the same few names. Bounded, in case names are many.
 */
const names = new Map<string, string>();
function named(s: string): string {
  const known = names.get(s);
  if (known !== undefined) return known;
  if (names.size < 4096) names.set(s, s);
  return s;
}

function toObject(r: ObjectRow, timers: Timer[]): ObjectRecord {
  return {
    id: r.id,
    policy: named(r.policy),
    state: named(r.state) as LifecycleState,
    stateSince: r.stateSince,
    wokeAt: r.wokeAt,
    memory: JSON.parse(r.memory) as JsonObject,
    memoryVersion: r.memoryVersion,
    substrate: {
      driver: named(r.driver),
      config: JSON.parse(r.driverConfig) as JsonObject,
      observed: r.observed ? (JSON.parse(r.observed) as Observation) : null,
    },
    holdUntil: r.holdUntil,
    timers,
    lastDecisionId: r.lastDecisionId,
    lastFactAt: r.lastFactAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toAction(r: ActionRow): ActionRecord {
  return {
    id: r.id,
    objectId: r.objectId,
    decisionId: r.decisionId,
    kind: r.kind as ActionKind,
    status: r.status as ActionStatus,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt,
    lastError: r.lastError,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
