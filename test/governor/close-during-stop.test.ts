// A server shutting down while a stop waits for the rest of a tree: the process driver gives
// the stop up (retryable), and the dispatcher, closed, records nothing: the stop stays pending,
// no attempt counted, for the next server. Found in a review: the failure was counted as an
// attempt, and on the last one the stop failed for good and the object went to `failed` with
// its processes running.

import { afterEach, expect, onTestFinished, test, vi } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { groupMembers, procfs, readStat } from "../../src/substrate/process/proc.ts";
import { eventually } from "../helpers/eventually.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { confirmed } from "../helpers/events.ts";
import { killGroups } from "../helpers/process.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const groups: number[] = [];
const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
  killGroups(groups);
});

// The leader dies of the SIGTERM; its child ignores it (a grace period the clock never reaches).
const child = "trap '' TERM; while :; do sleep 0.05; done";
const substrate = {
  driver: "process",
  config: { command: "sh", args: ["-c", `sh -c "${child}" & wait`], graceMs: 60_000 },
};

async function governor(store: MemoryStore, clock: VirtualClock, driver = new ProcessDriver({ clock })) {
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const g = new Governor({
    store,
    policies,
    clock,
    drivers: [driver],
    retry: { maxAttempts: 1, baseMs: 250, maxMs: 30_000 },
  });
  governors.push(g);
  await g.start();
  return g;
}

test.skipIf(!procfs)("a stop under way when the server closes stays pending, even on its last attempt", async () => {
  const store = new MemoryStore();
  const clock = new VirtualClock(START);
  const driver = new ProcessDriver({ clock });
  // The stops the governor sends, to wait for their answers.
  const stops: Promise<unknown>[] = [];
  const stop = driver.stop.bind(driver);
  driver.stop = (t) => {
    const answer = stop(t);
    stops.push(answer.catch(() => {}));
    return answer;
  };
  const g = await governor(store, clock, driver);
  await g.putObject("r", { policy: "nightly-report", substrate });
  const started = confirmed(g, "start");
  await g.postFacts("r", { report: { requested: true } });
  await started;
  const pid = (await g.getObject("r"))!.substrate.observed!.pid as number;
  groups.push(pid);
  expect(await eventually(() => groupMembers(pid).length >= 3)).toBe(true);

  const failed: string[] = [];
  g.events.on("action:failed", (a) => failed.push(a.kind));
  g.events.on("action:retrying", (a) => failed.push(a.kind));
  await g.postFacts("r", { report: { requested: false, status: "sent" } });
  // The stop is under way: the driver has seen the leader's exit (SIGTERM), the child runs on.
  // The leader's exit is the kernel's, in real time: waited for until Node has reaped it (its exit
  // event then come), not for a count of turns of the event loop.
  expect(await eventually(() => readStat(pid) === null)).toBe(true);
  expect((await driver.observe({ objectId: "r", config: substrate.config })).signal).toBe("SIGTERM");
  await g.close();
  governors.splice(governors.indexOf(g), 1);
  // The driver's answer to the stop (rejected: it closed) reaches the dispatcher after close().
  expect(stops.length).toBe(1);
  await Promise.all(stops);
  await g.idle();

  expect(failed).toEqual([]);
  expect((await store.pendingActions("r")).map((a) => [a.kind, a.status, a.attempts])).toEqual([
    ["stop", "pending", 0],
  ]);
  expect((await store.getObject("r"))!.state).toBe("sleeping");
  expect(groupMembers(pid).length).toBeGreaterThan(0);

  // The next server sends the stop again, and its grace period ends the child. The kernel ends
  // the killed child in real time, which steps of the clock do not measure (those after the
  // SIGKILL pass in a few milliseconds, less than a loaded core, or a process with much memory
  // to free, may take to exit): once the SIGKILL has gone to the group, the stop's answer is
  // waited for in real time.
  const kill = vi.spyOn(process, "kill");
  onTestFinished(() => kill.mockRestore());
  const killSent = () => kill.mock.calls.some(([to, signal]) => to === -pid && signal === "SIGKILL");
  const next = await governor(store, clock);
  let stopped = false;
  void confirmed(next, "stop").then(() => (stopped = true));
  for (let i = 0; !stopped && !killSent(); i++) {
    expect(i).toBeLessThan(1000);
    await clock.advance(1000);
  }
  expect(await eventually(() => stopped)).toBe(true);
  expect((await next.getObject("r"))!.state).toBe("dormant");
  expect(await eventually(() => groupMembers(pid).length === 0)).toBe(true);
});
