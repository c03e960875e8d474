// Reconciliation observes objects a few at a time, each within a deadline: a substrate that
// never answers for one object holds up neither the others nor the pass.

import { afterEach, expect, test } from "vitest";
import type { DriverTarget } from "../../src/substrate/driver.ts";
import { RECONCILE_CONCURRENCY, RECONCILE_DEADLINE_MS } from "../../src/governor/substrate-sync.ts";
import { RefusingStore } from "../helpers/refusing-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const tick = () => new Promise<void>((r) => setImmediate(r));

test("observations run side by side up to the bound; one that never answers is given up after the deadline", async () => {
  s = await makeServices();
  const ids = Array.from({ length: 60 }, (_, i) => `o${String(i).padStart(2, "0")}`);
  for (const id of ids) await s.governor.putObject(id, { policy: "continuous-monitor" });
  await s.advance(0);
  s.driver.crash("o59", "running", false); // started elsewhere, nobody told
  const errors: string[] = [];
  s.governor.events.on("governor:error", (e) => errors.push(e.message));

  const observe = s.driver.observe.bind(s.driver);
  let inFlight = 0;
  let most = 0;
  // What each observe is given to learn that no one waits for it any more.
  const signals = new Map<string, AbortSignal | undefined>();
  s.driver.observe = async (t: DriverTarget, signal?: AbortSignal) => {
    signals.set(t.objectId, signal);
    if (t.objectId === "o00") return new Promise(() => {}); // never answers
    inFlight++;
    most = Math.max(most, inFlight);
    await tick();
    inFlight--;
    return observe(t);
  };
  const pass = s.governor.reconcile();
  let settled = false;
  void pass.then(() => (settled = true));
  for (let i = 0; i < 50; i++) await tick();
  expect(settled).toBe(false); // o00 is still being waited for
  expect(signals.get("o00")?.aborted).toBe(false);
  await s.clock.advance(RECONCILE_DEADLINE_MS, async () => {
    for (let i = 0; i < 20; i++) await tick();
  });
  for (let i = 0; i < 50 && !settled; i++) await tick();
  expect(settled).toBe(true);
  expect(await pass).toBe(1);
  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(RECONCILE_CONCURRENCY);
  expect(errors.some((m) => m.includes("observing o00") && m.includes("took longer"))).toBe(true);
  // Given up at the deadline: the driver is told, so that it may stop; the answered ones are not.
  expect(signals.get("o00")?.aborted).toBe(true);
  expect(signals.get("o01")?.aborted).toBe(false);
});

test("an object whose divergence cannot be committed holds up none of the others: they are corrected in the same pass", async () => {
  const store = new RefusingStore();
  s = await makeServices({ store });
  for (const id of ["o00", "o01", "o02"]) await s.governor.putObject(id, { policy: "continuous-monitor" });
  await s.advance(0);
  expect((await s.governor.getObject("o02"))!.state).toBe("dormant");
  const errors: string[] = [];
  s.governor.events.on("governor:error", (e, context) => errors.push(`${context}: ${e.message}`));
  s.driver.crash("o00", "running", false); // started elsewhere, nobody told: reconciliation finds both
  s.driver.crash("o02", "running", false);
  store.refuse = (b) => b.object.id === "o00";
  expect(await s.governor.reconcile()).toBe(1);
  expect((await s.governor.listDecisions("o02", 1))[0]!.trigger).toEqual({ kind: "substrate", name: "running" });
  expect(errors).toEqual(["reconciling o00: disk full"]);
});
