// The durable store: drizzle-orm over libsql (an embedded file, `:memory:`, or a remote libsql
// server). Each `commit` is one transaction (a libsql batch) for any number of arrivals.

import { createClient, type Client, type InStatement } from "@libsql/client";
import { and, asc, desc, eq, gt, inArray, lt, lte, max, type SQL } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import type { JournalEntry } from "../core/journal.ts";
import type { ActionRecord, ActionUpdate, CommitBatch, DueTimer, ObjectQuery, Store } from "../core/store.ts";
import type {
  ActionKind,
  ActionStatus,
  Decision,
  Json,
  JsonObject,
  LifecycleState,
  ObjectRecord,
  Observation,
  Timer,
  TimerKind,
} from "../core/types.ts";
import { commitStatements, decisionValues, OBJECT_UPDATE_SET, objectValues } from "./commit-sql.ts";
import * as t from "./schema.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

export interface LibsqlOptions {
  url: string;
  authToken?: string;
}

type Db = LibSQLDatabase<typeof t>;
type ObjectRow = typeof t.objects.$inferSelect;
type ActionRow = typeof t.actions.$inferSelect;

/** Options from a URL and an optional token (a remote libsql server needs one). */
export function libsqlOptions(url: string, authToken?: string): LibsqlOptions {
  return authToken ? { url, authToken } : { url };
}

export class LibsqlStore implements Store {
  readonly client: Client;
  private readonly db: Db;

  constructor(options: LibsqlOptions) {
    this.client = createClient(
      options.authToken ? { url: options.url, authToken: options.authToken } : { url: options.url },
    );
    this.db = drizzle(this.client, { schema: t });
    this.local = options.url === ":memory:" || options.url.startsWith("file:");
  }

  private readonly local: boolean;

  async migrate(): Promise<void> {
    if (this.local) {
      // WAL lets readers run beside the writer; FULL makes every commit survive power loss.
      await this.client.execute("PRAGMA journal_mode = WAL");
      await this.client.execute("PRAGMA synchronous = FULL");
      await this.client.execute("PRAGMA busy_timeout = 5000");
    }
    await migrate(this.db, { migrationsFolder: MIGRATIONS_DIR });
  }

  async loadObjects(): Promise<ObjectRecord[]> {
    const rows = await this.db.select().from(t.objects).orderBy(asc(t.objects.id));
    const timers = await this.db.select().from(t.timers);
    const byObject = groupTimers(timers);
    return rows.map((r) => toObject(r, byObject.get(r.id) ?? []));
  }

  async getObject(id: string): Promise<ObjectRecord | null> {
    const [row] = await this.db.select().from(t.objects).where(eq(t.objects.id, id));
    if (!row) return null;
    const timers = await this.db.select().from(t.timers).where(eq(t.timers.objectId, id));
    return toObject(row, groupTimers(timers).get(id) ?? []);
  }

  async commit(batches: CommitBatch[]): Promise<void> {
    const statements = commitStatements(batches);
    if (statements.length > 0) await this.client.batch(statements, "write");
  }

  async deleteObject(id: string): Promise<boolean> {
    const db = this.db;
    const [found] = await db.select({ id: t.objects.id }).from(t.objects).where(eq(t.objects.id, id));
    if (!found) return false;
    await db.batch([
      db.delete(t.objects).where(eq(t.objects.id, id)),
      db.delete(t.journal).where(eq(t.journal.objectId, id)),
      db.delete(t.decisions).where(eq(t.decisions.objectId, id)),
      db.delete(t.actions).where(eq(t.actions.objectId, id)),
      db.delete(t.timers).where(eq(t.timers.objectId, id)),
      db.delete(t.idempotency).where(eq(t.idempotency.objectId, id)),
    ]);
    return true;
  }

  async listObjects(q: ObjectQuery): Promise<ObjectRecord[]> {
    const where: SQL[] = [];
    if (q.state) where.push(eq(t.objects.state, q.state));
    if (q.policy) where.push(eq(t.objects.policy, q.policy));
    if (q.after !== undefined) where.push(gt(t.objects.id, q.after));
    const rows = await this.db
      .select()
      .from(t.objects)
      .where(and(...where))
      .orderBy(asc(t.objects.id))
      .limit(q.limit);
    if (rows.length === 0) return [];
    const timers = await this.db
      .select()
      .from(t.timers)
      .where(
        inArray(
          t.timers.objectId,
          rows.map((r) => r.id),
        ),
      );
    const byObject = groupTimers(timers);
    return rows.map((r) => toObject(r, byObject.get(r.id) ?? []));
  }

