// The durable store: drizzle-orm over libsql (an embedded file, `:memory:`, or a remote libsql
// server). Each `commit` is one transaction for any number of arrivals. Reads run on the
// store's connection; every write goes through one writer (sql-writer.ts): for a file, a thread
// with its own connection, so that the main thread is not blocked while a commit reaches disk.
// The file is past 400 lines because it is the whole Store interface over that pair of
// connections, each method a query or two; the SQL of the hot paths, the row encodings and the
// writer already live in modules of their own (commit-sql.ts, rows.ts, sql-writer.ts, decision-codec.ts).

import type { Client } from "@libsql/client";
import { and, asc, desc, eq, gt, inArray, lt, type SQL } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import type { JournalEntry, LifecycleSeed } from "../core/journal.ts";
import type {
  ActionRecord,
  ActionUpdate,
  CommitBatch,
  DueTimer,
  IdempotencyRecord,
  LeaseHolder,
  ObjectCount,
  ObjectQuery,
  PolicySource,
  Store,
} from "../core/store.ts";
import type { ActionStatus, Decision, JsonObject, ObjectRecord, TimerKind } from "../core/types.ts";
import { leaseLost } from "../core/errors.ts";
import { actionUpdateStatements, commitStatements, leaseClaimStatement } from "./commit-sql.ts";
import { deleteObjectInBatches, finishDeletions } from "./deletion.ts";
import {
  filePath,
  objectFromSql,
  OBJECT_BY_ID,
  OBJECTS,
  OBJECTS_BY_IDS,
  DUE_TIMERS,
  PointReads,
  toAction,
  type ObjectSqlRow,
} from "./rows.ts";
import { PolicyVersions } from "./policy-versions.ts";
import * as counts from "./counts.ts";
import * as pruning from "./pruning.ts";
import { LibsqlDecisionReads } from "./decision-reads.ts";
import * as t from "./schema.ts";
import { isRemote, openClient } from "./remote.ts";
import { currentSchemaStamp, refuseSchema, schemaStamp } from "./schema-stamp.ts";
import { directWriter, LEASE_LOST, threadWriter, WriteError, type SqlWriter } from "./sql-writer.ts";

/** The index a page of objects is read by, when the caller says which (ObjectQuery.by). */
const LIST_INDEXES = { state: "objects_state", policy: "objects_policy" } as const;

/** The terms of the partial index objects_failed_leftovers (schema.ts, migration 0011). */
const FAILED_WITH_LEFTOVERS = "state = 'failed' AND json_type(observed, '$.leftovers') IS NOT NULL";

/** The one lease row: the server governing this database. */
const LEASE = "governor";
/**
 * The row in the lease's table that records when the last retention run finished (its
 * `renewed_at`; the other columns say nothing), so that a server restarted more often than hourly
 * still prunes (governor/retention.ts).
 */
const RETENTION_MARK = "retention";
/** The row readiness's write probe puts in the lease's table and takes out again (probeWrite). */
const PROBE = "readiness probe";

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

export interface LibsqlOptions {
  url: string;
  authToken?: string;
  /** A file opened read-only (openToRead's callers): it is not written, nor checkpointed at close. */
  readOnly?: boolean;
  /**
   * With readOnly, the file is read as one nothing writes (no lock, no -shm index): only for a
   * WAL-mode file with no -wal beside it in a directory this process cannot write, which SQLite
   * cannot read otherwise (cli/read-db.ts).
   */
  immutable?: boolean;
}

type Db = LibSQLDatabase<typeof t>;

/** Options from a URL and an optional token (a remote libsql server needs one). */
export function libsqlOptions(url: string, authToken?: string): LibsqlOptions {
  return authToken ? { url, authToken } : { url };
}

