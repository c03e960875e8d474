// Re-adoption at start observes the objects of a driver whose compute outlives the server (the
// process driver) before anything is sent. Found in a review: it adopted them one at a time, each
// waiting for a commit of its own, so start-up grew by a commit's time per object (2,000 process
// objects: 3.7-6.1 s before the server listened). Now a few are adopted at a time, their
// commits sharing groups; each is still adopted once, and what was found is stored.

import { afterEach, expect, test } from "vitest";
import type { Observation } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { ADOPT_CONCURRENCY } from "../../src/governor/substrate-sync.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import type { DriverTarget } from "../../src/substrate/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { makeBatch, makeObject } from "../helpers/records.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

const tick = () => new Promise<void>((r) => setImmediate(r));

test("objects are adopted a few at a time, up to the bound, each once, and what was found is stored", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const store = new MemoryStore();
  const ids = Array.from({ length: 60 }, (_, i) => `o${String(i).padStart(2, "0")}`);
  await store.commit(
    ids.map((id) =>
      makeBatch(makeObject({ id, policy: "queue-worker", createdAt: START, updatedAt: START, lastFactAt: START })),
    ),
  );
  // The simulated driver, given an adoption that takes a turn of the event loop, as a driver's
  // reads of its substrate do.
  const driver = new SimulatedDriver({ clock });
  const adopted: string[] = [];
  let inFlight = 0;
  let most = 0;
  Object.assign(driver, {
    adopt: async (t: DriverTarget): Promise<Observation> => {
      adopted.push(t.objectId);
      most = Math.max(most, ++inFlight);
      await tick();
      inFlight--;
      return { status: "stopped", at: clock.now(), reason: "not running after restart" };
    },
  });
  const g = new Governor({ store, policies, clock, drivers: [driver] });
  closing.push(() => g.close());
  await g.start();

  expect(adopted.sort()).toEqual(ids);
  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(ADOPT_CONCURRENCY);
  for (const id of ids)
    expect((await store.getObject(id))!.substrate.observed).toEqual({
      status: "stopped",
      at: START,
      reason: "not running after restart",
    });
});
