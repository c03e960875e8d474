// Arming a policy's schedules over many objects (a reload that changes them, or a start that
// finds them changed): the objects of a page are armed a few at a time, so that their commits
// share groups (one object at a time took one transaction each: 1,000,000 objects took 9 to 20
// minutes); and a page whose objects all agree already still gives the event loop its turns
// (the embedded database answers reads synchronously, so such a walk over a million objects held
// every request, and the lease's renewal, until the lease was lost and the server exited).

import { afterEach, expect, test } from "vitest";
import { leaseLost } from "../../src/core/errors.ts";
import type { MemoryStore } from "../../src/storage/memory-store.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const OBJECTS = 1_200;

async function manyObjects(): Promise<TestServices> {
  const services = (s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z") }));
  const v1 = scheduledPolicy({ name: "p", version: "1", cron: "0 * * * *" });
  expect(services.policies.loadText(JSON.stringify(v1), "inline/p.json").ok).toBe(true);
  await services.governor.armSchedules("p");
  for (let i = 0; i < OBJECTS; i++)
    await services.governor.putObject(`o-${String(i).padStart(5, "0")}`, { policy: "p" });
  return services;
}

test("a changed schedule is armed on every object in shared group commits", async () => {
  const services = await manyObjects();
  const v2 = scheduledPolicy({ name: "p", version: "2", cron: "30 * * * *" });
  expect(services.policies.loadText(JSON.stringify(v2), "inline/p.json").ok).toBe(true);
  const before = services.governor.commitStats.transactions;

  expect(await services.governor.armSchedules("p")).toBe(OBJECTS);

  const transactions = services.governor.commitStats.transactions - before;
  expect(transactions).toBeLessThan(OBJECTS / 8);
  const page = await services.governor.listObjects({ policy: "p", limit: 500 });
  for (const o of page.items)
    expect(new Date(o.timers.find((t) => t.name === "tick")!.dueAt).toISOString()).toBe("2026-01-01T00:30:00.000Z");
});

test("a walk that finds every object armed already lets the event loop turn", async () => {
  const services = await manyObjects();
  // The record of what was armed is gone (an arming cleared, or left half done): every object
  // is read again, and every one agrees.
  await services.store.setArmedSchedules("p", "");
  let turned = false;
  setImmediate(() => (turned = true));

  expect(await services.governor.armSchedules("p")).toBe(0);

  expect(turned).toBe(true);
  expect(await services.store.armedSchedules("p")).not.toBe("");
});

test("a lease lost during the arming is told once, and the walk stops", async () => {
  const services = await manyObjects();
  const v2 = scheduledPolicy({ name: "p", version: "2", cron: "30 * * * *" });
  expect(services.policies.loadText(JSON.stringify(v2), "inline/p.json").ok).toBe(true);
  const errors: string[] = [];
  services.governor.events.on("governor:error", (e) => errors.push(e.message));
  const store = services.store as MemoryStore;
  const commit = store.commit.bind(store);
  const listObjects = store.listObjects.bind(store);
  let arrivals = 0;
  let pages = 0;
  store.listObjects = (q) => (pages++, listObjects(q));
  store.commit = async (batches) => {
    arrivals += batches.length;
    if (arrivals < 100) return commit(batches);
    // As the lease's loss does (governor.ts): the governor stops governing, and the writer refuses.
    (services.governor as unknown as { leaseLost: boolean }).leaseLost = true;
    throw leaseLost();
  };

  await services.governor.armSchedules("p");

  expect(errors.filter((m) => m.includes("lease was lost"))).toHaveLength(1);
  expect(pages).toBe(1);
  expect(await store.armedSchedules("p")).not.toContain("30 * * * *");
});