export class LibsqlStore implements Store {
  readonly client: Client;
  private readonly db: Db;
  private readonly url: string;
  private readonly local: boolean;
  private readonly versions: PolicyVersions;
  readonly history: LibsqlDecisionReads;
  private writer: SqlWriter;
  /**
   * Whether the server still governs the database, by each governor fencing this store
   * (fenceWrites): a write goes through only while every one says so. The lease's own writes skip it.
   */
  private readonly fences: (() => boolean)[] = [];
  /**
   * The lease owner this store's server holds as (kept after another takes it over): the writer
   * thread checks it in each data write's transaction (sql-writer.ts), the loss known or not.
   */
  private leaseOwner: string | null = null;
  /** The writer as the data's writes use it: each asks the fences as it is made. */
  private readonly data: Pick<SqlWriter, "write"> = {
    write: (statements) =>
      this.fences.every((governing) => governing())
        ? this.writer
            .write(statements, this.leaseOwner === null ? undefined : { name: LEASE, owner: this.leaseOwner })
            .catch((e: unknown) => {
              throw e instanceof WriteError && e.code === LEASE_LOST ? leaseLost() : e;
            })
        : Promise.reject(leaseLost()),
  };
  /** Fails the round trips in flight to a remote server at once (start-up stopped by a signal). */
  readonly interrupt: () => void;
  /** Point reads on a file database's own read connection (null: through the client). */
  private points: PointReads | null = null;

  constructor(options: LibsqlOptions) {
    this.url = options.url;
    ({ client: this.client, interrupt: this.interrupt } = openClient(options));
    this.db = drizzle(this.client, { schema: t });
    this.local = !isRemote(options.url);
    // Until a governor says where policy documents are, decisions are stored whole.
    this.versions = new PolicyVersions(this.client, () => null);
    this.history = new LibsqlDecisionReads(this.client, this.versions);
    this.writer = directWriter(this.client);
  }

  async migrate(claim?: () => Promise<void>): Promise<void> {
    // A setting of this connection, not a write: the reads below wait for a writer's lock too.
    if (this.local) await this.client.execute("PRAGMA busy_timeout = 5000");
    // Another program's database, or a newer Vigil's, is refused before anything is written.
    await refuseSchema(this.client);
    if (this.local) {
      // WAL lets readers run beside the writer; FULL makes every commit survive power loss.
      await this.client.execute("PRAGMA journal_mode = WAL");
      await this.client.execute("PRAGMA synchronous = FULL");
    }
    // A file can be opened twice: its writes move to a thread with a connection of its own. It
    // starts before the lease is claimed, whose claims go through it, and whose wait for a holder
    // in another PID namespace (lease.ts outwait) sleeps on the clock's timers, which do not keep
    // the process alive: the thread does.
    const path = filePath(this.url);
    if (path !== null) {
      const previous = this.writer;
      this.writer = await threadWriter(path);
      await previous.close();
    }
    // The lease first where the schema has it (migration 0004 made it): a second server started
    // on a database another one governs was refused only after migrating it, so a newer Vigil
    // started by mistake beside a running one upgraded the schema under it, and the running
    // server could not start again on its own database ("newer than this Vigil's").
    let leased = claim !== undefined && (await hasLeaseTable(this.client));
    if (leased) await claim!();
    try {
      await migrate(this.db, { migrationsFolder: MIGRATIONS_DIR });
    } catch (e) {
      // Two servers started at once on a new file both migrate before the lease can be taken:
      // the second's migration, found due before the first's committed, fails on the tables it
      // made ("table `actions` already exists"). The first's lease is what refuses it.
      if (claim === undefined || leased || !(await hasLeaseTable(this.client))) throw e;
      await claim();
      leased = true;
      await migrate(this.db, { migrationsFolder: MIGRATIONS_DIR });
    }
    if (claim !== undefined && !leased) await claim();
    await this.versions.load();
    if (path !== null) this.points = new PointReads(path);
  }

  /**
   * Opens the database to read only (vigil replay, vigil simulate --db): no migration and no
   * writer thread, so that a server running on the same file is not touched. Returns null, or
   * why the database cannot be read: it has no Vigil schema, or another Vigil's.
   */
  async openToRead(): Promise<string | null> {
    if (this.local) await this.client.execute("PRAGMA busy_timeout = 5000");
    const applied = await schemaStamp(this.client);
    if (applied === null) return "not a Vigil database (it has no Vigil schema)";
    const wanted = currentSchemaStamp();
    if (applied !== wanted)
      return applied < wanted
        ? "its schema is older than this Vigil's: run `vigil serve` on it once to upgrade it"
        : "its schema is newer than this Vigil's: read it with the Vigil that wrote it";
    await this.versions.load();
    return null;
  }

