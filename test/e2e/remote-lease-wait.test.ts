// `vigil serve` on a remote database whose lease names a holder on this host in another PID
// namespace (a container restarted after a crash, on a shared libsql server): start-up waits for
// that lease to run out, then governs. It exited 13 in the middle of the wait instead (Node's
// "unsettled top-level await"): the wait sleeps on the clock's timers, which do not keep the
// process alive, and with no writer thread (a file database has one) nothing else did.

import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startHranaFake, type HranaFake } from "../helpers/hrana-fake.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-remote-lease-"));
const running: VigilProcess[] = [];
let fake: HranaFake | undefined;
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("start-up on a remote database waits out a lease it cannot check, then serves", async () => {
  fake = await startHranaFake(join(dir, "remote.db"));
  const env = { VIGIL_DB_URL: fake.url, VIGIL_RECONCILE_INTERVAL: "off" };
  // A server that migrated the database and stopped.
  const first = await startVigil(env);
  running.push(first);
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  // A holder on this host in another PID namespace, last renewed long enough ago that it has
  // missed a renewal: the lease is taken once it runs out, 8 s from now (loading the server's code
  // takes a few of them on a loaded machine, and it must still be held when start-up asks).
  const now = Date.now();
  const c = createClient({ url: fake.url });
  await c.execute({
    sql: "INSERT INTO lease (name, owner, host, pid, acquired_at, renewed_at, expires_at) VALUES ('governor', 'other', ?, 1, ?, ?, ?)",
    args: [`${hostname()} pid:[1]`, now - 7_000, now - 7_000, now + 8_000],
  });
  c.close();

  const second = await startVigil(env);
  running.push(second);
  expect(second.log()).toContain("waiting for the lease of a holder on this host");
  expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
