// The -wal and the -shm removed together under a running server (`rm vigil.db-*`, a clean-up of
// "stray" files): the real server process on a database file. The writer thread refused the next
// write for the removed -shm before it looked at the -wal, so the frames committed to the removed
// log were never copied into the file, and a start after a kill -9 lost every fact acknowledged
// since the last checkpoint. Now the removed log is rescued first, as when it is removed alone.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { createAckObject, postAck, servedAcks } from "../helpers/acks.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-wal-shm-removed-"));
const file = join(dir, "vigil.db");
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const FACTS = 30;

test("the -wal and -shm removed together: the next fact is a 503, and after kill -9 every fact acknowledged before is there", async () => {
  const first = await startVigil({ VIGIL_DB_URL: `file:${file}` });
  running.push(first);
  await createAckObject(first.url);
  for (let i = 0; i < FACTS; i++) expect((await postAck(first.url, `k${i}`)).status).toBe(200);

  rmSync(`${file}-wal`);
  rmSync(`${file}-shm`);
  const refused = await postAck(first.url, "after");
  expect(refused.status).toBe(503);
  expect(refused.headers.get("content-type")).toBe("application/problem+json");
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

test("the -wal and -shm removed together, then a clean stop: every fact acknowledged before is there after a restart", async () => {
  const at = join(dir, "stopped.db");
  const first = await startVigil({ VIGIL_DB_URL: `file:${at}` });
  running.push(first);
  await createAckObject(first.url);
  for (let i = 0; i < FACTS; i++) expect((await postAck(first.url, `k${i}`)).status).toBe(200);

  rmSync(`${at}-wal`);
  rmSync(`${at}-shm`);
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  const second = await startVigil({ VIGIL_DB_URL: `file:${at}` });
  running.push(second);
  const object = await servedAcks(second.url);
  expect(object.keys).toEqual(Array.from({ length: FACTS }, (_, i) => `k${i}`).sort());
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
