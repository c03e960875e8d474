// A rebind (PUT with another binding) drops the actions queued for the old binding and records
// them as superseded in its commit. When that commit fails, nothing was recorded: the actions
// are queued again, so that they are not left pending for good with nothing to send them.

import { afterEach, describe, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

class FailingStore extends MemoryStore {
  fail = false;
  override async commit(batches: CommitBatch[]): Promise<void> {
    if (this.fail) throw new Error("disk full");
    return super.commit(batches);
  }
}

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const slow = { driver: "simulated", config: { startMs: 60_000, stopMs: 60_000 } };
const other = { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 1 } } };

/** An object with a start in flight (a minute long) and its dormancy (a suspend) queued behind it. */
async function queuedBehindStart(store: FailingStore) {
  s = await makeServices({ store });
  await s.governor.putObject("a", { policy: "on-demand", substrate: slow });
  await s.governor.postFacts("a", { work: { pending: 1 } }); // start, in flight
  await s.governor.postFacts("a", { work: { pending: 0 } }); // suspend, queued behind it
  const pending = await store.pendingActions();
  expect(pending.map((a) => a.kind)).toEqual(["start", "suspend"]);
  return { services: s, queued: pending[1]!.id };
}

describe("a rebind whose commit fails", () => {
  test("leaves the queued action queued: it is sent, and no longer pending", async () => {
    const store = new FailingStore();
    const { services, queued } = await queuedBehindStart(store);
    store.fail = true;
    await expect(services.governor.putObject("a", other)).rejects.toThrow("disk full");
    store.fail = false;
    await services.advance(10 * 60_000);
    expect((await store.pendingActions()).map((a) => a.id)).not.toContain(queued);
  });

  test("tried again, it records the queued action as superseded", async () => {
    const store = new FailingStore();
    const { services, queued } = await queuedBehindStart(store);
    store.fail = true;
    await expect(services.governor.putObject("a", other)).rejects.toThrow("disk full");
    store.fail = false;
    await services.governor.putObject("a", other);
    expect((await store.pendingActions()).map((a) => a.id)).not.toContain(queued);
  });
});
