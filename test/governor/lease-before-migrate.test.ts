// A second server started on a database another one governs is refused the lease before it
// migrates anything: a newer Vigil started there by mistake must not upgrade the schema under
// the running one, which could then not start again on its own database.

import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { LeaseHeldError, type LeaseIdentity } from "../../src/governor/lease.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-lease-migrate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const me = (owner: string, pid: number): LeaseIdentity => ({ owner, host: "host-a", pid, alive: () => true });

function governor(url: string, clock: VirtualClock, identity: LeaseIdentity, onLost = () => {}) {
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const store = new LibsqlStore({ url });
  const g = new Governor({
    store,
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock })],
    lease: { identity, onLost },
  });
  return { g, store };
}

async function rows(url: string, sql: string): Promise<unknown[]> {
  const c = createClient({ url });
  try {
    return (await c.execute(sql)).rows.map((r) => ({ ...r }));
  } finally {
    c.close();
  }
}

/** What the newest migration (0011) makes: the index of the failed objects with leftovers. */
const NEWEST_INDEX = "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'objects_failed_leftovers'";

/** Makes the database one of the Vigil before the newest migration: it lacks that migration. */
async function undoNewestMigration(url: string): Promise<void> {
  const c = createClient({ url });
  await c.batch(
    [
      "DROP INDEX objects_failed_leftovers",
      "DELETE FROM __drizzle_migrations WHERE created_at = (SELECT MAX(created_at) FROM __drizzle_migrations)",
    ],
    "write",
  );
  c.close();
}

test("refused the lease, a server leaves a database one migration behind it as it was", async () => {
  const url = `file:${join(dir, "v.db")}`;
  const clock = new VirtualClock(START);
  const first = governor(url, clock, me("a", 100));
  await first.g.start();
  // The running server is of the Vigil before the newest migration: its database lacks it.
  await undoNewestMigration(url);
  const before = await rows(url, "SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at");

  const second = governor(url, clock, me("b", 200));
  await expect(second.g.start()).rejects.toThrow(LeaseHeldError);
  await second.store.close();

  expect(await rows(url, "SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at")).toEqual(before);
  expect(await rows(url, NEWEST_INDEX)).toEqual([]);
  expect(await rows(url, "SELECT owner FROM lease")).toEqual([{ owner: "a" }]);
  await first.g.close();
  await first.store.close();
});

test("a migration that holds the database longer than the lease lasts does not lose the lease", async () => {
  const url = `file:${join(dir, "slow.db")}`;
  const clock = new VirtualClock(START);
  const first = governor(url, clock, me("a", 100));
  await first.g.start();
  await first.g.close();
  await first.store.close();
  await undoNewestMigration(url);

  let lost = false;
  const { g, store } = governor(url, clock, me("b", 200), () => (lost = true));
  // A large database's migration holds its write lock for a while (migration 0005 counts every
  // decision): here 20 s of the clock, longer than the lease lasts, the lock held by a
  // connection of the test while the lease's renewals (every 4 s) wait for it.
  const migrate = store.client.migrate.bind(store.client);
  store.client.migrate = async (statements) => {
    const lock = createClient({ url });
    const held = await lock.transaction("write");
    await clock.advance(20_000);
    await held.rollback();
    lock.close();
    return migrate(statements);
  };
  await g.start();
  expect({ lost, governs: g.governs() }).toEqual({ lost: false, governs: true });
  expect(await rows(url, "SELECT owner, expires_at FROM lease")).toEqual([
    { owner: "b", expires_at: clock.now() + 15_000 },
  ]);
  expect(await rows(url, NEWEST_INDEX)).toEqual([{ name: "objects_failed_leftovers" }]);
  await g.close();
  await store.close();
});

test("two servers started at once on a new file: the one that migrates second is refused the lease, not told a table exists", async () => {
  const url = `file:${join(dir, "new.db")}`;
  const clock = new VirtualClock(START);
  const first = governor(url, clock, me("a", 100));
  const second = governor(url, clock, me("b", 200));
  // Both found no lease table (a new file), so both migrate before claiming it: the second's
  // migration was read as due before the first's committed, and runs after it.
  const migrate = second.store.client.migrate.bind(second.store.client);
  second.store.client.migrate = async (statements) => {
    await first.g.start();
    return migrate(statements);
  };
  const refused = await second.g.start().catch((e: unknown) => e);
  await second.store.close();
  expect(refused).toBeInstanceOf(LeaseHeldError);
  expect(String(refused)).toContain("another Vigil server governs this database");
  expect(await rows(url, "SELECT owner FROM lease")).toEqual([{ owner: "a" }]);
  expect(first.g.governs()).toBe(true);
  await first.g.close();
  await first.store.close();
});
