// Start-up's words for a database file that cannot be written (storage/file-failure.ts), from
// the errors a real file throws when it cannot grow: libsql's own, and drizzle's wrapper of it
// (a migration's query). SQLite's "database or disk is full" named neither the file nor what to do.

import { createClient } from "@libsql/client";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { databaseStartError } from "../../src/storage/remote.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-file-failure-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a write throws on a file held to its present pages (max_page_count): SQLITE_FULL. */
async function fullError(file: string, wrapped: boolean): Promise<unknown> {
  const client = createClient({ url: `file:${file}` });
  try {
    await client.execute("CREATE TABLE t (v TEXT)");
    await client.execute("PRAGMA max_page_count = 2");
    const insert = "INSERT INTO t VALUES (zeroblob(100000))";
    await (wrapped ? drizzle(client).run(sql.raw(insert)) : client.execute(insert));
  } catch (e) {
    return e;
  } finally {
    client.close();
  }
  throw new Error("the write went in");
}

test.each([
  ["libsql's error", false],
  ["drizzle's wrapper of it", true],
])("a full file is a start-up failure naming the file and what to do: %s", async (_what, wrapped) => {
  const file = join(dir, `full-${String(wrapped)}.db`);
  const wrong = databaseStartError(await fullError(file, wrapped), `file:${file}`, `file:${file}`);
  expect(wrong).toEqual({
    failed: `cannot write the database ${file} (SQLITE_FULL): the disk is full: free space on its file system (the file and its -wal grow there), or set VIGIL_DB_URL to a file on another disk`,
  });
});

test("an error that is not the file's (a bad query) is left as it is", async () => {
  const file = join(dir, "other.db");
  const client = createClient({ url: `file:${file}` });
  const e = await client.execute("SELECT * FROM missing").catch((e: unknown) => e);
  client.close();
  expect(databaseStartError(e, `file:${file}`, `file:${file}`)).toBeNull();
});
