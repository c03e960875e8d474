// docs/substrates.md: "A PUT with the same config (a default such as `graceMs: 5000` written out
// or left out alike) changes nothing." The simulated driver documents `resumeMs` as "default
// startMs" and the fly driver `apiUrl` as "defaults to https://api.machines.dev"; neither
// driver's canonicalConfig filled these, so a PUT spelling either out was taken for a rebind and
// the running compute was stopped.

import { expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { FlyDriver } from "../../src/substrate/fly/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";

test("re-PUTting a simulated object with resumeMs spelled out as its default (startMs) leaves it active", async () => {
  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const driver = new SimulatedDriver({ clock });
  const g = new Governor({ store: new MemoryStore(), policies, clock, random: () => 0.5, drivers: [driver] });
  await g.start();
  try {
    const config = { startMs: 0 };
    await g.putObject("m1", {
      policy: "continuous-monitor",
      substrate: { driver: "simulated", config },
      memory: { monitoring: { enabled: true } },
    });
    await clock.advance(0, () => g.idle());
    const before = (await g.getObject("m1"))!;
    expect(before.state).toBe("active");

    await g.putObject("m1", {
      policy: "continuous-monitor",
      substrate: { driver: "simulated", config: { ...config, resumeMs: 0 } },
    });
    await clock.advance(0, () => g.idle());
    const after = (await g.getObject("m1"))!;
    // Same binding: the stored config is kept and nothing was stopped.
    expect(after.substrate.config).toEqual(config);
    expect(after.substrate.observed).not.toBeNull();
  } finally {
    await g.close();
  }
});

test("the simulated driver's canonical config: resumeMs left out equals resumeMs = startMs", () => {
  const d = new SimulatedDriver({ clock: new VirtualClock(0) });
  expect(d.canonicalConfig({ startMs: 100 })).toEqual(d.canonicalConfig({ startMs: 100, resumeMs: 100 }));
});

test("the fly driver's canonical config: apiUrl left out equals the default spelled out", () => {
  const d = new FlyDriver({ clock: new VirtualClock(0), token: "t" });
  const config = { app: "my-app", machineId: "3d8d9016b26789" };
  expect(d.validateConfig({ ...config, apiUrl: "https://api.machines.dev" })).toEqual([]);
  expect(d.canonicalConfig(config)).toEqual(d.canonicalConfig({ ...config, apiUrl: "https://api.machines.dev" }));
  expect(d.canonicalConfig(config)).toEqual(d.canonicalConfig({ ...config, apiUrl: "https://api.machines.dev/" }));
  expect(d.canonicalConfig(config)).toEqual(d.canonicalConfig({ ...config, lease: false }));
  expect(d.canonicalConfig(config)).not.toEqual(d.canonicalConfig({ ...config, lease: true }));
});
