// The bench's WAL page count (bench/wal-pages.ts) against a database whose writes are known:
// five transactions into one table with one index.

import Database from "libsql";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { readWal, walPages, walPagesLine } from "../../bench/wal-pages.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function database(): { path: string; db: Database.Database } {
  dir = mkdtempSync(join(tmpdir(), "vigil-wal-"));
  const path = join(dir, "w.db");
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  db.exec("CREATE INDEX t_v ON t (v)");
  return { path, db };
}

/** Five transactions of `rows` rows each, with values spread over the index. */
function writeFive(db: Database.Database, rows: number): number {
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let tx = 0; tx < 5; tx++) {
    db.exec("BEGIN");
    for (let i = 0; i < rows; i++) insert.run([`${(i * 7919) % 1000}-${tx}-${"x".repeat(200)}`]);
    db.exec("COMMIT");
  }
  return 5 * rows;
}

describe("walPages", () => {
  test("counts the commits made while it watched, and the trees their pages belong to", async () => {
    const { path, db } = database();
    writeFive(db, 10); // history before the watch is not counted
    const w = await walPages(path, async () => writeFive(db, 40));
    db.close();
    expect(w.arrivals).toBe(200);
    expect(w.commits).toBe(5);
    const trees = new Map(w.byTree);
    // 200 rows of ~210 bytes fill about ten pages of each tree; every commit rewrites the
    // last page of the table and the index pages its values land in.
    expect(trees.get("t")).toBeGreaterThanOrEqual(10);
    expect(trees.get("t_v")).toBeGreaterThanOrEqual(10);
    expect([...trees.keys()].every((k) => ["t", "t_v", "sqlite_schema", "(freed since)"].includes(k))).toBe(true);
    expect(w.pages).toBe(w.byTree.reduce((s, [, n]) => s + n, 0));
    expect(walPagesLine(w)).toMatch(/^\d+\.\d\d pages an arrival \(\d+ a commit, 40\.0 arrivals a commit\): /);
  });

  test("counts the commits when the WAL had been copied back whole and starts over under the reader", async () => {
    const { path, db } = database();
    writeFive(db, 10);
    db.exec("PRAGMA wal_checkpoint(FULL)");
    const w = await walPages(path, async () => writeFive(db, 40));
    db.close();
    expect(w.commits).toBe(5);
    expect(w.arrivals).toBe(200);
    expect(new Map(w.byTree).get("t")).toBeGreaterThanOrEqual(10);
  });

  test("reads from a frame on, and counts nothing after the last commit", () => {
    const { path, db } = database();
    writeFive(db, 5);
    const all = readWal(`${path}-wal`);
    // The schema's own two commits, then the five.
    expect(all.commits).toBe(7);
    expect(all.position.frames).toBe(all.pages.length);
    const last = readWal(`${path}-wal`, all.position.frames);
    expect(last.commits).toBe(0);
    expect(last.pages).toEqual([]);
    db.close();
  });

  test("stops at the frames an earlier generation left when the WAL restarted", () => {
    const { path, db } = database();
    writeFive(db, 20);
    const before = readWal(`${path}-wal`);
    db.exec("PRAGMA wal_checkpoint(FULL)"); // everything copied back: the next write restarts the WAL
    db.prepare("INSERT INTO t (v) VALUES (?)").run(["after"]);
    const after = readWal(`${path}-wal`);
    db.close();
    expect(after.position.salt1).not.toBe(before.position.salt1);
    expect(after.commits).toBe(1);
    expect(after.pages.length).toBeLessThan(before.pages.length);
  });

  test("names each page by the tree it belongs to: five updates of a one-page table are five of its pages", async () => {
    const { path, db } = database();
    db.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    db.exec("INSERT INTO b (v) VALUES ('x')");
    writeFive(db, 40); // table t and its index span many pages around b's one
    const update = db.prepare("UPDATE b SET v = ? WHERE id = 1");
    const w = await walPages(path, async () => {
      for (let i = 0; i < 5; i++) update.run([`v${i}`]);
      return 5;
    });
    db.close();
    expect(w.commits).toBe(5);
    expect(w.byTree).toEqual([["b", 5]]);
  });

  test("counts no page of a transaction not yet committed (a spilled cache writes frames early)", () => {
    const { path, db } = database();
    writeFive(db, 20);
    const committed = readWal(`${path}-wal`);
    const size = statSync(`${path}-wal`).size;
    db.exec("PRAGMA cache_size = 2");
    db.exec("BEGIN");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 400; i++) insert.run([`spill-${i}-${"z".repeat(200)}`]);
    const open = readWal(`${path}-wal`);
    const spilled = statSync(`${path}-wal`).size - size;
    db.exec("ROLLBACK");
    db.close();
    expect(spilled).toBeGreaterThan(0);
    expect(open.commits).toBe(committed.commits);
    expect(open.pages).toEqual(committed.pages);
  });
});
