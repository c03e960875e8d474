// The -wal file removed under a running server (a clean-up of "stray" files), then kill -9: the
// real server process on a database file. SQLite goes on writing to the log it opened, which a
// start reads no more, so every fact acknowledged since the last checkpoint was gone after the
// restart, and facts sent after the removal were acknowledged into it too. Now the next write
// copies the log into the database file and is refused, and the restart finds every fact
// acknowledged before.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { createAckObject, postAck, servedAcks } from "../helpers/acks.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-wal-removed-"));
const file = join(dir, "vigil.db");
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const FACTS = 30;

test("a -wal file removed under the server: the next fact is a 503, and after kill -9 every fact acknowledged before is there", async () => {
  const first = await startVigil({ VIGIL_DB_URL: `file:${file}` });
  running.push(first);
  await createAckObject(first.url);
  for (let i = 0; i < FACTS; i++) expect((await postAck(first.url, `k${i}`)).status).toBe(200);

  rmSync(`${file}-wal`);
  const refused = await postAck(first.url, "after");
  expect(refused.status).toBe(503);
  expect(refused.headers.get("content-type")).toBe("application/problem+json");
  expect(((await refused.json()) as { detail: string }).detail).toContain("its -wal log");
  expect(first.log()).toContain(`the database's write-ahead log ${file}-wal was removed or replaced`);
  first.kill("SIGKILL");
  await first.exited;

  const second = await startVigil({ VIGIL_DB_URL: `file:${file}` });
  running.push(second);
  const object = await servedAcks(second.url);
  expect(object.keys).toEqual(Array.from({ length: FACTS }, (_, i) => `k${i}`).sort());
  expect(object.memoryVersion).toBe(FACTS);
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
