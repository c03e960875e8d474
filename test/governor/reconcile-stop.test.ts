// Shutdown stops the reconciler first and waits for a pass under way (Reconciler.stop), so that
// the governor and the store are not closed under it. Found in a review: the pass went on
// observing every object left in it, so a shutdown during a pass over a large fleet waited for
// the rest of the pass (up to VIGIL_DRAIN_TIMEOUT and the 5 s after it). Now a stopped pass
// observes no further object. And the observations in flight are cut: one that did not answer
// (a Fly API that hangs) held the stop for up to its 60 s deadline, past the drain timeout and
// the 5 s after it, so the server exited 1 without releasing its lease.

import { afterEach, expect, test } from "vitest";
import { Reconciler } from "../../src/governor/reconciler.ts";
import { RECONCILE_CONCURRENCY } from "../../src/governor/substrate-sync.ts";
import type { DriverTarget } from "../../src/substrate/driver.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const tick = () => new Promise<void>((r) => setImmediate(r));

test("a pass under way when the reconciler stops observes no further object", async () => {
  s = await makeServices();
  const ids = Array.from({ length: 100 }, (_, i) => `o${String(i).padStart(3, "0")}`);
  for (const id of ids) await s.governor.putObject(id, { policy: "continuous-monitor" });
  await s.advance(0);

  // Each observation waits until the test lets it answer.
  const observed: string[] = [];
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const observe = s.driver.observe.bind(s.driver);
  s.driver.observe = async (t: DriverTarget) => {
    observed.push(t.objectId);
    await answered;
    return observe(t);
  };
  const governor = s.governor;
  const reconciler = new Reconciler((signal) => governor.reconcile(signal), s.clock, 30_000);
  reconciler.start();
  await s.clock.advance(30_000);
  for (let i = 0; i < 20 && observed.length < RECONCILE_CONCURRENCY; i++) await tick();
  expect(observed).toHaveLength(RECONCILE_CONCURRENCY);

  const stopped = reconciler.stop();
  answer();
  await stopped;
  // The observations in flight finished; no other object was observed.
  expect(observed).toEqual(ids.slice(0, RECONCILE_CONCURRENCY));
});

test("an observation that does not answer is cut when the reconciler stops: the stop waits for no driver", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "continuous-monitor" });
  await s.advance(0);

  // The substrate never answers (a Fly API that hangs): the observation ends only when its
  // signal aborts, as the Fly driver's does.
  const asked: string[] = [];
  const cut: string[] = [];
  s.driver.observe = (t: DriverTarget, signal?: AbortSignal) => {
    asked.push(t.objectId);
    return new Promise((_, reject) =>
      signal?.addEventListener("abort", () => {
        cut.push(t.objectId);
        reject(new Error("aborted"));
      }),
    );
  };
  const errors: string[] = [];
  s.governor.events.on("governor:error", (_e, context) => errors.push(context));
  const governor = s.governor;
  const reconciler = new Reconciler((signal) => governor.reconcile(signal), s.clock, 30_000);
  reconciler.start();
  await s.clock.advance(30_000);
  for (let i = 0; i < 20 && asked.length === 0; i++) await tick();
  expect(asked).toEqual(["o1"]);

  // The clock does not move again: the stop must not wait for the 60 s deadline.
  let done = false;
  const stopped = reconciler.stop().then(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) await tick();
  expect(done).toBe(true);
  await stopped;
  expect(cut).toEqual(["o1"]);
  // A shutdown's cut is no failure to observe: nothing is logged for it.
  expect(errors).toEqual([]);
});