  /** Decisions are stored compactly against the policy version they were taken under. */
  knowPolicies(source: (hash: string) => PolicySource | null): void {
    this.versions.use(source);
  }

  storedPolicy(name: string): Promise<PolicySource | null> {
    return this.versions.lastServed(name);
  }

  async servePolicies(sources: readonly PolicySource[], at: number): Promise<void> {
    const statements = PolicyVersions.served(sources, at);
    if (statements.length > 0) await this.data.write(statements);
  }

  /**
   * One object and its timers in one indexed query. This is the read of every cold object's
   * first arrival and of every creation (is the id new?), so for a file it runs on a
   * connection of the store's own with the statement prepared once: through drizzle and the
   * client, building and preparing the query cost more than the read.
   */
  async getObject(id: string): Promise<ObjectRecord | null> {
    return (await this.objectRows(OBJECT_BY_ID, [id]))[0] ?? null;
  }

  /** The same query for many ids at once (a burst of timers due for cold objects). */
  getObjects(ids: readonly string[]): Promise<ObjectRecord[]> {
    return this.objectRows(OBJECTS_BY_IDS, [JSON.stringify(ids)]);
  }

  private async objectRows(sql: string, args: (string | number)[]): Promise<ObjectRecord[]> {
    return (await this.hotRows(sql, args)).map((r) => objectFromSql(r as unknown as ObjectSqlRow));
  }

  /** Rows of a hot-path read: on the file's read connection, else through the client. */
  private async hotRows(sql: string, args: (string | number)[]): Promise<Record<string, unknown>[]> {
    return this.points ? this.points.all(sql, args) : (await this.client.execute({ sql, args })).rows;
  }

  async commit(batches: CommitBatch[]): Promise<void> {
    const { encode, committed } = this.versions.encoder();
    await this.data.write(commitStatements(batches, encode));
    committed();
  }

  async deleteObject(id: string): Promise<boolean> {
    const [found] = await this.db.select({ id: t.objects.id }).from(t.objects).where(eq(t.objects.id, id));
    if (!found) return false;
    await deleteObjectInBatches(this.client, this.data, id);
    return true;
  }

  finishDeletions(): Promise<void> {
    return finishDeletions(this.client, this.data);
  }

  /** A page in one query, objects and timers (each filter is served by an index, in id order). */
  listObjects(q: ObjectQuery): Promise<ObjectRecord[]> {
    const given = (
      [
        ["state = ?", q.state],
        ["policy = ?", q.policy],
        ["driver = ?", q.driver],
        ["id > ?", q.after],
      ] as const
    ).filter(([, value]) => value !== undefined && value !== "");
    const tests: string[] = given.map(([test]) => test);
    // The partial index's own terms, word for word (a bound state would not match them): only
    // the failed objects with leftovers are read, however many others have failed.
    if (q.failedWithLeftovers) tests.unshift(FAILED_WITH_LEFTOVERS);
    const where = tests.length > 0 ? ` WHERE ${tests.join(" AND ")}` : "";
    // SQLite cannot tell a rare state from a common one; the caller's counts can.
    const by = q.failedWithLeftovers
      ? " INDEXED BY objects_failed_leftovers"
      : q.by && q.state && q.policy
        ? ` INDEXED BY ${LIST_INDEXES[q.by]}`
        : "";
    return this.objectRows(`${OBJECTS}${by}${where} ORDER BY id LIMIT ?`, [...given.map(([, v]) => v!), q.limit]);
  }

