// A remote libsql server that commits an arrival and then loses its answer (the fake Hrana
// server applies the pipeline and drops the connection): the request is a 503, and the object's
// next arrival reads its row again instead of going on from the record the server held. It used
// to go on from that record, so its next journal entry took a seq already written: every later
// fact to the object was a 500 (a constraint error) until a restart.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startHranaFake, type HranaFake } from "../helpers/hrana-fake.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-remote-lost-"));
let fake: HranaFake;
let vigil: VigilProcess;
beforeAll(async () => {
  fake = await startHranaFake(join(dir, "remote.db"));
  vigil = await startVigil({ VIGIL_DB_URL: fake.url });
});
afterAll(async () => {
  if (process.env.VIGIL_SHOW_LOG) console.log(vigil?.log());
  vigil?.kill("SIGKILL");
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const facts = (id: string, f: unknown, key?: string) =>
  fetch(`${vigil.url}/v1/objects/${id}/facts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify({ facts: f }),
  });

const object = async (id: string) =>
  (await (await fetch(`${vigil.url}/v1/objects/${id}`)).json()) as { memory: unknown; memoryVersion: number };

test.each([
  ["a dormant object, held in memory", "on-demand"],
  ["an awake object", "queue-worker"],
])("%s: a commit whose answer was lost is a 503, and the next fact commits after it", async (_, policy) => {
  const id = `lost-${policy}`;
  const put = await fetch(`${vigil.url}/v1/objects/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy, substrate: { driver: "simulated", config: {} } }),
  });
  expect(put.status).toBe(201);
  if (policy === "queue-worker") expect((await facts(id, { queue: { depth: 3 } })).status).toBe(200);
  const before = (await object(id)).memoryVersion;
  fake.dropAfterApplying((body) => body.includes("INSERT INTO journal") && body.includes("lost-answer"));
  const lost = await facts(id, { note: "lost-answer" }, `k-${policy}`);
  expect(lost.status, await lost.text()).toBe(503);
  // The database has it: so does the object, read again.
  expect(await object(id)).toMatchObject({ memoryVersion: before + 1, memory: { note: "lost-answer" } });
  const next = await facts(id, { note: "next" });
  expect(next.status, await next.text()).toBe(200);
  expect(await object(id)).toMatchObject({ memoryVersion: before + 2, memory: { note: "next" } });
  // The same request sent again (its Idempotency-Key) is the one applied, not a second time.
  const again = await facts(id, { note: "lost-answer" }, `k-${policy}`);
  expect(again.status, await again.text()).toBe(200);
  expect((await object(id)).memoryVersion).toBe(before + 2);
});
