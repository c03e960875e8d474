// A reload that changes a schedule re-arms every object of the policy, one whose tick is being
// evaluated and committed at that moment too: arming skipped it (its hot copy still showed the
// overdue tick, which arming leaves to fire), and the evaluation then set the old cron's next
// tick, for good.

import { afterEach, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush } from "../../src/timers/clock.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** A real in-memory store that runs `during` once, inside the commit of a tick's next tick. */
class HookStore extends MemoryStore {
  during: (() => Promise<void>) | null = null;
  override async commit(batches: CommitBatch[]): Promise<void> {
    const hook = this.during;
    if (hook && batches.some((b) => b.timerOps.some((op) => op.name === "tick" && op.op === "set"))) {
      this.during = null;
      await hook();
    }
    return super.commit(batches);
  }
}

const policy = (version: string, cron: string) => scheduledPolicy({ name: "p", version, cron });

test("a reload changing a cron while that tick is being committed re-arms the object", async () => {
  const store = new HookStore();
  const services = (s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z"), store }));
  expect(services.policies.loadText(JSON.stringify(policy("1", "0 * * * *")), "inline/p.json").ok).toBe(true);
  await services.governor.putObject("o", { policy: "p" });
  store.during = async () => {
    expect(services.policies.loadText(JSON.stringify(policy("2", "30 * * * *")), "inline/p.json").ok).toBe(true);
    void services.governor.armSchedules("p");
    await flush();
  };
  await services.advance(60 * 60_000 + 1000); // the 01:00 tick fires; the reload comes during its commit
  expect(store.during).toBeNull();
  await services.governor.armSchedules("p");
  const tick = (await services.governor.getObject("o"))!.timers.find((t) => t.name === "tick")!;
  expect(new Date(tick.dueAt).toISOString()).toBe("2026-01-01T01:30:00.000Z");
});
