// A governor of its own for what-if work: an in-memory store, the simulated substrate
// confirming at once, and a virtual clock. Fixtures and replay run in one.

import { DEFAULT_LIMITS, type MemoryLimits } from "../core/memory-limits.ts";
import { emptyBatch } from "../core/store.ts";
import { setAll } from "../core/timers.ts";
import type { ObjectRecord } from "../core/types.ts";
import { Governor } from "../governor/governor.ts";
import type { PolicyRegistry } from "../governor/policy-registry.ts";
import { MemoryStore } from "../storage/memory-store.ts";
import { SimulatedDriver } from "../substrate/simulated/driver.ts";
import { VirtualClock } from "../timers/clock.ts";

export interface Sandbox {
  governor: Governor;
  clock: VirtualClock;
  driver: SimulatedDriver;
  /** What the governor stored (with `history: false`, no journal, decisions or actions). */
  store: MemoryStore;
  /** Moves virtual time to `at`, firing due timers and letting everything settle. */
  advanceTo(at: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The memory limits recorded history runs under (replay, `vigil simulate --db`): it was accepted
 * once, under the limit the server had then (VIGIL_MEMORY_LIMIT may be raised), so its memory's
 * size is not refused again, nor a number past 2^53 that a Vigil before commit bb3d64f took
 * (its patches and memory hold it as JSON read it). The patch and depth limits are fixed, and
 * hold as they did.
 */
export const RECORDED_LIMITS: MemoryLimits = {
  ...DEFAULT_LIMITS,
  maxMemoryBytes: Number.POSITIVE_INFINITY,
  numbers: false,
};

/**
 * Starts a sandbox at `start`; `seed` objects are in the store before the governor starts.
 * `pace` runs after each timer `advanceTo` fires, once its work has settled: a replay checks
 * its budget there, and may throw to stop.
 */
export async function createSandbox(
  registry: PolicyRegistry,
  start: number,
  seed: ObjectRecord[] = [],
  pace: () => Promise<void> = async () => {},
  limits: MemoryLimits = DEFAULT_LIMITS,
  /** Whether the sandbox's store keeps what happened in it (a replay reads the events instead). */
  history = true,
  /** Whether its policy is a candidate that came in a request, not a file (a replay's). */
  candidates = false,
): Promise<Sandbox> {
  const clock = new VirtualClock(start);
  const store = new MemoryStore({ history });
  // A store keeps timers by their operations, not from the object row.
  await store.commit(seed.map((object) => ({ ...emptyBatch(object), timerOps: setAll(object.timers) })));
  const driver = new SimulatedDriver({ clock });
  const governor = new Governor({
    store,
    policies: registry,
    clock,
    drivers: [driver],
    random: () => 0.5,
    limits,
    candidates,
  });
  await governor.start();
  const settle = async () => {
    await governor.idle();
    await pace();
  };
  return {
    governor,
    clock,
    driver,
    store,
    advanceTo: (at) => clock.advanceTo(at, settle),
    close: () => governor.close(),
  };
}
