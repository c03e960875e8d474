// Real services for tests: the governor over a store (in-memory by default, or libsql),
// the example policies from rules/, the simulated driver, and a virtual clock.

import { fileURLToPath } from "node:url";
import type { Store } from "../../src/core/store.ts";
import type { RetryPolicy } from "../../src/governor/dispatcher.ts";
import { Governor, type GovernorOptions } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";

export const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));
export const START = Date.parse("2026-03-01T00:00:00Z");

export interface TestServices {
  governor: Governor;
  policies: PolicyRegistry;
  clock: VirtualClock;
  driver: SimulatedDriver;
  store: Store;
  whatIf: WhatIf;
  tokens: TokenConfig[];
  /** Moves virtual time, letting every evaluation, commit and driver call settle. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function makeServices(
  opts: {
    tokens?: TokenConfig[];
    store?: Store;
    start?: number;
    rulesDir?: string;
    mailboxLimit?: number;
    retry?: RetryPolicy;
    lease?: GovernorOptions["lease"];
  } = {},
): Promise<TestServices> {
  const clock = new VirtualClock(opts.start ?? START);
  const policies = new PolicyRegistry(() => clock.now());
  const errors = policies.loadDirectory(opts.rulesDir ?? RULES_DIR);
  if (errors.length > 0) throw new Error(`example policies invalid: ${JSON.stringify(errors)}`);
  const store = opts.store ?? new MemoryStore();
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  const governor = new Governor({
    store,
    policies,
    drivers: [driver],
    clock,
    random: () => 0.5,
    ...(opts.mailboxLimit !== undefined ? { mailboxLimit: opts.mailboxLimit } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.lease ? { lease: opts.lease } : {}),
  });
  await governor.start();
  return {
    governor,
    policies,
    clock,
    driver,
    store,
    // A replay's deadline on the test's clock, as the dry run's already is (the governor's): a
    // long replay on a loaded machine must not run out of wall-clock time mid-test. The
    // deadline's own tests (test/http/what-if-limits.test.ts) make their WhatIf with theirs.
    whatIf: new WhatIf(store, (id) => governor.getObject(id), { now: () => clock.now() }),
    tokens: opts.tokens ?? [],
    advance: (ms) => clock.advance(ms, () => governor.idle()),
    close: async () => {
      await governor.close();
      await store.close();
    },
  };
}
