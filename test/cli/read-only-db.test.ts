// `vigil replay` and `vigil simulate --db` read a database that a server may be running on: they
// never create, migrate or write it, and a database with another schema is refused by name.

import { createClient } from "@libsql/client";
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterAll, describe, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { captureBoth, vigil } from "./harness.ts";
import { runSimulate } from "../../src/cli/simulate.ts";
import { LibsqlStore, MIGRATIONS_DIR } from "../../src/storage/libsql-store.ts";
import { currentSchemaStamp, schemaStamp } from "../../src/storage/schema-stamp.ts";
import { makeServices } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-read-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const POLICY = "rules/queue-worker.json";

const run = captureBoth;

/** A database migrated by all but the newest migration: what an older Vigil left. */
async function olderDatabase(file: string): Promise<number> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta/_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  const older = join(dir, "older-migrations");
  mkdirSync(join(older, "meta"), { recursive: true });
  const kept = journal.entries.slice(0, -1);
  for (const e of kept) copyFileSync(join(MIGRATIONS_DIR, `${e.tag}.sql`), join(older, `${e.tag}.sql`));
  writeFileSync(join(older, "meta/_journal.json"), JSON.stringify({ ...journal, entries: kept }));
  const client = createClient({ url: `file:${file}` });
  await migrate(drizzle(client), { migrationsFolder: older });
  const stamp = await schemaStamp(client);
  client.close();
  return stamp!;
}

describe.each([
  ["vigil replay", (url: string) => run(runReplay, ["--object", "w", "--db", url, POLICY]), "vigil replay: "],
  [
    "vigil simulate --db",
    (url: string) => run(runSimulate, ["--policy", "queue-worker", "--db", url, "--object", "w"]),
    "vigil simulate: ",
  ],
])("%s", (_name, command, prefix) => {
  test("a database migrated by an older Vigil is refused, exit 2, and left as it was", async () => {
    const file = join(dir, `older-${prefix.length}.db`);
    const stamp = await olderDatabase(file);
    expect(stamp).toBeLessThan(currentSchemaStamp());
    const size = statSync(file).size;
    const r = await command(`file:${file}`);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe(
      `${prefix}file:${file}: its schema is older than this Vigil's: run \`vigil serve\` on it once to upgrade it\n`,
    );
    const client = createClient({ url: `file:${file}` });
    expect(await schemaStamp(client)).toBe(stamp);
    client.close();
    expect(statSync(file).size).toBe(size);
  });

  test("a SQLite file that is not Vigil's is refused, exit 2, and gets no tables", async () => {
    const file = join(dir, `other-${prefix.length}.db`);
    const client = createClient({ url: `file:${file}` });
    await client.execute("CREATE TABLE notes (body TEXT)");
    const r = await command(`file:${file}`);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe(`${prefix}file:${file}: not a Vigil database (it has no Vigil schema)\n`);
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    expect(tables.rows.map((t) => t.name)).toEqual(["notes"]);
    client.close();
  });

  test("a copy of a live database without its -wal file is said to be one; with it, it is read", async () => {
    const live = join(dir, `live-${prefix.length}.db`);
    const s = await makeServices({ store: new LibsqlStore({ url: `file:${live}` }) });
    try {
      await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 1 } } });
      // The server is running: its writes, the schema included, are in live.db-wal so far.
      expect(existsSync(`${live}-wal`)).toBe(true);
      const copy = join(dir, `copy-${prefix.length}.db`);
      copyFileSync(live, copy);
      const alone = await command(`file:${copy}`);
      expect(alone).toMatchObject({ code: 2, out: "" });
      expect(alone.err).toBe(
        `${prefix}file:${copy}: not a Vigil database (it has no Vigil schema); it is a WAL-mode database ` +
          `with no copy-${prefix.length}.db-wal beside it, which holds its latest writes: copy the -wal file with it\n`,
      );
      // Copied with its -wal (to a new name, as the copy just read is still known to this process).
      const whole = join(dir, `whole-${prefix.length}.db`);
      copyFileSync(live, whole);
      copyFileSync(`${live}-wal`, `${whole}-wal`);
      const both = await command(`file:${whole}`);
      expect(both.err).toBe("");
      expect(both.code).toBe(0);
    } finally {
      await s.close();
    }
  });

  test("a file that is not a database is refused by name, exit 2, and left as it was", async () => {
    const file = join(dir, `text-${prefix.length}.db`);
    writeFileSync(file, "not a database, but long enough to be read as one: ".repeat(200));
    const before = readFileSync(file, "utf8");
    const r = await command(`file:${file}`);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toMatch(new RegExp(`^${prefix}file:${file}: cannot be read: .*not a database`));
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  test("a database file that is not there is refused, exit 2, and not created", async () => {
    const file = join(dir, `missing-${prefix.length}.db`);
    const r = await command(`file:${file}`);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe(`${prefix}no database at file:${file}\n`);
    expect(existsSync(file)).toBe(false);
  });

  test("a current database is read", async () => {
    const file = join(dir, `current-${prefix.length}.db`);
    const s = await makeServices({ store: new LibsqlStore({ url: `file:${file}` }) });
    await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 1 } } });
    await s.advance(60_000);
    await s.close();
    const r = await command(`file:${file}`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).not.toBe("");
  });
});

