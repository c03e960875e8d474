// VIGIL_DB_URL naming another program's SQLite database: start-up used to migrate into it (Vigil's
// tables made beside the program's, the file switched to WAL for good), or, where a table had a
// name of Vigil's, fail half-way and leave `__drizzle_migrations` behind. It is refused now before
// anything is written (exit 2, the variable named) and the file is left byte for byte as it was;
// an empty database and Vigil's own still start.

import { createClient } from "@libsql/client";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { currentSchemaStamp } from "../../src/storage/schema-stamp.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-foreign-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const serve = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ["bin/vigil.js", "serve", ...args], {
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", ...env },
    timeout: 30_000,
  });

/** A database file made by "another program" with `statements`, in SQLite's default journal mode. */
async function foreign(name: string, statements: string[]): Promise<string> {
  const path = join(dir, name);
  const c = createClient({ url: `file:${path}` });
  for (const sql of statements) await c.execute(sql);
  c.close();
  return path;
}

async function journalMode(path: string): Promise<string> {
  const c = createClient({ url: `file:${path}` });
  try {
    return String((await c.execute("PRAGMA journal_mode")).rows[0]!.journal_mode);
  } finally {
    c.close();
  }
}

test.each([
  [
    "a table of its own",
    ["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users VALUES (1, 'ada')"],
  ],
  ["a table named as one of Vigil's", ["CREATE TABLE objects (id TEXT)"]],
  [
    "drizzle's migrations table, of another program",
    [
      "CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)",
      "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('theirs', 1700000000000)",
      "CREATE TABLE orders (id INTEGER PRIMARY KEY)",
    ],
  ],
])("a database with %s is refused, exit 2 naming VIGIL_DB_URL, and left untouched", async (what, statements) => {
  const path = await foreign(`${what.replace(/\W+/g, "-")}.db`, statements);
  const before = readFileSync(path);
  const r = serve([], { VIGIL_DB_URL: `file:${path}` });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`VIGIL_DB_URL: file:${path}: it is not a Vigil database (it has tables of its own:`);
  expect(readFileSync(path).equals(before)).toBe(true);
  expect(existsSync(`${path}-wal`)).toBe(false);
  expect(await journalMode(path)).toBe("delete");
});

test("given with --db, the refusal names --db", async () => {
  const path = await foreign("flag.db", ["CREATE TABLE users (id INTEGER PRIMARY KEY)"]);
  const before = readFileSync(path);
  const r = serve(["--db", `file:${path}`], {});
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`--db: file:${path}: it is not a Vigil database`);
  expect(readFileSync(path).equals(before)).toBe(true);
});

// The refusal of a database a newer Vigil migrated said nothing of which database it was.
test("a newer Vigil's database is refused, exit 1 naming VIGIL_DB_URL and the file, and left untouched", async () => {
  const path = join(dir, "newer.db");
  const store = new LibsqlStore({ url: `file:${path}` });
  await store.migrate();
  await store.close();
  // What a newer Vigil leaves: one more migration applied, stamped after ours.
  const c = createClient({ url: `file:${path}` });
  await c.execute({
    sql: "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('from-a-newer-vigil', ?)",
    args: [currentSchemaStamp() + 86_400_000],
  });
  c.close();
  const before = readFileSync(path);
  const r = serve([], { VIGIL_DB_URL: `file:${path}`, VIGIL_LOG_LEVEL: "silent" });
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(
    `vigil serve: cannot start: VIGIL_DB_URL: file:${path}: the database's schema is newer than this Vigil's: serve it with the Vigil that wrote it, or a newer one\n`,
  );
  expect(readFileSync(path).equals(before)).toBe(true);
});

/** Starts `vigil serve` on `path`; resolves true once it listens (then stops it), false if it exits first. */
function listensOn(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/vigil.js", "serve"], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: `file:${path}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes('"msg":"listening"')) child.kill("SIGTERM");
    });
    child.once("exit", () => resolve(log.includes('"msg":"listening"')));
  });
}

test("an empty file, then Vigil's own database (a second start), are served", async () => {
  const path = join(dir, "empty.db");
  writeFileSync(path, "");
  expect(await listensOn(path)).toBe(true);
  expect(await listensOn(path)).toBe(true);
  expect(await journalMode(path)).toBe("wal");
});
