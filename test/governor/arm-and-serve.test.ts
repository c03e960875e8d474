// After a reload the policy watcher has two things done: the version that serves now recorded
// (what a start whose file is refused or gone serves, Store.storedPolicy) and the policy's
// objects' cron timers re-armed. Found in a review: both were done by Governor.armSchedules, a
// name that says nothing of the record. Each is now its own call, and the watcher makes both.

import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { START } from "../helpers/services.ts";

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

const policy = (version: string) =>
  JSON.stringify({
    name: "p",
    version,
    rules: [
      {
        name: "go",
        conditions: { all: [{ fact: "memory", path: "$.go", operator: "equal", value: true }] },
        event: { type: "wake" },
      },
    ],
  });

test("armSchedules arms and records nothing; recordServed records the version that serves", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadText(policy("1"), "inline/p.json").ok).toBe(true);
  const store = new LibsqlStore({ url: ":memory:" });
  const g = new Governor({ store, policies, clock, drivers: [new SimulatedDriver({ clock })] });
  closing.push(async () => {
    await g.close();
    await store.close();
  });
  await g.start();
  const served = async () => (await store.storedPolicy("p"))?.version;
  expect(await served()).toBe("1");

  // A reload: version 2 serves from here.
  expect(policies.loadText(policy("2"), "inline/p.json").ok).toBe(true);
  expect(await g.armSchedules("p")).toBe(0);
  expect(await served()).toBe("1");
  await g.recordServed("p");
  expect(await served()).toBe("2");
});
