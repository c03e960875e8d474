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
import { startServer } from "../../src/main.ts";
import { Governor } from "../../src/governor/governor.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { WriteError } from "../../src/storage/sql-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-start-full-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

test("a disk that fills during recovery: one error line, `cannot start`'s, naming the file and what to do", async () => {
  const file = join(dir, "v.db");
  // Every write of the armed schedules' record fails as the writer thread's do on a full disk;
  // the migrations and the lease went in before.
  vi.spyOn(LibsqlStore.prototype, "setArmedSchedules").mockRejectedValue(
    new WriteError("database or disk is full", "SQLITE_FULL"),
  );
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const config = loadConfig({
    VIGIL_DB_URL: `file:${file}`,
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
  });
  const failed = await startServer(config, log).catch((e: unknown) => e);
  expect(String(failed)).toContain(`cannot write the database ${file} (SQLITE_FULL): the disk is full`);
  const errors = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === "error");
  expect(errors).toEqual([]);
});

// At shutdown on a full disk the lease's release was refused, and the steps after it never ran:
// the database stayed open and the listener kept its port, with one "shutdown failed" line.
test("a shutdown whose lease release is refused still closes the database and the listener, and says so", async () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const config = loadConfig({
    VIGIL_DB_URL: `file:${join(dir, "close.db")}`,
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
  });
  const server = await startServer(config, log);
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
  const failed = lines
    .map((l) => JSON.parse(l) as { msg: string; error?: string })
    .filter((l) => l.msg === "shutdown failed");
  expect(failed).toHaveLength(1);
  expect(failed[0]!.error).toContain("database or disk is full");
});
