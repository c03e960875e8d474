// A new binding on the same driver: PUT with another process config stops the tree started
// from the old one, and the driver forgets it, so that the next wake runs the new config
// instead of reporting the old process as running. Real OS processes.

import { afterEach, describe, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { SystemClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { confirmed } from "../helpers/events.ts";

const pids: number[] = [];
const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** A process config that idles; `tag` tells two configs apart (an argument the script ignores). */
const idling = (tag: string) => ({
  driver: "process",
  config: { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)", tag], graceMs: 2000 },
});

async function make(): Promise<Governor> {
  const clock = new SystemClock();
  const policies = new PolicyRegistry();
  policies.loadDirectory(RULES_DIR);
  const g = new Governor({
    store: new MemoryStore(),
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock }), new ProcessDriver({ clock })],
  });
  governors.push(g);
  await g.start();
  return g;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Wakes the object (nightly-report wakes on a requested report) and returns its leader's pid. */
async function wake(g: Governor, id: string): Promise<number> {
  const started = confirmed(g, "start");
  await g.postFacts(id, { report: { requested: true } });
  await started;
  const pid = (await g.getObject(id))!.substrate.observed!.pid as number;
  pids.push(pid);
  return pid;
}

async function sleep(g: Governor, id: string): Promise<void> {
  const stopped = confirmed(g, "stop");
  await g.postFacts(id, { report: { requested: false, status: "sent" } });
  await stopped;
}

describe("a new config on the same driver", () => {
  test("stops the tree of the old config; the next wake runs the new one", async () => {
    const g = await make();
    await g.putObject("c1", { policy: "nightly-report", substrate: idling("v1") });
    const old = await wake(g, "c1");

    await g.putObject("c1", { policy: "nightly-report", substrate: idling("v2") });
    expect(alive(old)).toBe(false);
    // What was observed belonged to the old config.
    expect((await g.getObject("c1"))!.substrate).toMatchObject({ config: idling("v2").config, observed: null });

    await sleep(g, "c1");
    const fresh = await wake(g, "c1");
    expect(fresh).not.toBe(old);
    expect(alive(fresh)).toBe(true);
  });

  test("the same config again leaves the running tree alone", async () => {
    const g = await make();
    await g.putObject("c2", { policy: "nightly-report", substrate: idling("v1") });
    const pid = await wake(g, "c2");
    await g.putObject("c2", { policy: "nightly-report", substrate: idling("v1") });
    expect(alive(pid)).toBe(true);
    expect((await g.getObject("c2"))!.substrate.observed).toMatchObject({ status: "running", pid });
  });
});
