// The server's start-up hands its signal to recovery (main.ts): a signal while recovery runs
// stops it at its next step, so the timers that fell due while the server was down are left for
// the next start instead of all being fired first. Here the signal comes as recovery begins:
// in a microtask queued when the policies are logged as loaded, which runs once start-up has
// gone on synchronously into `Governor.start` and waits there on the database for the first
// time. Recovery must then fire none of them. (Before main.ts handed the signal on, all were.)

import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createLogger } from "../../src/log.ts";
import { startServer } from "../../src/main.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-stopped-recovery-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IDS = ["m-1", "m-2", "m-3"];

/** A database whose monitors' minute sweeps fell due half an hour ago (the server was down). */
async function downForHalfAnHour(url: string): Promise<void> {
  const clock = new VirtualClock(Date.now() - 30 * 60_000);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const store = new LibsqlStore({ url });
  const g = new Governor({ store, policies, clock, drivers: [new SimulatedDriver({ clock })], random: () => 0.5 });
  await g.start();
  for (const id of IDS) await g.putObject(id, { policy: "continuous-monitor" });
  await g.close();
  await store.close();
}

async function rows(url: string, sql: string, args: number[] = []): Promise<unknown[]> {
  const c = createClient({ url });
  try {
    return (await c.execute({ sql, args })).rows.map((r) => ({ ...r }));
  } finally {
    c.close();
  }
}

test("a signal as recovery begins: no timer that fell due is fired, and the lease is released", async () => {
  const url = `file:${join(dir, "v.db")}`;
  await downForHalfAnHour(url);
  const overdue = () =>
    rows(url, "SELECT object_id, name FROM timers WHERE due_at < ? ORDER BY object_id", [Date.now()]);
  expect(await overdue()).toEqual(IDS.map((id) => ({ object_id: id, name: "sweep" })));

  const stop = new AbortController();
  const config = loadConfig({
    VIGIL_DB_URL: url,
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
  });
  const log = createLogger("info", (line) => {
    if (line.includes('"msg":"policies loaded"')) queueMicrotask(() => stop.abort(new Error("SIGTERM")));
  });

  const stopped = await startServer(config, log, { signal: stop.signal }).catch((e: unknown) => e);
  expect(stopped).toBe(stop.signal.reason);

  expect(await overdue()).toEqual(IDS.map((id) => ({ object_id: id, name: "sweep" })));
  expect(await rows(url, "SELECT owner FROM lease")).toEqual([]);
});