  async listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]> {
    const where =
      before === undefined
        ? eq(t.decisions.objectId, objectId)
        : and(eq(t.decisions.objectId, objectId), lt(t.decisions.id, before));
    const rows = await this.db.select().from(t.decisions).where(where).orderBy(desc(t.decisions.id)).limit(limit);
    return this.withActionStatus(rows.map((r) => JSON.parse(r.body) as Decision));
  }

  async getDecision(id: string): Promise<Decision | null> {
    const [row] = await this.db.select().from(t.decisions).where(eq(t.decisions.id, id));
    if (!row) return null;
    const [d] = await this.withActionStatus([JSON.parse(row.body) as Decision]);
    return d ?? null;
  }

  /** A decision is stored as taken; its actions' status is read as it is now. */
  private async withActionStatus(ds: Decision[]): Promise<Decision[]> {
    const ids = ds.flatMap((d) => d.actions.map((a) => a.id));
    if (ids.length === 0) return ds;
    const rows = await this.db
      .select({ id: t.actions.id, status: t.actions.status })
      .from(t.actions)
      .where(inArray(t.actions.id, ids));
    const status = new Map(rows.map((r) => [r.id, r.status as ActionStatus]));
    return ds.map((d) => ({ ...d, actions: d.actions.map((a) => ({ ...a, status: status.get(a.id) ?? a.status })) }));
  }

  async getIdempotent(objectId: string, key: string): Promise<Json | null> {
    const [row] = await this.db
      .select({ response: t.idempotency.response })
      .from(t.idempotency)
      .where(and(eq(t.idempotency.objectId, objectId), eq(t.idempotency.key, key)));
    return row ? (JSON.parse(row.response) as Json) : null;
  }

  async journal(objectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    const rows = await this.db
      .select()
      .from(t.journal)
      .where(and(eq(t.journal.objectId, objectId), gt(t.journal.seq, afterSeq)))
      .orderBy(asc(t.journal.seq))
      .limit(limit);
    return rows.map((r) => ({
      seq: r.seq,
      patch: JSON.parse(r.patch) as JsonObject,
      at: r.at,
      kind: r.kind as "patch" | "snapshot",
    }));
  }

  async compactableJournal(before: number): Promise<{ objectId: string; seq: number }[]> {
    const rows = await this.db
      .select({ objectId: t.journal.objectId, seq: max(t.journal.seq) })
      .from(t.journal)
      .where(and(lt(t.journal.at, before), eq(t.journal.kind, "patch")))
      .groupBy(t.journal.objectId)
      .orderBy(asc(t.journal.objectId));
    return rows.filter((r) => r.seq !== null).map((r) => ({ objectId: r.objectId, seq: r.seq! }));
  }

  async compactJournal(objectId: string, seq: number, snapshot: JournalEntry): Promise<void> {
    const db = this.db;
    await db.batch([
      db.delete(t.journal).where(and(eq(t.journal.objectId, objectId), lte(t.journal.seq, seq))),
      db.insert(t.journal).values({
        objectId,
        seq,
        patch: JSON.stringify(snapshot.patch),
        at: snapshot.at,
        kind: "snapshot",
      }),
    ]);
  }

  async pendingActions(): Promise<ActionRecord[]> {
    const rows = await this.db
      .select()
      .from(t.actions)
      .where(eq(t.actions.status, "pending"))
      .orderBy(asc(t.actions.id));
    return rows.map(toAction);
  }

  async updateAction(u: ActionUpdate): Promise<void> {
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
        sql: `UPDATE objects SET ${OBJECT_UPDATE_SET} WHERE id = ?`,
        args: [...rest, id!],
      });
    }
    if (u.decision)
      statements.push({
        sql: "INSERT INTO decisions (id, object_id, at, outcome, trigger_kind, body) VALUES (?, ?, ?, ?, ?, ?)",
        args: decisionValues(u.decision),
      });
    await this.client.batch(statements, "write");
  }

  /** The due-timer read, exposed so a test can check its query plan uses the due-time index. */
  dueTimersQuery(until: number, limit: number) {
    return this.db
      .select()
      .from(t.timers)
      .where(lte(t.timers.dueAt, until))
      .orderBy(asc(t.timers.dueAt), asc(t.timers.objectId), asc(t.timers.name))
      .limit(limit);
  }

  async dueTimers(until: number, limit: number): Promise<DueTimer[]> {
    const rows = await this.dueTimersQuery(until, limit);
    return rows.map((r) => ({ objectId: r.objectId, name: r.name, dueAt: r.dueAt, kind: r.kind as TimerKind }));
  }

  async nextTimer(): Promise<DueTimer | null> {
    const [next] = await this.dueTimers(Number.MAX_SAFE_INTEGER, 1);
    return next ?? null;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function groupTimers(rows: (typeof t.timers.$inferSelect)[]): Map<string, Timer[]> {
  const out = new Map<string, Timer[]>();
  for (const r of rows) {
    let list = out.get(r.objectId);
    if (!list) out.set(r.objectId, (list = []));
    list.push({ name: r.name, dueAt: r.dueAt, kind: r.kind as TimerKind });
  }
  for (const list of out.values()) list.sort((a, b) => a.dueAt - b.dueAt || a.name.localeCompare(b.name));
  return out;
}

function toObject(r: ObjectRow, timers: Timer[]): ObjectRecord {
  return {
    id: r.id,
    policy: r.policy,
    state: r.state as LifecycleState,
    stateSince: r.stateSince,
    wokeAt: r.wokeAt,
    memory: JSON.parse(r.memory) as JsonObject,
    memoryVersion: r.memoryVersion,
    substrate: {
      driver: r.driver,
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

function toAction(r: ActionRow): ActionRecord {
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