// The last connection to a WAL database checkpoints as it closes (folds the -wal into the main
// file and deletes it) unless it only reads. The native connections close as the process ends,
// so this is run by the binary, as an operator runs it.
describe.each([
  ["vigil replay", (url: string) => ["replay", "--object", "w", "--db", url, POLICY]],
  ["vigil simulate --db", (url: string) => ["simulate", "--policy", "queue-worker", "--db", url, "--object", "w"]],
])("%s, the binary", (name, args) => {
  test("a killed server's database and its -wal are read and left as they were", async () => {
    const live = join(dir, `killed-live-${name.length}.db`);
    const file = join(dir, `killed-${name.length}.db`);
    const s = await makeServices({ store: new LibsqlStore({ url: `file:${live}` }) });
    try {
      await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 1 } } });
      await s.advance(60_000);
      // What a server killed now leaves: its writes, the schema's too, in the -wal file.
      copyFileSync(live, file);
      copyFileSync(`${live}-wal`, `${file}-wal`);
    } finally {
      await s.close();
    }
    const main = readFileSync(file);
    const wal = readFileSync(`${file}-wal`);
    expect(wal.length).toBeGreaterThan(0);
    const r = await vigil(args(`file:${file}`));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(file).equals(main)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(readFileSync(`${file}-wal`).equals(wal)).toBe(true);
  });
});

/**
 * `vigil ARGS` as a process that may not write to a directory it lacks the permission for: root
 * (which may, whatever the modes) without its capabilities to override them, anyone else as is.
 */
function withoutOverride(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const command =
    process.getuid?.() === 0
      ? ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", process.execPath, "bin/vigil.js"]
      : [process.execPath, "bin/vigil.js"];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

// SQLite reads a WAL-mode database through a -shm index beside it, which it makes when there is
// none: in a directory it cannot write (a backup on a read-only mount, another user's directory),
// a stopped server's database file alone was "cannot be read: SQLITE_READONLY: attempt to write a
// readonly database", and with a -wal beside it "SQLITE_CANTOPEN: unable to open database file".
describe.each([
  ["vigil replay", (url: string) => ["replay", "--object", "w", "--db", url, POLICY]],
  ["vigil simulate --db", (url: string) => ["simulate", "--policy", "queue-worker", "--db", url, "--object", "w"]],
])("%s, in a directory it cannot write", (name, args) => {
  test("a stopped server's database file is read, and nothing is made beside it; one with a -wal is said why not", async () => {
    const live = join(dir, `stopped-live-${name.length}.db`);
    const ro = join(dir, `read-only-${name.length}`);
    mkdirSync(ro);
    const file = join(ro, "vigil.db");
    const s = await makeServices({ store: new LibsqlStore({ url: `file:${live}` }) });
    try {
      await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 1 } } });
      await s.advance(60_000);
      // What a killed server leaves, its writes in the -wal.
      copyFileSync(live, join(ro, "killed.db"));
      copyFileSync(`${live}-wal`, join(ro, "killed.db-wal"));
    } finally {
      await s.close();
    }
    // Stopped, the database is whole in its main file (the writer's checkpoint at close), and the
    // -wal beside it, if copied too, empty.
    copyFileSync(live, file);
    copyFileSync(live, join(ro, "clean.db"));
    writeFileSync(join(ro, "clean.db-wal"), "");
    chmodSync(ro, 0o555);
    try {
      const r = await withoutOverride(args(`file:${file}`));
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).not.toBe("");
      const clean = await withoutOverride(args(`file:${join(ro, "clean.db")}`));
      expect({ code: clean.code, err: clean.err }).toEqual({ code: 0, err: "" });
      expect(readdirSync(ro).sort()).toEqual(["clean.db", "clean.db-wal", "killed.db", "killed.db-wal", "vigil.db"]);
      // A -wal beside it needs an index to be read: said so, not SQLite's words.
      const killed = join(ro, "killed.db");
      const w = await withoutOverride(args(`file:${killed}`));
      expect(w).toMatchObject({ code: 2, out: "" });
      expect(w.err).toContain(
        `file:${killed}: cannot be read: it is a WAL-mode database, and SQLite reads one with its -wal only through a killed.db-shm index file it can use, which it cannot make in ${ro} (not writable): copy the database with its -wal to a directory you can write\n`,
      );
    } finally {
      chmodSync(ro, 0o755);
    }
  });
});