  async listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]> {
    return this.decisionPage(objectId, limit, before === undefined ? undefined : lt(t.decisions.id, before), desc);
  }

  async decisionsAfter(objectId: string, limit: number, after?: string): Promise<Decision[]> {
    return this.decisionPage(objectId, limit, after === undefined ? undefined : gt(t.decisions.id, after), asc);
  }

  /** A page of one object's decisions by id (the index decisions_object), from a cursor. */
  private async decisionPage(objectId: string, limit: number, cursor: SQL | undefined, order: typeof asc) {
    const where = and(eq(t.decisions.objectId, objectId), cursor);
    const rows = await this.db.select().from(t.decisions).where(where).orderBy(order(t.decisions.id)).limit(limit);
    return this.withActionStatus(await Promise.all(rows.map((r) => this.versions.decode(r))));
  }

  async getDecision(id: string): Promise<Decision | null> {
    const [row] = await this.db.select().from(t.decisions).where(eq(t.decisions.id, id));
    if (!row) return null;
    const [d] = await this.withActionStatus([await this.versions.decode(row)]);
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

  async getIdempotent(objectId: string, key: string): Promise<IdempotencyRecord | null> {
    const [row] = await this.db
      .select({ fingerprint: t.idempotency.fingerprint, decisionId: t.idempotency.decisionId })
      .from(t.idempotency)
      .where(and(eq(t.idempotency.objectId, objectId), eq(t.idempotency.key, key)));
    return row ? { key, ...row } : null;
  }

  async journal(objectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    const rows = await this.db
      .select()
      .from(t.journal)
      .where(and(eq(t.journal.objectId, objectId), gt(t.journal.seq, afterSeq)))
      .orderBy(asc(t.journal.seq))
      .limit(limit);
    return rows.map((r) => {
      const entry: JournalEntry = {
        seq: r.seq,
        patch: JSON.parse(r.patch) as JsonObject,
        at: r.at,
        kind: r.kind as "patch" | "snapshot",
      };
      if (r.seed) entry.seed = JSON.parse(r.seed) as LifecycleSeed;
      return entry;
    });
  }

  async compactableJournal(before: number, after: string | null, scan: number) {
    return pruning.compactableJournal(this.client, before, after, scan);
  }

  async compactJournal(objectId: string, seq: number, snapshot: JournalEntry): Promise<void> {
    await this.data.write([
      { sql: "DELETE FROM journal WHERE object_id = ? AND seq <= ?", args: [objectId, seq] },
      {
        sql: "INSERT INTO journal (object_id, seq, patch, at, kind, seed) VALUES (?, ?, ?, ?, 'snapshot', ?)",
        args: [
          objectId,
          seq,
          JSON.stringify(snapshot.patch),
          snapshot.at,
          snapshot.seed ? JSON.stringify(snapshot.seed) : null,
        ],
      },
    ]);
  }

  async pendingActions(objectId?: string): Promise<ActionRecord[]> {
    const pending = eq(t.actions.status, "pending");
    const rows = await this.db
      .select()
      .from(t.actions)
      .where(objectId === undefined ? pending : and(pending, eq(t.actions.objectId, objectId)))
      .orderBy(asc(t.actions.id));
    return rows.map(toAction);
  }

  async updateAction(u: ActionUpdate): Promise<void> {
    const { encode, committed } = this.versions.encoder();
    await this.data.write(actionUpdateStatements(u, encode));
    committed();
  }

  /** The due-timer read, exposed so a test can check its query plan uses the due-time index. */
  /** Read on the point-read connection of a file: a burst reads a page of 8,192 per round. */
  async dueTimers(until: number, limit: number): Promise<DueTimer[]> {
    const rows = await this.hotRows(DUE_TIMERS, [until, limit]);
    return rows.map((r) => ({
      objectId: r.object_id as string,
      name: r.name as string,
      dueAt: Number(r.due_at),
      kind: r.kind as TimerKind,
      ...(r.first_due === null || r.first_due === undefined ? {} : { firstDue: Number(r.first_due) }),
    }));
  }

  async timerSpec(objectId: string, name: string): Promise<string | null> {
    const r = await this.client.execute({
      sql: "SELECT spec FROM timers WHERE object_id = ? AND name = ?",
      args: [objectId, name],
    });
    const spec = r.rows[0]?.spec;
    return typeof spec === "string" ? spec : null;
  }

  async nextTimer(): Promise<DueTimer | null> {
    const [next] = await this.dueTimers(Number.MAX_SAFE_INTEGER, 1);
    return next ?? null;
  }

  readonly oldDecisions = (before: number, limit: number, after?: string) =>
    pruning.oldDecisions(this.client, before, limit, after);
  readonly objectsOverDecisionLimit = (keep: number, after: string | null, scan: number) =>
    pruning.objectsOverDecisionLimit(this.client, keep, after, scan);
  readonly decisionBeyond = (objectId: string, keep: number) => pruning.decisionBeyond(this.client, objectId, keep);

  readonly pruneObjectDecisions = (objectId: string, keep: number) =>
    pruning.pruneObjectDecisions(this.client, this.data, objectId, keep);
  readonly pruneActions = (before: number, after: string | null, scan: number) =>
    pruning.pruneActions(this.client, this.data, before, after, scan);
  readonly pruneIdempotency = (before: number, limit: number) =>
    pruning.pruneIdempotency(this.client, this.data, before, limit);

  async retentionRanAt(): Promise<number | null> {
    const [row] = await this.db.select({ at: t.lease.renewedAt }).from(t.lease).where(eq(t.lease.name, RETENTION_MARK));
    return row?.at ?? null;
  }

  async markRetentionRun(at: number): Promise<void> {
    await this.data.write([
      {
        sql: "INSERT INTO lease (name, owner, host, pid, acquired_at, renewed_at, expires_at) VALUES (?, '', '', 0, ?, ?, 0) ON CONFLICT (name) DO UPDATE SET renewed_at = excluded.renewed_at",
        args: [RETENTION_MARK, at, at],
      },
    ]);
  }

  readonly deleteDecisions = (ids: readonly string[]) => pruning.deleteDecisions(this.data, ids);

  async armedSchedules(policy: string): Promise<string | null> {
    const [row] = await this.db.select().from(t.policySchedules).where(eq(t.policySchedules.policy, policy));
    return row?.schedules ?? null;
  }

  async setArmedSchedules(policy: string, schedules: string): Promise<void> {
    await this.data.write([
      {
        sql: "INSERT INTO policy_schedules (policy, schedules) VALUES (?, ?) ON CONFLICT (policy) DO UPDATE SET schedules = excluded.schedules",
        args: [policy, schedules],
      },
    ]);
  }

  /** Why no write can go through any more (the writer thread stopped), or null. */
  writesStopped(): Error | null {
    return this.writer.failed();
  }

  /**
   * A row of 64 KiB in the lease's table, and gone again, in one transaction (which the writer
   * thread may share with commits sent beside it, as it does theirs): it takes new pages as a
   * commit does, so a full disk refuses it (the lease's renewal, an update in place, may still go
   * through), and it leaves the database as it was.
   */
  async probeWrite(): Promise<void> {
    await this.data.write([
      {
        sql: "INSERT INTO lease (name, owner, host, pid, acquired_at, renewed_at, expires_at) VALUES (?, hex(randomblob(32768)), '', 0, 0, 0, 0)",
        args: [PROBE],
      },
      { sql: "DELETE FROM lease WHERE name = ?", args: [PROBE] },
    ]);
  }

  fenceWrites(governing: () => boolean): void {
    if (!this.fences.includes(governing)) this.fences.push(governing);
  }

  async lease(): Promise<LeaseHolder | null> {
    const [row] = await this.db.select().from(t.lease).where(eq(t.lease.name, LEASE));
    if (!row) return null;
    const { name: _name, ...holder } = row;
    return holder;
  }

  async claimLease(claim: LeaseHolder, now: number, replacing?: string): Promise<LeaseHolder | null> {
    await this.writer.write([leaseClaimStatement(LEASE, claim, now, replacing)]);
    const holder = await this.lease();
    // Newly held: policy versions its last holder wrote since migrate() are read (keys go past them).
    if (holder?.owner === claim.owner && this.leaseOwner !== claim.owner)
      await this.versions.load().then(() => (this.leaseOwner = claim.owner));
    return holder;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.writer.write([{ sql: "DELETE FROM lease WHERE name = ? AND owner = ?", args: [LEASE, owner] }]);
    if (this.leaseOwner === owner) this.leaseOwner = null;
  }

  readonly countObjects = (): Promise<ObjectCount[]> => counts.objectCounts(this.client);
  readonly countTimers = (): Promise<number> => counts.timerCount(this.client);
  readonly newestIds = (): Promise<string[]> => counts.newestIds(this.client);

  async close(): Promise<void> {
    this.points?.close();
    this.points = null;
    await this.writer.close();
    this.client.close();
  }
}

/** Whether the database has the lease's table, so that the lease can be taken before migrating. */
async function hasLeaseTable(client: Client): Promise<boolean> {
  const { rows } = await client.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lease'");
  return rows.length > 0;
}
