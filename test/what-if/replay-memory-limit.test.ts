// VIGIL_MEMORY_LIMIT is "memory size limit per object in bytes" (default 262144), and
// replay "runs the candidate policy over the object's recorded history". On a server whose
// limit is raised, an object may legitimately hold more than 256 KiB: replaying its history
// must not refuse the memory the server itself accepted.
import { afterEach, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/memory-limits.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { queueWorkerPolicy } from "../http/harness.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

let close: () => Promise<void> = async () => {};
afterEach(() => close());

test("replay of an object whose memory is over 256 KiB, on a server with VIGIL_MEMORY_LIMIT = 1 MiB", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  // As main.ts wires VIGIL_MEMORY_LIMIT=1048576.
  const limits = { ...DEFAULT_LIMITS, maxMemoryBytes: 1024 * 1024 };
  const governor = new Governor({ store, policies, drivers: [driver], clock, random: () => 0.5, limits });
  await governor.start();
  close = async () => {
    await governor.close();
    await store.close();
  };
  await governor.putObject("big", { policy: "queue-worker" });
  // Five patches of 60 KB each (each under the 64 KiB patch limit): memory grows to ~300 KB,
  // within the server's 1 MiB limit. The server accepts every one.
  for (let i = 0; i < 5; i++) await governor.postFacts("big", { [`blob${i}`]: "x".repeat(60_000) });
  await governor.postFacts("big", { queue: { depth: 2 } });
  expect((await governor.getObject("big"))!.memoryVersion).toBe(6);

  const whatIf = new WhatIf(store, (id) => governor.getObject(id));
  // The same policy as a candidate: nothing should differ, and the replay should answer.
  const report = await whatIf.replay("big", queueWorkerPolicy()).catch((e: Error) => e);
  // Today: VigilError "the facts break a memory limit" ($.facts: memory would be ... bytes; the
  // limit is 262144), from the replay's sandbox governor, which runs at DEFAULT_LIMITS.
  expect(report).not.toBeInstanceOf(Error);
  expect(report).toMatchObject({ differenceCount: 0 });
});
