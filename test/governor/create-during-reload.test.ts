// An object created (PUT), or moved onto a policy, while that policy is reloaded with a new
// cron: the reload's arming lists the policy's objects before the object's commit is durable,
// and its evaluation computed its tick from the version it started with. Once both are done
// the object must be armed for the schedule that serves.

import { afterEach, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** A real in-memory store that runs `during` once, inside the commit of a decision with that trigger. */
class HookStore extends MemoryStore {
  during: (() => Promise<void>) | null = null;
  trigger = "create";
  override async commit(batches: CommitBatch[]): Promise<void> {
    const hook = this.during;
    const kind = (b: CommitBatch) => b.decision?.trigger.name ?? b.decision?.trigger.kind;
    if (hook && batches.some((b) => kind(b) === this.trigger)) {
      this.during = null;
      await hook();
    }
    return super.commit(batches);
  }
}

test("an object created while its policy's cron is reloaded is armed for the new cron", async () => {
  const store = new HookStore();
  const services = (s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z"), store }));
  const v1 = scheduledPolicy({ name: "p", version: "1", cron: "0 9 * * *" });
  const v2 = scheduledPolicy({ name: "p", version: "2", cron: "*/5 * * * *" });
  expect(services.policies.loadText(JSON.stringify(v1), "inline/p.json").ok).toBe(true);
  await services.governor.putObject("old", { policy: "p" });

  // The reload (what the watcher does: load the file, then arm the policy's objects) comes
  // while the new object's creation is being committed.
  store.during = async () => {
    expect(services.policies.loadText(JSON.stringify(v2), "inline/p.json").ok).toBe(true);
    await services.governor.armSchedules("p");
  };
  await services.governor.putObject("new", { policy: "p" });
  expect(store.during).toBeNull();
  await services.governor.idle();

  const tickOf = async (id: string) =>
    new Date((await services.governor.getObject(id))!.timers.find((t) => t.name === "tick")!.dueAt).toISOString();
  expect(await tickOf("old")).toBe("2026-01-01T00:05:00.000Z");
  // v2 serves: every five minutes, not v1's 09:00.
  expect(await tickOf("new")).toBe("2026-01-01T00:05:00.000Z");
});

test("an object moved onto a policy while its cron is reloaded is armed for the new cron", async () => {
  const store = new HookStore();
  const services = (s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z"), store }));
  const v1 = scheduledPolicy({ name: "p", version: "1", cron: "0 9 * * *" });
  const v2 = scheduledPolicy({ name: "p", version: "2", cron: "*/5 * * * *" });
  expect(services.policies.loadText(JSON.stringify(v1), "inline/p.json").ok).toBe(true);
  await services.governor.putObject("mover", { policy: "queue-worker" });

  store.trigger = "policy-changed";
  store.during = async () => {
    expect(services.policies.loadText(JSON.stringify(v2), "inline/p.json").ok).toBe(true);
    await services.governor.armSchedules("p");
  };
  await services.governor.putObject("mover", { policy: "p" });
  expect(store.during).toBeNull();
  await services.governor.idle();
  const tick = (await services.governor.getObject("mover"))!.timers.find((t) => t.name === "tick")!;
  expect(new Date(tick.dueAt).toISOString()).toBe("2026-01-01T00:05:00.000Z");
});
