// The writer thread of a file database: writes sent together may share a transaction, but each
// resolves only once durable, a bad one fails alone, and order is kept.

import Database from "libsql";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LEASE_LOST, threadWriter, WriteError, type SqlWriter } from "../../src/storage/sql-writer.ts";

let dir: string;
let path: string;
let writer: SqlWriter;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-writer-"));
  path = join(dir, "w.db");
  writer = await threadWriter(path);
  await writer.write([{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)", args: [] }]);
});
afterEach(async () => {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Whether a thread of this process sleeps in a nanosleep, as SQLite's busy handler does between
 * its tries for a lock (a thread of Node's or libsql's otherwise waits in epoll or on a futex).
 */
function busyWaiting(): boolean {
  return readdirSync("/proc/self/task").some((tid) => {
    try {
      return /nanosleep/.test(readFileSync(`/proc/self/task/${tid}/wchan`, "utf8"));
    } catch {
      return false;
    }
  });
}

/** Whether /proc shows where this process's threads wait (a symbol, not 0, for one of them at least). */
function wchanShown(): boolean {
  return readdirSync("/proc/self/task").some((tid) => {
    try {
      return /^[a-z_]/.test(readFileSync(`/proc/self/task/${tid}/wchan`, "utf8"));
    } catch {
      return false;
    }
  });
}

/**
 * After a write of the writer's, another WAL database moved over the path alone (the writer's
 * -wal and -shm left there) and a connection to it that commits a row: that connection, and
 * what it reads as committed.
 */
async function anotherFileCommitted(): Promise<{ next: InstanceType<typeof Database>; committed: unknown[] }> {
  await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'old')", args: [] }]);
  const other = new Database(join(dir, "other.db"));
  other.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  other.close();
  renameSync(join(dir, "other.db"), path);
  const next = new Database(path);
  next.exec("INSERT INTO t (id, v) VALUES (2, 'next')");
  const committed = next.prepare("SELECT id, v FROM t ORDER BY id").all();
  expect(committed).toContainEqual({ id: 2, v: "next" });
  return { next, committed };
}

const rows = () => new Database(path).prepare("SELECT id, v FROM t ORDER BY id").all() as { id: number; v: string }[];

describe("the writer thread", () => {
  test("writes sent at once are joined into fewer transactions, each durable when it resolves", async () => {
    const before = { ...writer.stats };
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writer.write([{ sql: "INSERT INTO t (id, v) VALUES (?, ?)", args: [i, `v${i}`] }]),
      ),
    );
    expect(writer.stats.writes - before.writes).toBe(200);
    expect(writer.stats.transactions - before.transactions).toBeLessThan(200);
    expect(rows()).toHaveLength(200);
  });

  test("a bad write among joined ones fails alone, with the database's code; the rest commit", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        writer.write([
          // Write 25 breaks NOT NULL, with a good row before it in the same transaction.
          { sql: "INSERT INTO t (id, v) VALUES (?, ?)", args: [1000 + i, "ok"] },
          { sql: "INSERT INTO t (id, v) VALUES (?, ?)", args: [i, i === 25 ? null : `v${i}`] },
        ]),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    expect(failed).toEqual([25]);
    const reason = (results[25] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(WriteError);
    expect((reason as WriteError).code).toMatch(/CONSTRAINT/);
    const ids = rows().map((r) => r.id);
    expect(ids).toHaveLength(98);
    // Nothing of the failed write is kept, not even its first statement.
    expect(ids).not.toContain(1025);
    expect(ids).not.toContain(25);
  });

  test("keeps the order writes were sent in", async () => {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        writer.write([
          i === 0
            ? { sql: "INSERT INTO t (id, v) VALUES (1, ?)", args: ["0"] }
            : { sql: "UPDATE t SET v = v || ',' || ? WHERE id = 1", args: [String(i)] },
        ]),
      ),
    );
    expect(rows()[0]!.v).toBe(Array.from({ length: 100 }, (_, i) => i).join(","));
  });

  test("a write made under a lease goes in only while the lease row names its owner; the rest of its group commit", async () => {
    await writer.write([
      { sql: "CREATE TABLE lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL)", args: [] },
      { sql: "INSERT INTO lease (name, owner) VALUES ('g', 'a')", args: [] },
    ]);
    const insert = (id: number) => [{ sql: "INSERT INTO t (id, v) VALUES (?, ?)", args: [id, "x"] }];
    const results = await Promise.allSettled([
      writer.write(insert(1), { name: "g", owner: "a" }),
      writer.write(insert(2), { name: "g", owner: "b" }), // another owner's: refused
      writer.write(insert(3)), // no lease: not checked
      writer.write(insert(4), { name: "other", owner: "a" }), // no such lease row: refused
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    for (const i of [1, 3]) {
      const reason = (results[i] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(WriteError);
      expect((reason as WriteError).code).toBe(LEASE_LOST);
    }
    expect(rows().map((r) => r.id)).toEqual([1, 3]);
  });

  // SQLite in WAL mode goes on writing to a file removed under it, and says nothing: every write
  // was acknowledged into a file no one would open again.
  test.each([
    ["removed", () => rmSync(path)],
    ["replaced", () => renameSync(join(dir, "other.db"), path)],
  ])(
    "a write to a database file %s since it was opened is refused, with SQLITE_READONLY_DBMOVED",
    async (_how, change) => {
      new Database(join(dir, "other.db")).close();
      await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
      change();
      const refused = await writer
        .write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'after')", args: [] }])
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WriteError);
      expect(refused).toMatchObject({
        code: "SQLITE_READONLY_DBMOVED",
        message: `the database file ${path} was removed or replaced since this server opened it: nothing written now would be read again; restart the server`,
      });
    },
  );

  // A backup restored over the running file (and the file it opened moved away): the log at the
  // path still held the writer's frames, pages of the file it opened. The next connection to the
  // path read them over the restored file, and its close copied them into it: the restore undone.
  test("a database file replaced since it was opened: its log is emptied into it, not read over the new file", async () => {
    await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
    const backup = join(dir, "backup.db");
    const copier = new Database(path);
    copier.exec(`VACUUM INTO '${backup}'`);
    copier.close();
    await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'after the backup')", args: [] }]);
    const moved = join(dir, "moved.db");
    renameSync(path, moved);
    renameSync(backup, path);
    await expect(
      writer.write([{ sql: "INSERT INTO t (id, v) VALUES (3, 'refused')", args: [] }]),
    ).rejects.toMatchObject({
      code: "SQLITE_READONLY_DBMOVED",
    });
    // The restored file, as the next server opens it (beside the log and index at the path).
    expect(rows()).toEqual([{ id: 1, v: "before" }]);
    // The file the writer opened, moved away alone, holds every write it acknowledged.
    expect(new Database(moved).prepare("SELECT id, v FROM t ORDER BY id").all()).toEqual([
      { id: 1, v: "before" },
      { id: 2, v: "after the backup" },
    ]);
  });

  // The file is checked before the transaction begins, but BEGIN IMMEDIATE may then wait up to the
  // busy timeout (5 s) for another connection's lock: a file replaced meanwhile still got the
  // write, into the file no one would open again, acknowledged.
  // Capability probe: the test sees the wait in /proc's wchan, which some kernels show as 0.
  test.skipIf(!wchanShown())(
    "a database file replaced while the write waits for another connection's lock is not written",
    async () => {
      await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
      new Database(join(dir, "other.db")).close();
      const holder = new Database(path);
      holder.exec("BEGIN IMMEDIATE");
      const write = writer.write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'waited')", args: [] }]).then(
        () => "written",
        (e: unknown) => e,
      );
      // The writer thread is past its check once it sleeps in SQLite's busy handler.
      await expect.poll(busyWaiting).toBe(true);
      renameSync(join(dir, "other.db"), path);
      holder.exec("ROLLBACK");
      holder.close();
      expect(await write).toMatchObject({
        code: "SQLITE_READONLY_DBMOVED",
        message: `the database file ${path} was removed or replaced since this server opened it: nothing written now would be read again; restart the server`,
      });
    },
  );

  // A file moved over the path alone (its -wal and -shm left there) is opened with them by the
  // next program, a server started on it say: the writer's close checkpointed that log into the
  // file it had opened, no one's now, and emptied it, so that program's commits were gone.
  test("a writer closed once another file is at the path leaves the log there to the program using it", async () => {
    const { next, committed } = await anotherFileCommitted();
    await writer.close();
    expect(next.prepare("SELECT id, v FROM t ORDER BY id").all()).toEqual(committed);
    next.close();
    expect(rows()).toEqual(committed);
  });

  // The same log, at the first write refused once another file is at the path: the checkpoint that
  // empties the writer's frames out of the log at the path (into the file it opened) must not
  // take what the program now using that log committed there to the new file.
  test("a write refused once another file is at the path leaves that program's commits in its log", async () => {
    const { next, committed } = await anotherFileCommitted();
    await expect(
      writer.write([{ sql: "INSERT INTO t (id, v) VALUES (3, 'refused')", args: [] }]),
    ).rejects.toMatchObject({ code: "SQLITE_READONLY_DBMOVED" });
    expect(next.prepare("SELECT id, v FROM t ORDER BY id").all()).toEqual(committed);
    next.close();
    expect(rows()).toEqual(committed);
  });

  // The write-ahead log removed (a clean-up of "stray" files): SQLite goes on writing to the log
  // it opened, which no one would read again. Every write since the last checkpoint, those
  // acknowledged before the removal too, was lost at the next start (a kill -9, a crash).
  test("a write after the WAL was removed is refused, and what was committed before is copied into the database file", async () => {
    await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
    rmSync(`${path}-wal`);
    const refused = await writer
      .write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'after')", args: [] }])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WriteError);
    expect(refused).toMatchObject({
      code: "SQLITE_READONLY_DBMOVED",
      message: `the database's write-ahead log ${path}-wal was removed or replaced since this server opened it: what was committed before is kept in ${path}, and nothing written now would be read again; restart the server`,
    });
    // The main file alone, as a start after a kill -9 reads it now (the log is gone): the write
    // acknowledged before the removal is in it, and the refused one is not.
    const copy = join(dir, "copy.db");
    copyFileSync(path, copy);
    expect(new Database(copy).prepare("SELECT id, v FROM t ORDER BY id").all()).toEqual([{ id: 1, v: "before" }]);
    // And it stays refused: nothing goes into a log no one reads.
    await expect(writer.write([{ sql: "INSERT INTO t (id, v) VALUES (3, 'later')", args: [] }])).rejects.toMatchObject({
      code: "SQLITE_READONLY_DBMOVED",
    });
  });

  // A path that is a symbolic link (/var/lib/vigil/vigil.db to a file on another disk): SQLite
  // keeps the log beside the file the link names, not beside the link, so the log looked for at
  // the link's path was never there, and a write after the log was removed was acknowledged into
  // a log no one would read again, lost at the next start.
  test("a database opened through a symbolic link: a write after its log was removed is refused", async () => {
    const link = join(dir, "link.db");
    symlinkSync(path, link);
    const linked = await threadWriter(link);
    try {
      await linked.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
      rmSync(`${path}-wal`);
      await expect(
        linked.write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'after')", args: [] }]),
      ).rejects.toMatchObject({
        code: "SQLITE_READONLY_DBMOVED",
        message: expect.stringContaining(`the database's write-ahead log ${path}-wal was removed or replaced`),
      });
    } finally {
      await linked.close();
    }
  });

  // A reader in a transaction (another connection of the server, a sqlite3 shell) keeps the
  // checkpoint from emptying the log after it has copied every frame: that copy is the rescue.
  test("with a reader in a transaction, the log removed is still copied, and the refusal says so", async () => {
    await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'before')", args: [] }]);
    const reader = new Database(path);
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM t").get();
    rmSync(`${path}-wal`);
    const refused = await writer
      .write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'after')", args: [] }])
      .catch((e: unknown) => e);
    reader.exec("COMMIT");
    reader.close();
    expect((refused as WriteError).message).toContain(`what was committed before is kept in ${path}`);
    const copy = join(dir, "copy.db");
    copyFileSync(path, copy);
    expect(new Database(copy).prepare("SELECT id, v FROM t ORDER BY id").all()).toEqual([{ id: 1, v: "before" }]);
  });

  // While a reader holds back the copy of a removed log, each try of it waits out the busy timeout
  // (5 s). A group refused so was tried again one write at a time, each refused after another
  // try: a group of 64 waited more than 5 minutes for its 503s, and the lease's renewals behind it.
  // Capability probe: as above.
  test.skipIf(!wchanShown())(
    "writes joined while the log cannot be copied are refused together, after one try",
    async () => {
      await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (1, 'seen')", args: [] }]);
      const reader = new Database(path);
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM t").get();
      // Committed after the reader's snapshot: no checkpoint copies it while the reader holds it.
      await writer.write([{ sql: "INSERT INTO t (id, v) VALUES (2, 'unseen')", args: [] }]);
      rmSync(`${path}-wal`);
      const settled: number[] = [];
      const send = (id: number) =>
        writer.write([{ sql: "INSERT INTO t (id, v) VALUES (?, 'after')", args: [id] }]).then(
          () => settled.push(id),
          () => settled.push(id),
        );
      const first = send(3);
      // The writer thread is in the checkpoint's busy wait: the next two queue up and are joined.
      await expect.poll(busyWaiting).toBe(true);
      const joined = [send(4), send(5)];
      await first;
      await Promise.race(joined);
      // Refused together, the other's reply follows at once, the writer idle; tried alone, the
      // writer is back in the busy wait (another 5 s) with it still unanswered.
      await expect.poll(() => settled.length === 3 || busyWaiting()).toBe(true);
      reader.exec("COMMIT");
      reader.close();
      expect(settled).toEqual([3, 4, 5]);
      await Promise.all(joined);
    },
  );
});
