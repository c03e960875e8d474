// The dispatcher claims an action in its object's mailbox and then reads the object's binding to
// send it. An object not in memory (a pending start sent again after a restart) is read from the
// store, and while that read is under way the mailbox takes the next request: a DELETE and a PUT
// that creates the id again, or a rebinding PUT. What the read then finds is another object, or
// the new binding, and the action, decided for the old one, must not be sent to it.

import { afterEach, expect, test } from "vitest";
import type { ObjectRecord } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

/** A memory store whose reads of one object wait while `held` (a slow read, the writes go on). */
class HeldReads extends MemoryStore {
  held: Promise<void> | null = null;
  asked = 0;
  override async getObject(id: string): Promise<ObjectRecord | null> {
    this.asked++;
    if (this.held) await this.held;
    return super.getObject(id);
  }
}

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
});

function make(store: MemoryStore, clock: VirtualClock): { governor: Governor; driver: SimulatedDriver } {
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  const governor = new Governor({ store, policies, drivers: [driver], clock, random: () => 0.5 });
  governors.push(governor);
  return { governor, driver };
}

/**
 * A store holding o1 waking with its start pending (the server stopped before sending it), and
 * a second server started on it whose read of o1 for the send is held. Returns that server, its
 * driver's starts (action ids and configs), the pending start's id and the held read's release.
 */
async function restartedWithSendHeld() {
  const clock = new VirtualClock(START);
  const store = new HeldReads();
  const first = make(store, clock).governor;
  await first.start();
  // Its start takes 50 ms on a clock that does not move: it is still with the driver at the close.
  await first.putObject("o1", {
    policy: "on-demand",
    memory: { work: { pending: 1 } },
    substrate: { driver: "simulated", config: { startMs: 50 } },
  });
  governors.splice(governors.indexOf(first), 1);
  await first.close();
  const pending = await store.pendingActions("o1");
  expect(pending.map((a) => a.kind)).toEqual(["start"]);

  let open = () => {};
  store.held = new Promise<void>((r) => (open = r));
  const { governor, driver } = make(store, clock);
  const starts: { action: string; config: unknown }[] = [];
  const start = driver.start.bind(driver);
  driver.start = (t) => {
    starts.push({ action: t.action ?? "", config: t.config });
    return start(t);
  };
  store.asked = 0;
  await governor.start();
  // The claim has been made and the send's read of o1 waits.
  while (store.asked === 0) await new Promise<void>((r) => setImmediate(r));
  return { governor, driver, clock, store, starts, pending: pending[0]!.id, open };
}

test("a start whose object is deleted and created again while it is being sent is not sent to the new object", async () => {
  const { governor, driver, clock, starts, pending, open } = await restartedWithSendHeld();
  expect(await governor.deleteObject("o1")).toBe(true);
  await governor.putObject("o1", { policy: "on-demand" });
  open();
  await clock.advance(1_000, () => governor.idle());

  expect(starts.filter((s) => s.action === pending)).toEqual([]);
  const o = (await governor.getObject("o1"))!;
  expect(o.state).toBe("dormant");
  // No compute runs for the new object, which its rules left dormant.
  expect((await driver.observe({ objectId: "o1", config: {} })).status).toBe("stopped");
});

test("a start whose object is rebound while it is being sent is not sent to the new binding", async () => {
  const { governor, clock, store, starts, pending, open } = await restartedWithSendHeld();
  await governor.putObject("o1", { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 7 } } });
  open();
  await clock.advance(1_000, () => governor.idle());

  // The rebind's own evaluation wakes o1 on the new binding, with a start of its own.
  expect(starts.filter((s) => s.action === pending)).toEqual([]);
  expect(starts.map((s) => s.config)).toEqual([{ startMs: 7 }]);
  expect((await governor.getObject("o1"))!.state).toBe("active");
  // The old start's row is closed, not sent again at the next start.
  expect(await store.pendingActions("o1")).toEqual([]);
});
