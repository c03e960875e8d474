// Start-up on a database file that refuses writes part-way (the disk fills after the lease was
// taken): the log says so once, in the `cannot start` words of storage/file-failure.ts. Recovery's
// arming of schedules told its own refused write first, as a raw `governor error` line of
// SQLite's words ("clearing the armed schedules of ..."), which an operator read as a second
// failure before the one that says what to do.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { HELD_ERRORS, startServer } from "../../src/main.ts";
import { Governor } from "../../src/governor/governor.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { WriteError } from "../../src/storage/sql-writer.ts";
import { makeBatch, makeObject } from "../helpers/records.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-start-full-"));

/** A start of the server on `file` (no reconciliation), its log kept as parsed lines. */
function started(file: string, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const config = loadConfig({
    VIGIL_DB_URL: `file:${file}`,
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
    ...env,
  });
  type Line = { level: string; msg: string; error?: string; context?: string; count?: number };
  return { start: () => startServer(config, log), logged: () => lines.map((l) => JSON.parse(l) as Line) };
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

test("a disk that fills during recovery: one error line, `cannot start`'s, naming the file and what to do", async () => {
  const file = join(dir, "v.db");
  // Every write of the armed schedules' record fails as the writer thread's do on a full disk;
  // the migrations and the lease went in before.
  vi.spyOn(LibsqlStore.prototype, "setArmedSchedules").mockRejectedValue(
    new WriteError("database or disk is full", "SQLITE_FULL"),
  );
  const { start, logged } = started(file);
  const failed = await start().catch((e: unknown) => e);
  expect(String(failed)).toContain(`cannot write the database ${file} (SQLITE_FULL): the disk is full`);
  const errors = logged().filter((l) => l.level === "error");
  expect(errors).toEqual([]);
});

// At shutdown on a full disk the lease's release was refused, and the steps after it never ran:
// the database stayed open and the listener kept its port, with one "shutdown failed" line.
test("a shutdown whose lease release is refused still closes the database and the listener, and says so", async () => {
  const { start, logged } = started(join(dir, "close.db"));
  const server = await start();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  // The governor closes as it would, and its last write (the lease's release) is refused.
  const close = Governor.prototype.close;
  vi.spyOn(Governor.prototype, "close").mockImplementation(async function (this: Governor) {
    await close.call(this);
    throw new WriteError("database or disk is full", "SQLITE_FULL");
  });
  const storeClosed = vi.spyOn(LibsqlStore.prototype, "close");
  await server.close();
  expect(storeClosed).toHaveBeenCalled();
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  const failed = logged().filter((l) => l.msg === "shutdown failed");
  expect(failed).toHaveLength(1);
  expect(failed[0]!.error).toContain("database or disk is full");
});

// Until recovery is done, the database's refusals are held, to be told once it is (or said by
// `cannot start`'s line when start-up fails of one). Found in a review: they were held without
// bound, each error whole, so a fleet whose every adoption was refused (a remote database gone
// away, a disk full after the lease was taken) held one per object. Now the first
// HELD_ERRORS are kept and told, and the rest counted.
test("refusals held during recovery are kept up to a bound, the rest counted and told in one line", async () => {
  const file = join(dir, "fleet.db");
  const objects = HELD_ERRORS + 50;
  // A fleet bound to the process driver, whose compute start-up re-adopts, object by object.
  const seed = new LibsqlStore({ url: `file:${file}` });
  await seed.migrate();
  const ids = Array.from({ length: objects }, (_, i) => `o${String(i).padStart(4, "0")}`);
  await seed.commit(
    ids.map((id) =>
      makeBatch(
        makeObject({
          id,
          policy: "queue-worker",
          substrate: { driver: "process", config: { command: "true" }, observed: null },
        }),
      ),
    ),
  );
  await seed.close();
  // Every object's adoption commits its observation, and the full disk refuses each.
  const refused = vi
    .spyOn(LibsqlStore.prototype, "commit")
    .mockRejectedValue(new WriteError("database or disk is full", "SQLITE_FULL"));
  const { start, logged } = started(file, { VIGIL_DRIVERS: "simulated,process" });
  const server = await start();
  refused.mockRestore();
  await server.close();
  const errors = logged().filter((l) => l.level === "error");
  // The first HELD_ERRORS refused adoptions, each of another object of the fleet (adopted a few at
  // a time, they are refused in no set order), then how many more.
  const told = errors.slice(0, HELD_ERRORS);
  expect(told.every((l) => l.msg === "governor error")).toBe(true);
  const adopting = new Set(told.map((l) => l.context));
  expect(adopting.size).toBe(HELD_ERRORS);
  expect([...adopting].every((c) => ids.some((id) => c === `adopting ${id}`))).toBe(true);
  expect(errors.slice(HELD_ERRORS)).toEqual([
    expect.objectContaining({ msg: "more governor errors during recovery, not shown", count: 50 }),
  ]);
});
