// A cron tick used up while its policy is not loaded clears the record of the schedules the
// policy's objects were armed for, so that the policy's next load arms them again. That clearing
// is a write of its own, after the tick's: when it failed (a remote database's round trip lost, a
// lock held by another program), the tick was gone, the record still said "armed", and nothing
// tried the clearing again: when the policy came back its objects were not walked, and the
// object kept no tick of that schedule for good. So too when the policy came back (a reload)
// while that clearing was on its way: its arming read the record before the write landed.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const empty = mkdtempSync(join(tmpdir(), "vigil-no-rules-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/**
 * A memory store whose next clearing of an armed-schedules record fails, once; or, while `held`
 * is set, waits for it to be released.
 */
class ClearFailsOnce extends MemoryStore {
  failNextClear = false;
  held: Promise<void> | null = null;
  clearing = 0;
  override async setArmedSchedules(policy: string, schedules: string): Promise<void> {
    if (schedules === "" && this.failNextClear) {
      this.failNextClear = false;
      throw new Error("database is locked");
    }
    if (schedules === "" && this.held) {
      this.clearing++;
      await this.held;
    }
    return super.setArmedSchedules(policy, schedules);
  }
}

test("a tick used up while its policy is missing comes back with the policy, though the first clearing of the record failed", async () => {
  const store = new ClearFailsOnce();
  const clock = new VirtualClock(START);
  const boot = async (dir: string, errors: string[] = []) => {
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(dir);
    const g = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock, random: () => 0.5 });
    g.events.on("governor:error", (e: Error) => errors.push(e.message));
    await g.start();
    return g;
  };
  const cron = async () => (await store.getObject("m1"))!.timers.filter((t) => t.kind === "cron");

  let g = await boot(RULES_DIR);
  await g.putObject("m1", { policy: "continuous-monitor" });
  const armed = await cron();
  expect(armed.length).toBeGreaterThan(0);
  await g.close();

  // Down past the next tick; up again without the policy, and the record's clearing fails once.
  clock.jumpTo(clock.now() + 10 * 60_000);
  store.failNextClear = true;
  const errors: string[] = [];
  g = await boot(empty, errors);
  await clock.advance(5000, () => g.idle());
  expect(errors).toContain("database is locked");
  expect(store.failNextClear).toBe(false);
  expect((await cron()).length).toBeLessThan(armed.length);
  await g.close();

  // The policy is back: its objects are armed again.
  g = await boot(RULES_DIR);
  expect((await cron()).map((t) => t.name).sort()).toEqual(armed.map((t) => t.name).sort());
  await g.close();
});

test("a policy loaded while a tick's clearing of the record is on its way still arms the object again", async () => {
  const store = new ClearFailsOnce();
  const clock = new VirtualClock(START);
  let policies = new PolicyRegistry(() => clock.now());
  const governorOn = (dir: string) => {
    policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(dir);
    return new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock, random: () => 0.5 });
  };
  const cron = async () => (await store.getObject("m1"))!.timers.filter((t) => t.kind === "cron");

  let g = governorOn(RULES_DIR);
  await g.start();
  await g.putObject("m1", { policy: "continuous-monitor" });
  const armed = await cron();
  await g.close();

  // Up without the policy past the tick; the record's clearing is slow (a remote database), and
  // the start's firing of the overdue tick waits for it.
  clock.jumpTo(clock.now() + 10 * 60_000);
  let release = () => {};
  store.held = new Promise<void>((r) => (release = r));
  g = governorOn(empty);
  const started = g.start();
  while (store.clearing === 0) await new Promise<void>((r) => setImmediate(r));
  // The policy comes back (a reload) meanwhile, and is armed; then the clearing lands.
  const file = join(RULES_DIR, "continuous-monitor.json");
  expect(policies.loadText(readFileSync(file, "utf8"), file).ok).toBe(true);
  const arming = g.armSchedules("continuous-monitor");
  await new Promise<void>((r) => setImmediate(r));
  store.held = null;
  release();
  await started;
  await arming;
  await clock.advance(1000, () => g.idle());
  expect((await cron()).map((t) => t.name).sort()).toEqual(armed.map((t) => t.name).sort());
  await g.close();
});
