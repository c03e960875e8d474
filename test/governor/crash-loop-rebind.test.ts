// The crash-loop guard counts the exits of an object's compute. A rebind (PUT with another driver
// or config) gives the object other compute: the exits of the old one no longer say anything
// about it. They were still counted, so that the first exit of the new compute within the
// minute made the object failed again ("5 exits Vigil did not ask for within 60 s").

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { FRAGILE_POLICY } from "../helpers/fragile-policy.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function crash(t: TestServices): Promise<void> {
  t.driver.crash("w", "stopped");
  await t.advance(0);
}

test("a rebind starts the crash-loop count afresh for the new compute", async () => {
  s = await makeServices();
  // queue-worker wakes the object while its queue holds work: a crash restarts it.
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 } });
  await s.advance(0);
  expect((await s.governor.getObject("w"))!.state).toBe("active");
  for (let i = 0; i < 4; i++) {
    await crash(s);
    expect((await s.governor.getObject("w"))!.state).toBe("active");
  }
  await crash(s);
  const [loop] = await s.governor.listDecisions("w", 1);
  expect(loop).toMatchObject({ trigger: { kind: "substrate", name: "crash-loop" }, toState: "failed" });

  // 10 s on, the operator binds it to fixed compute and wakes it.
  await s.advance(10_000);
  const put = await s.governor.putObject("w", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 1 } },
  });
  expect(put.object.state).toBe("failed");
  const woke = await s.governor.postFacts("w", { queue: { depth: 2 } });
  expect(woke.decision).toMatchObject({ outcome: "wake", toState: "waking" });
  await s.advance(1);
  expect((await s.governor.getObject("w"))!.state).toBe("active");

  // The new compute exits once: it is restarted, as after any crash, not failed.
  await crash(s);
  const [after] = await s.governor.listDecisions("w", 1);
  expect(after).toMatchObject({ trigger: { kind: "substrate", name: "stopped" }, outcome: "wake" });
  expect((await s.governor.getObject("w"))!.state).not.toBe("failed");
});

// docs/recipes/crash-backoff.md, pitfalls: a hold lease still running when the object fails
// restarts it at its next evaluation, whatever its rules say of the state.
test("a live hold lease restarts a failed object at its next evaluation", async () => {
  s = await makeServices();
  // queue-worker: job-in-flight holds with a lease of a minute.
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 }, jobs: { inflight: 1 } });
  await s.advance(0);
  for (let i = 0; i < 5; i++) await crash(s);
  expect((await s.governor.getObject("w"))!.state).toBe("failed");
  // The job is reported done: no rule holds or wakes, but the lease has 59 s to run.
  const next = await s.governor.postFacts("w", { queue: { depth: 0 }, jobs: { inflight: 0 } });
  expect(next.decision).toMatchObject({ outcome: "hold-active", fromState: "failed", toState: "waking" });
  expect(next.decision.fired.map((f) => f.rule)).toEqual(["hold:lease"]);
});

// A refused PUT changes nothing (objects.ts): a rebind the new policy refuses leaves the object
// on its old compute, whose exits still count. Forgotten when the rebind began, they were lost
// with it, and the old compute's crash loop went on past the guard.
test("a rebind that is refused keeps the crash-loop count of the compute the object keeps", async () => {
  s = await makeServices();
  expect(s.policies.loadText(JSON.stringify(FRAGILE_POLICY), "inline/fragile.json").ok).toBe(true);
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 }, x: 5 });
  await s.advance(0);
  for (let i = 0; i < 4; i++) await crash(s);
  expect((await s.governor.getObject("w"))!.state).toBe("active");

  const refused = s.governor.putObject("w", {
    policy: "fragile",
    substrate: { driver: "simulated", config: { startMs: 1 } },
  });
  await expect(refused).rejects.toMatchObject({ kind: "invalid" });
  const kept = (await s.governor.getObject("w"))!;
  expect(kept).toMatchObject({ state: "active", policy: "queue-worker", substrate: { config: {} } });

  // The fifth exit of the compute it kept, within the minute: a crash loop.
  await crash(s);
  const [loop] = await s.governor.listDecisions("w", 1);
  expect(loop).toMatchObject({ trigger: { kind: "substrate", name: "crash-loop" }, toState: "failed" });
  expect((await s.governor.getObject("w"))!.state).toBe("failed");
});
