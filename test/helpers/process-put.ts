// A PUT of an object bound to the process driver, through a governor of its own: how the tests of
// what a process config may hold check that a config is refused at the PUT and creates nothing.

import type { JsonObject } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "./services.ts";

/**
 * PUTs object `p1` (policy `on-demand`) bound to the process driver with `config`, on a memory
 * store: what the PUT was rejected with (undefined when it was not), and whether `p1` exists after.
 */
export async function putProcessObject(config: JsonObject): Promise<{ rejected: unknown; stored: boolean }> {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const governor = new Governor({ store: new MemoryStore(), policies, clock, drivers: [new ProcessDriver({ clock })] });
  await governor.start();
  try {
    const rejected = await governor
      .putObject("p1", { policy: "on-demand", substrate: { driver: "process", config } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    return { rejected, stored: (await governor.getObject("p1")) !== null };
  } finally {
    await governor.close();
  }
}
