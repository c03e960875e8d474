// docs/substrates.md: "A PUT with the same config changes nothing." A PUT that spells out the
// default grace period (`graceMs: 5000`, "default 5000") describes the same config; it was taken
// for a rebind, and the running tree was stopped. Configs are compared with their defaults in.

import { afterEach, expect, test } from "vitest";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { isGone, readStat } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { RULES_DIR } from "../../helpers/services.ts";
import { killGroups } from "../../helpers/process.ts";

const governors: Governor[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) {
    // The rebind's evaluation may have started a tree of the new config: end it too.
    const pid = (await g.getObject("m1"))?.substrate.observed?.pid;
    await g.idle();
    const now = (await g.getObject("m1"))?.substrate.observed?.pid;
    for (const p of [pid, now]) if (typeof p === "number") pids.push(p);
    await g.close();
  }
  killGroups(pids);
});

test("re-PUTting a process object with its default graceMs spelled out leaves its tree running", async () => {
  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const g = new Governor({
    store: new MemoryStore(),
    policies,
    clock,
    random: () => 0.5,
    drivers: [new ProcessDriver({ clock })],
  });
  governors.push(g);
  await g.start();
  const config = { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] };
  await g.putObject("m1", {
    policy: "continuous-monitor",
    substrate: { driver: "process", config },
    memory: { monitoring: { enabled: true } },
  });
  await clock.advance(0, () => g.idle());
  const before = (await g.getObject("m1"))!;
  expect(before.state).toBe("active");
  const pid = before.substrate.observed!.pid as number;
  pids.push(pid);

  await g.putObject("m1", {
    policy: "continuous-monitor",
    substrate: { driver: "process", config: { ...config, graceMs: 5000 } },
  });
  const s = readStat(pid);
  expect(s !== null && !isGone(s)).toBe(true);
});

test("each driver's canonical config fills its defaults, so a default spelled out is the same binding", () => {
  const d = new ProcessDriver({ clock: new VirtualClock(0) });
  const config = { command: "sleep", args: ["1"] };
  expect(d.canonicalConfig(config)).toEqual(d.canonicalConfig({ ...config, graceMs: 5000 }));
  expect(d.canonicalConfig(config)).not.toEqual(d.canonicalConfig({ ...config, graceMs: 4000 }));
  // No arguments or no variables spelled out: the same child as none given.
  expect(d.canonicalConfig({ command: "srv", args: [] })).toEqual(d.canonicalConfig({ command: "srv" }));
  expect(d.canonicalConfig({ command: "srv", env: {} })).toEqual(d.canonicalConfig({ command: "srv" }));
  expect(d.canonicalConfig({ command: "srv", env: { A: "" } })).not.toEqual(d.canonicalConfig({ command: "srv" }));
});
