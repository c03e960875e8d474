// A remote libsql server that commits an arrival and then loses its answer (the fake Hrana
// server applies the pipeline and drops the connection): the request is a 503, and the object's
// next arrival reads its row again instead of going on from the record the server held. It used
// to go on from that record, so its next journal entry took a seq already written: every later
// fact to the object was a 500 (a constraint error) until a restart.

import { expect, test } from "vitest";
import { remoteVigil } from "../helpers/remote-vigil.ts";

const remote = remoteVigil("remote-lost");

const facts = (id: string, f: unknown, key?: string) =>
  fetch(`${remote.vigil.url}/v1/objects/${id}/facts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify({ facts: f }),
  });

const object = async (id: string) =>
  (await (await fetch(`${remote.vigil.url}/v1/objects/${id}`)).json()) as { memory: unknown; memoryVersion: number };

test.each([
  ["a dormant object, held in memory", "on-demand"],
  ["an awake object", "queue-worker"],
])("%s: a commit whose answer was lost is a 503, and the next fact commits after it", async (_, policy) => {
  const id = `lost-${policy}`;
  const put = await fetch(`${remote.vigil.url}/v1/objects/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy, substrate: { driver: "simulated", config: {} } }),
  });
  expect(put.status).toBe(201);
  if (policy === "queue-worker") expect((await facts(id, { queue: { depth: 3 } })).status).toBe(200);
  const before = (await object(id)).memoryVersion;
  remote.fake.dropAfterApplying((body) => body.includes("INSERT INTO journal") && body.includes("lost-answer"));
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

const put = (id: string, policy: string) =>
  fetch(`${remote.vigil.url}/v1/objects/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy, substrate: { driver: "simulated", config: {} } }),
  });

/** `vigil_objects` for a policy, summed over states, from /metrics. */
async function counted(policy: string): Promise<number> {
  const text = await (await fetch(`${remote.vigil.url}/metrics`)).text();
  const lines = text.split("\n").filter((l) => l.startsWith("vigil_objects{") && l.includes(`policy="${policy}"`));
  return lines.reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}

test("the listing shows a doubtful object as its row has it, as GET does", async () => {
  expect((await put("list-lost", "on-demand")).status).toBe(201);
  remote.fake.dropAfterApplying((body) => body.includes("INSERT INTO journal") && body.includes("lost-note"));
  expect((await facts("list-lost", { note: "lost-note" })).status).toBe(503);
  const listed = (await (await fetch(`${remote.vigil.url}/v1/objects?policy=on-demand`)).json()) as {
    items: { id: string; memoryVersion: number }[];
  };
  expect(listed.items.find((o) => o.id === "list-lost")?.memoryVersion).toBe((await object("list-lost")).memoryVersion);
  expect((await object("list-lost")).memoryVersion).toBe(1);
});

test("a creation and a deletion whose answers were lost are counted once the object is read again", async () => {
  const before = await counted("nightly-report");
  remote.fake.dropAfterApplying((body) => body.includes("census-lost") && body.includes("INSERT INTO"));
  expect((await put("census-lost", "nightly-report")).status).toBe(503);
  expect((await put("census-lost", "nightly-report")).status).toBe(200);
  expect(await counted("nightly-report")).toBe(before + 1);
  remote.fake.dropAfterApplying((body) => body.includes("census-lost") && body.includes("DELETE FROM"));
  expect((await fetch(`${remote.vigil.url}/v1/objects/census-lost`, { method: "DELETE" })).status).toBe(503);
  expect((await fetch(`${remote.vigil.url}/v1/objects/census-lost`, { method: "DELETE" })).status).toBe(404);
  expect(await counted("nightly-report")).toBe(before);
});

/** The HELP line and the samples of a metric family, from /metrics. */
async function family(name: string): Promise<{ help: string; total: number }> {
  const text = await (await fetch(`${remote.vigil.url}/metrics`)).text();
  const help = new RegExp(`^# HELP ${name} (.*)$`, "m").exec(text)?.[1] ?? "";
  const total = text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && l.includes('policy="on-demand"') && l.includes('trigger="facts"'))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  return { help, total };
}

// The metrics' help said every evaluation was counted, though one whose commit's answer was lost
// is in vigil_decisions_total once found, and not in vigil_evaluations_total nor the histogram.
test("a decision found after its commit's answer was lost counts as a decision, and the help says it is no evaluation counted", async () => {
  expect((await put("metric-lost", "on-demand")).status).toBe(201);
  const decisions = (await family("vigil_decisions_total")).total;
  const evaluations = (await family("vigil_evaluations_total")).total;
  remote.fake.dropAfterApplying((body) => body.includes("INSERT INTO journal") && body.includes("metric-note"));
  expect((await facts("metric-lost", { note: "metric-note" })).status).toBe(503);
  // The next request to change the object reads its row again, and finds the decision.
  expect((await facts("metric-lost", { note: "next" })).status).toBe(200);
  expect((await object("metric-lost")).memoryVersion).toBe(2);
  expect((await family("vigil_decisions_total")).total).toBe(decisions + 2);
  const evaluated = await family("vigil_evaluations_total");
  expect(evaluated.total).toBe(evaluations + 1);
  expect(evaluated.help).toContain("one whose commit's answer was lost is not counted");
  expect((await family("vigil_arrival_duration_seconds")).help).toContain(
    "one whose commit's answer was lost is not observed",
  );
});
