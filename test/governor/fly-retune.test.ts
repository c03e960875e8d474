// A PUT that changes only settings of an object's Fly machine (its stop signal or timeout,
// leases, the other address of the same API) keeps the machine as it is: the same app and
// machine id are the same compute. Before, it counted as a rebind and the machine was stopped
// (a running agent killed and cold-booted, a suspended one's snapshot thrown away), and an
// object whose API address had been dropped from the allow-list could never be moved to an
// allowed one: the rebind's stop went to the refused address.
import { afterEach, expect, test } from "vitest";
import type { JsonObject } from "../../src/core/types.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { startFlyFake, type FlyFake } from "../substrate/fly/fake.ts";
import { flyGovernor, MACHINE, quiet, T0 } from "../substrate/fly/rig.ts";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers.length = 0;
});

/** A governor with the fly driver allowing `apiUrls` (default: both addresses of the fake). */
async function governorOn(clock: VirtualClock, fake: FlyFake, store: MemoryStore, apiUrls?: string[]) {
  const { governor, counting, settle } = await flyGovernor(clock, fake, {
    store,
    apiUrls: apiUrls ?? [fake.url, alias(fake)],
  });
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 1_000) await clock.advance(1_000, settle);
  };
  /** Moves time a second at a time until `call` (which holds the object's mailbox) settles. */
  const run = async <T>(call: Promise<T>): Promise<T> => {
    let done = false;
    void call.finally(() => (done = true)).catch(() => {});
    for (let i = 0; i < 300 && !done; i++) await clock.advance(1_000, () => quiet(counting, fake));
    return call;
  };
  return { governor, advance, run, close: () => governor.close() };
}

/** The fake's other address: the same API, as api.machines.dev and _api.internal are. */
const alias = (fake: FlyFake) => fake.url.replace("127.0.0.1", "localhost");

const OTHER = "0the4000000001";

async function world() {
  const clock = new VirtualClock(T0);
  const fake = await startFlyFake({ clock, machines: [MACHINE, OTHER] });
  closers.push(() => fake.close());
  const store = new MemoryStore();
  const g = await governorOn(clock, fake, store);
  closers.push(g.close);
  const config = (extra: JsonObject = {}): JsonObject => ({
    app: fake.app,
    machineId: MACHINE,
    apiUrl: fake.url,
    ...extra,
  });
  const put = (c: JsonObject) =>
    g.governor.putObject("agent", { policy: "on-demand", substrate: { driver: "fly", config: c } });
  const commands = () => fake.requests.filter((q) => ["start", "stop", "suspend"].includes(q.action ?? ""));
  return { clock, fake, store, g, config, put, commands };
}

test("an active object given a stop timeout keeps its machine running: nothing is sent", async () => {
  const w = await world();
  await w.put(w.config());
  await w.g.governor.postFacts("agent", { work: { pending: 1 } });
  await w.g.advance(5_000);
  expect((await w.g.governor.getObject("agent"))!.state).toBe("active");
  const before = w.commands().length;

  const reply = await w.put(w.config({ stopTimeout: "60s", stopSignal: "SIGTERM" }));
  await w.g.advance(10_000);
  expect(reply.object.state).toBe("active");
  expect(reply.object.substrate.config).toEqual(w.config({ stopTimeout: "60s", stopSignal: "SIGTERM" }));
  expect(w.commands().slice(before)).toEqual([]);
  expect(w.fake.machines.get(MACHINE)!.state).toBe("started");

  // The new settings go with the next command: the deletion's stop carries them.
  expect(await w.g.run(w.g.governor.deleteObject("agent"))).toBe(true);
  expect(w.fake.machines.get(MACHINE)!.lastStop).toEqual({ signal: "SIGTERM", timeout: "60s" });
});

test("a dormant object moved to the other address of the same API keeps its suspended machine", async () => {
  const w = await world();
  await w.put(w.config());
  await w.g.governor.postFacts("agent", { work: { pending: 1 } });
  await w.g.advance(5_000);
  await w.g.governor.postFacts("agent", { work: { pending: 0 } });
  await w.g.advance(5_000);
  expect((await w.g.governor.getObject("agent"))!.state).toBe("dormant");
  expect(w.fake.machines.get(MACHINE)!.state).toBe("suspended");
  const before = w.commands().length;

  await w.put(w.config({ apiUrl: alias(w.fake) }));
  await w.g.advance(10_000);
  expect(w.fake.machines.get(MACHINE)!.state).toBe("suspended");
  expect(w.commands().slice(before)).toEqual([]);
  // And it wakes through the new address.
  await w.g.governor.postFacts("agent", { work: { pending: 1 } });
  await w.g.advance(5_000);
  expect((await w.g.governor.getObject("agent"))!.state).toBe("active");
});

test("an object whose address was dropped from the allow-list is moved to an allowed one by a PUT", async () => {
  const w = await world();
  await w.put(w.config());
  await w.g.governor.postFacts("agent", { work: { pending: 1 } });
  await w.g.advance(5_000);
  expect((await w.g.governor.getObject("agent"))!.state).toBe("active");
  await w.g.close();

  // The server comes back allowing only the other address (Vigil moved inside Fly's network).
  const g2 = await governorOn(w.clock, w.fake, w.store, [alias(w.fake)]);
  closers.push(g2.close);
  const reply = await g2.governor.putObject("agent", {
    policy: "on-demand",
    substrate: { driver: "fly", config: w.config({ apiUrl: alias(w.fake) }) },
  });
  expect(reply.object.state).toBe("active");
  await g2.advance(5_000);
  expect(w.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("another machine is still a rebind: the old one is stopped", async () => {
  const w = await world();
  await w.put(w.config());
  await w.g.governor.postFacts("agent", { work: { pending: 1 } });
  await w.g.advance(5_000);
  expect(w.fake.machines.get(MACHINE)!.state).toBe("started");
  // The PUT waits for the old machine's stop, which takes (virtual) time.
  const reply = await w.g.run(w.put(w.config({ machineId: OTHER })));
  expect(reply.object.substrate.observed).toBeNull();
  expect(w.fake.machines.get(MACHINE)!.state).toBe("stopped");
});
