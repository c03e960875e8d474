// A policy missing at one start (a broken or deleted file) must not cost its objects their
// timers for good: the cron ticks that fall due meanwhile are used up, and when the policy is
// back every object of it is armed again; any other timer waits for the policy. One store,
// three servers in turn, on a virtual clock.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import type { Store } from "../../src/core/store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RefusingStore } from "../helpers/refusing-store.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const empty = mkdtempSync(join(tmpdir(), "vigil-no-rules-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/**
 * One store and one clock; `boot(dir)` starts a server on them with the policies in `dir`. The
 * store is in memory, or a libsql file opened anew by each server (`file`).
 */
function world(file?: string) {
  const memory = new MemoryStore();
  let store: Store = file === undefined ? memory : new LibsqlStore({ url: `file:${file}` });
  const clock = new VirtualClock(START);
  let policies = new PolicyRegistry(() => clock.now());
  let booted = false;
  const boot = async (dir: string) => {
    policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(dir);
    if (file !== undefined && booted) {
      await store.close();
      store = new LibsqlStore({ url: `file:${file}` });
    }
    booted = true;
    const g = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock, random: () => 0.5 });
    await g.start();
    return g;
  };
  return {
    get store() {
      return store;
    },
    clock,
    boot,
    policies: () => policies,
  };
}

