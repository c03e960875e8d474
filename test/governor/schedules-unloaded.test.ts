// A policy missing at one start (a broken or deleted file) must not cost its objects their cron
// ticks for good: the ticks that fall due meanwhile are used up, and when the policy is back
// every object of it is armed again. One store, three servers in turn, on a virtual clock.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const empty = mkdtempSync(join(tmpdir(), "vigil-no-rules-"));
afterEach(() => rmSync(empty, { recursive: true, force: true }));

test("cron ticks used up while the policy was missing come back with the policy", async () => {
  const store = new MemoryStore();
  const clock = new VirtualClock(START);
  const boot = async (dir: string) => {
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(dir);
    const g = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock, random: () => 0.5 });
    await g.start();
    return g;
  };
  const cron = async () => (await store.getObject("m1"))!.timers.filter((t) => t.kind === "cron");

  let g = await boot(RULES_DIR);
  await g.putObject("m1", { policy: "continuous-monitor" });
  const armed = await cron();
  expect(armed.length).toBeGreaterThan(0);
  await g.close();

  // Down past the next tick; up again without the policy: the tick that fell due is used up.
  clock.jumpTo(clock.now() + 10 * 60_000);
  g = await boot(empty);
  await clock.advance(1000, () => g.idle());
  expect((await cron()).length).toBeLessThan(armed.length);
  await g.close();

  // The policy is back: its objects are armed again, and the ticks fire.
  g = await boot(RULES_DIR);
  expect((await cron()).map((t) => t.name).sort()).toEqual(armed.map((t) => t.name).sort());
  let fired = 0;
  g.events.on("timer:fired", (id) => (fired += id === "m1" ? 1 : 0));
  await clock.advance(10 * 60_000, () => g.idle());
  expect(fired).toBeGreaterThan(0);
  await g.close();
});
