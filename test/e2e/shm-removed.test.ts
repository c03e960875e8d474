// The -shm file removed under a running server (a clean-up of "stray" files), then another
// program opening the database (here a second server, refused for the lease): the real server
// process on a database file. That program made a new index, found no other connection in it,
// copied the log into the file and emptied it as it closed; the running server went on
// appending to the log with the index it had mapped, its facts acknowledged, and after a kill -9
// the restart read none of them. Now every write after the removal is refused, and the restart
// finds every fact acknowledged. The server's reads of what the emptied log held fail then, an
// I/O error: a 503, not the 500 it was where drizzle wrapped the error.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { createAckObject, postAck, servedAcks } from "../helpers/acks.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-shm-removed-"));
const file = join(dir, "vigil.db");
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const FACTS = 20;

test("a -shm file removed, then another server started on the database: later facts are refused, and after kill -9 every fact acknowledged is there", async () => {
  const first = await startVigil({ VIGIL_DB_URL: `file:${file}` });
  running.push(first);
  await createAckObject(first.url);
  const acked: string[] = [];
  for (let i = 0; i < FACTS; i++) {
    expect((await postAck(first.url, `k${i}`)).status).toBe(200);
    acked.push(`k${i}`);
  }

  expect(existsSync(`${file}-shm`)).toBe(true);
  rmSync(`${file}-shm`);
  // A second server on the same database: it is refused (the lease is the first's), and closes.
  const second = await startVigil({ VIGIL_DB_URL: `file:${file}` }).catch((e: unknown) => e);
  expect(String(second)).toContain("another Vigil server governs this database");

  const after = await postAck(first.url, "after");
  if (after.status === 200) acked.push("after");
  expect(after.status).toBe(503);
  expect(after.headers.get("content-type")).toBe("application/problem+json");
  expect(((await after.json()) as { detail: string }).detail).toContain("its -shm index");
  expect(first.log()).toContain(`the database's -shm index ${file}-shm was removed or replaced`);
  // The server's own reads go on with its index over the log the other program emptied: SQLite
  // fails them (an I/O error), wrapped by drizzle on this route; a 503 as the same error unwrapped is.
  const read = await fetch(`${first.url}/v1/objects/w1/decisions?limit=5`);
  expect(read.status).toBe(503);
  expect(read.headers.get("content-type")).toBe("application/problem+json");
  first.kill("SIGKILL");
  await first.exited;

  const third = await startVigil({ VIGIL_DB_URL: `file:${file}` });
  running.push(third);
  const object = await servedAcks(third.url);
  expect(object.keys).toEqual(acked.sort());
  expect(object.memoryVersion).toBe(acked.length);
  third.kill("SIGTERM");
  expect(await third.exited).toBe(0);
});