test("cron ticks used up while the policy was missing come back with the policy", async () => {
  const { store, clock, boot } = world();
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

/** nightly-report's object r1, its report sent: dormant with its own alarm an hour on (the server closed). */
async function reportSentWithAlarm({ store, clock, boot }: ReturnType<typeof world>) {
  const g = await boot(RULES_DIR);
  await g.putObject("r1", { policy: "nightly-report" });
  await g.postFacts("r1", { report: { requested: true } });
  await clock.advance(10_000, () => g.idle());
  await g.postFacts("r1", { report: { requested: false, status: "sent" } });
  await clock.advance(10_000, () => g.idle());
  await g.close();
  return (await store.getObject("r1"))!.timers.find((t) => t.name === "wake")!;
}

test("any other timer that falls due while the policy is missing waits for it, and fires once it is back", async () => {
  const w = world();
  const { store, clock, boot } = w;
  const alarm = await reportSentWithAlarm(w);
  expect(alarm).toMatchObject({ kind: "wake" });

  // Up without the policy past the alarm: it is not used up, only put off.
  clock.jumpTo(alarm.dueAt + 1000);
  let g = await boot(empty);
  await clock.advance(1000, () => g.idle());
  const waiting = (await store.getObject("r1"))!.timers.find((t) => t.name === "wake");
  expect(waiting).toMatchObject({ kind: "wake" });
  expect(waiting!.dueAt).toBeGreaterThan(alarm.dueAt);
  await g.close();

  // The policy is back: the alarm rings (late) and the object wakes.
  g = await boot(RULES_DIR);
  await clock.advance(2 * 60_000, () => g.idle());
  const [last] = await g.listDecisions("r1", 10);
  expect(last).toMatchObject({ trigger: { kind: "timer", name: "wake" }, outcome: "wake" });
  await g.close();
});

test("a timer put off while its policy was missing fires late when the policy comes back without a restart", async () => {
  const w = world();
  const { clock, boot, policies } = w;
  const alarm = await reportSentWithAlarm(w);
  clock.jumpTo(alarm.dueAt + 3 * 3_600_000); // down three hours past the alarm
  const g = await boot(empty);
  // How late it fired, as the metrics' timer lag hears it: from its first due time.
  const lags: number[] = [];
  g.events.on("timer:fired", (_id, _name, _late, lagMs) => lags.push(lagMs));
  await clock.advance(1000, () => g.idle()); // put off: its row's due time moves on
  const file = join(RULES_DIR, "nightly-report.json");
  expect(policies().loadText(readFileSync(file, "utf8"), file).ok).toBe(true); // back by a reload
  await g.armSchedules("nightly-report");
  await clock.advance(2 * 60_000, () => g.idle());
  const [last] = await g.listDecisions("r1", 1);
  expect(last!.trigger).toEqual({ kind: "timer", name: "wake", late: true });
  expect(lags).toEqual([last!.at - alarm.dueAt]);
  expect(lags[0]).toBeGreaterThan(3 * 3_600_000);
  await g.close();
});

test.each([
  ["in memory", undefined],
  ["on a libsql file", "v.db"],
])(
  "%s: a timer put off while its policy was missing fires late, from when it was first due, after a restart",
  async (_where, file) => {
    const path = file === undefined ? undefined : join(empty, file);
    const w = world(path);
    const { clock, boot } = w;
    const alarm = await reportSentWithAlarm(w);
    if (path !== undefined) {
      // No version of it to serve, as in a database older than stored policy versions.
      const client = createClient({ url: `file:${path}` });
      await client.execute("DELETE FROM policy_versions WHERE name = 'nightly-report'");
      await client.execute("DELETE FROM policy_served WHERE policy = 'nightly-report'");
      client.close();
    }
    clock.jumpTo(alarm.dueAt + 3 * 3_600_000); // down three hours past the alarm
    let g = await boot(empty);
    await clock.advance(1000, () => g.idle()); // put off: its row's due time moves on
    await g.close();
    // Up again at once with the policy: the alarm falls due at the minute it was put off to.
    g = await boot(RULES_DIR);
    const lags: number[] = [];
    g.events.on("timer:fired", (_id, _name, _late, lagMs) => lags.push(lagMs));
    await clock.advance(2 * 60_000, () => g.idle());
    const [last] = await g.listDecisions("r1", 1);
    expect(last).toMatchObject({ trigger: { kind: "timer", name: "wake", late: true }, outcome: "wake" });
    expect(lags).toEqual([last!.at - alarm.dueAt]);
    expect(lags[0]).toBeGreaterThan(3 * 3_600_000);
    await g.close();
    await w.store.close();
  },
);

test("an object whose timers cannot be written keeps neither the start nor the other objects from being armed", async () => {
  const store = new RefusingStore();
  const clock = new VirtualClock(START);
  const boot = async (dir: string) => {
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(dir);
    const g = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock, random: () => 0.5 });
    await g.start();
    return g;
  };
  const cron = async (id: string) => (await store.getObject(id))!.timers.filter((t) => t.kind === "cron").length;
  let g = await boot(RULES_DIR);
  for (const id of ["m1", "m2", "m3"]) await g.putObject(id, { policy: "continuous-monitor" });
  const armed = await cron("m2");
  await g.close();
  // Down past the next tick, up without the policy: the ticks that fell due are used up.
  clock.jumpTo(clock.now() + 10 * 60_000);
  g = await boot(empty);
  await clock.advance(1000, () => g.idle());
  await g.close();
  expect(await cron("m2")).toBeLessThan(armed);

  const unarmed = await cron("m1");
  store.refuse = (b) => b.object.id === "m1";
  g = await boot(RULES_DIR); // starts although m1 cannot be armed
  expect([await cron("m1"), await cron("m2"), await cron("m3")]).toEqual([unarmed, armed, armed]);
  await g.close();
  store.refuse = null;
  g = await boot(RULES_DIR); // the arming was not recorded as done: m1 is armed now
  expect(await cron("m1")).toBe(armed);
  await g.close();
});

test("a timer put off while its policy is missing is logged once, not at every minute", async () => {
  const w = world();
  const { clock, boot } = w;
  const alarm = await reportSentWithAlarm(w);
  clock.jumpTo(alarm.dueAt - 1000); // up without the policy a second before the alarm
  const g = await boot(empty);
  const errors: string[] = [];
  g.events.on("governor:error", (_e, context) => errors.push(context));
  await clock.advance(10 * 60_000, () => g.idle());
  expect(errors).toEqual(["timer wake of r1"]);
  // Still waiting for the policy, a minute at a time.
  expect((await w.store.getObject("r1"))!.timers.find((t) => t.name === "wake")!.dueAt).toBeGreaterThan(clock.now());
  await g.close();
});
