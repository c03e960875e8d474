// Upgrading: a database written by an older Vigil, opened (and migrated) by this one; and one
// written by a newer Vigil, which this one refuses to serve as it refuses to read it. The dump
// under upgrade/ is of a database a real server of commit bfed3f9 left (`vigil serve` on a file,
// objects created, facts posted, SIGTERM), cut down to one object, q1 (queue-worker), with 4
// decisions. bfed3f9-numbers.sql is another such database, its object q2 holding integers past 2^53.

import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { runSimulate } from "../../src/cli/simulate.ts";
import { Retention } from "../../src/governor/retention.ts";
import { LibsqlStore, MIGRATIONS_DIR } from "../../src/storage/libsql-store.ts";
import { currentSchemaStamp } from "../../src/storage/schema-stamp.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-upgrade-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A file database holding what the Vigil of `commit` left (its schema, stamps and rows). */
async function oldDatabase(commit: string): Promise<string> {
  const url = `file:${join(dir, `old-${commit}-${n++}.db`)}`;
  const client = createClient({ url });
  await client.executeMultiple(readFileSync(new URL(`./upgrade/${commit}.sql`, import.meta.url), "utf8"));
  client.close();
  return url;
}

/** The old rows were written on 2026-12-01 around 22:23 UTC; HEAD takes over a minute later. */
const LATER = Date.parse("2026-12-01T22:30:00Z");

describe("a database from before migration 0003 (Vigil bfed3f9)", () => {
  test("VIGIL_DECISIONS_PER_OBJECT trims an object's decisions written before the upgrade", async () => {
    const url = await oldDatabase("bfed3f9");
    const store = new LibsqlStore({ url });
    await store.migrate();
    expect(await store.listDecisions("q1", 100)).toHaveLength(4);

    // README: "once an hour, an object's decisions beyond its newest N are deleted".
    const retention = new Retention(store, new VirtualClock(LATER), {
      journalMs: null,
      decisionsMs: null,
      decisionsPerObject: 2,
      idempotencyMs: null,
    });
    const report = await retention.runOnce();
    const kept = await store.listDecisions("q1", 100);
    await store.close();
    // Migration 0003 added objects.decision_count as 0 and never counted the rows already there:
    // retention (which looks only at objects whose count is over N) passed q1 over until 0005.
    expect({ objectsTrimmed: report.objectsTrimmed, kept: kept.length }).toEqual({ objectsTrimmed: 1, kept: 2 });
  });
});

describe("a database from before numbers past 2^53 were refused (Vigil bfed3f9)", () => {
  // That Vigil took {"account": 12345678901234567890} at creation and {"job": 9007199254740993}
  // in a fact (JSON.parse read them as ...567000 and ...992, which it stored); this one refuses
  // such a number in a request, but the history holds them.
  test("`vigil replay` and `vigil simulate --db` run over its history", async () => {
    const url = await oldDatabase("bfed3f9-numbers");
    const store = new LibsqlStore({ url });
    await store.migrate(); // as `vigil serve` does at its first start after the upgrade
    await store.close();
    const run = async (command: typeof runReplay, args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await command(
        args,
        (s) => out.push(s),
        (s) => err.push(s),
      );
      return { code, out: out.join(""), err: err.join("") };
    };

    // The same policy as a candidate: nothing differs.
    const replayed = await run(runReplay, ["--object", "q2", "--db", url, join(RULES_DIR, "queue-worker.json")]);
    expect(replayed.err).toBe("");
    expect(replayed).toMatchObject({
      code: 0,
      out: expect.stringContaining("3 recorded decisions, 3 under the candidate, 0 differ"),
    });

    const simulated = await run(runSimulate, [
      "--policy",
      "queue-worker",
      "--db",
      url,
      "--object",
      "q2",
      "--rules",
      RULES_DIR,
      "--json",
    ]);
    expect(simulated.err).toBe("");
    expect(simulated.code).toBe(0);
    expect(JSON.parse(simulated.out).facts).toBe(2);
  });
});

/** A file database migrated by this Vigil's migrations up to `last` (its tag's number) and no further. */
async function migratedUpTo(last: number): Promise<string> {
  const folder = join(dir, `migrations-to-${last}-${n}`);
  cpSync(MIGRATIONS_DIR, folder, { recursive: true });
  const journalFile = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { idx: number }[] };
  journal.entries = journal.entries.filter((e) => e.idx <= last);
  writeFileSync(journalFile, JSON.stringify(journal));
  const url = `file:${join(dir, `to-${last}-${n++}.db`)}`;
  const client = createClient({ url });
  await migrate(drizzle(client), { migrationsFolder: folder });
  return (client.close(), url);
}

describe("a database from before migration 0011", () => {
  test("its failed objects with leftovers are indexed by the upgrade, and reconciliation's read finds them", async () => {
    const url = await migratedUpTo(10);
    // Rows as a Vigil of schema 0010 wrote them: failed objects with and without leftovers.
    const client = createClient({ url });
    const row = (id: string, state: string, observed: string | null) => ({
      sql: `INSERT INTO objects (id, policy, state, state_since, memory, memory_version, driver, driver_config,
              observed, last_fact_at, created_at, updated_at) VALUES (?, 'p', ?, 0, '{}', 0, 'process', '{}', ?, 0, 0, 0)`,
      args: [id, state, observed],
    });
    await client.batch(
      [
        row("a", "failed", '{"status":"stopped","at":1}'),
        row("b", "failed", '{"status":"stopped","at":1,"leftovers":[{"pgid":7}]}'),
        row("c", "failed", null),
        row("d", "dormant", '{"status":"stopped","at":1,"leftovers":[{"pgid":8}]}'),
        row("e", "failed", '{"status":"stopped","at":1,"leftovers":[]}'),
      ],
      "write",
    );
    const indexes = async (c = client) =>
      (await c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects'")).rows.map(
        (r) => r.name,
      );
    expect(await indexes()).not.toContain("objects_failed_leftovers");
    client.close();

    const store = new LibsqlStore({ url });
    await store.migrate();
    const listed = (await store.listObjects({ failedWithLeftovers: true, limit: 10 })).map((o) => o.id);
    await store.close();
    expect(listed).toEqual(["b", "e"]);
    const reopened = createClient({ url });
    const names = await indexes(reopened);
    reopened.close();
    expect(names).toContain("objects_failed_leftovers");
  });
});

describe("a database from a newer Vigil", () => {
  test("is refused when opened to serve, as `vigil replay` refuses it", async () => {
    const url = `file:${join(dir, `newer-${n++}.db`)}`;
    const first = new LibsqlStore({ url });
    await first.migrate();
    await first.close();
    // What a newer Vigil leaves: one more migration applied, stamped after ours.
    const client = createClient({ url });
    await client.execute({
      sql: "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('from-a-newer-vigil', ?)",
      args: [currentSchemaStamp() + 86_400_000],
    });
    client.close();

    const reader = new LibsqlStore({ url });
    expect(await reader.openToRead()).toBe(
      "its schema is newer than this Vigil's: read it with the Vigil that wrote it",
    );
    await reader.close();

    // `vigil serve` opens its store with migrate() (Governor.start): it must refuse too.
    const server = new LibsqlStore({ url });
    const opened = server.migrate().then(
      () => "migrated and ready to write",
      (e: Error) => e.message,
    );
    const outcome = await opened;
    await server.close();
    expect(outcome).toMatch(/newer/);
  });
});
