// The fly driver under the governor, against a local Fly that misbehaves: random 429s and
// 5xx, slow replies, replies that never come in time (the client's timeout), and transitions
// slower than a wait. Several objects are woken and put to sleep by their rules, their facts
// changing while actions are still on their way; then some flap as fast as their machines
// move, which is where the client's rate limiter has to hold. Every object must end where its
// rules say, with its machine there too, and the log of what the fake received must show the
// client never went over Fly's rate limits, retries included.
//
// Everything random is seeded: the fake draws each machine's faults from a stream of its own
// (a machine's requests come one after another, so its faults repeat run to run however the
// machines interleave), the facts come from another, and backoff jitter is fixed. Time is
// the fake's and the governor's one virtual clock, moved only when every request in flight
// is parked on it.

import { afterEach, expect, test } from "vitest";
import type { LifecycleState } from "../../../src/core/types.ts";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { RULES_DIR } from "../../helpers/services.ts";
import { startFlyFake, type FlyFake, type RecordedRequest } from "./fake.ts";
import { seededRandom } from "../../../src/core/random.ts";
import { countingFetch, quiet, T0 } from "./rig.ts";

const SEED = 20_250_601;
const OBJECTS = 8;
const ROUNDS = 16;
/** How many objects flap, for how many steps of 100 ms. */
const FLAPPING = 4;
const FLAP_STEPS = 300;
/** Virtual time the objects get to converge after the last facts; far more than they need. */
const CONVERGE_WITHIN_MS = 60 * 60_000;

/** on-demand (rules/on-demand.json), but dormancy stops the machine instead of suspending it. */
const ON_DEMAND_STOP = {
  name: "on-demand-stop",
  version: "1",
  defaults: { work: { pending: 0 } },
  sleep: "stop",
  rules: [
    {
      name: "work-pending",
      conditions: { all: [{ fact: "memory", path: "$.work.pending", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "no-work",
      conditions: {
        all: [
          { fact: "memory", path: "$.work.pending", operator: "equal", value: 0 },
          { fact: "state", operator: "in", value: ["active", "waking"] },
        ],
      },
      event: { type: "dormancy" },
    },
  ],
};

/**
 * Fly's published limits (fly.io/docs/machines/api/working-with-machines-api/), written out
 * here rather than taken from the client's table, which is what is under test.
 */
function documentedLimit(action: string): { ratePerS: number; burst: number } {
  return action === "get" ? { ratePerS: 5, burst: 10 } : { ratePerS: 1, burst: 3 };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/**
 * Checks a request log against a token bucket: no n requests within `t` ms may exceed what
 * the bucket lets through, `burst + t * rate`. The same bound covers every window length.
 */
function bucketExcess(times: number[], limit: { ratePerS: number; burst: number }): string | null {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++)
    for (let j = i; j < sorted.length; j++) {
      const allowed = limit.burst + ((sorted[j]! - sorted[i]!) * limit.ratePerS) / 1000;
      if (j - i + 1 > allowed + 1e-9) return `${j - i + 1} requests within ${sorted[j]! - sorted[i]!} ms`;
    }
  return null;
}

/** Requests per machine and action, by when they arrived. */
function byMachineAndAction(requests: RecordedRequest[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const q of requests) {
    const machine = /^\/v1\/apps\/[^/]+\/machines\/([^/]+)/.exec(q.path)?.[1];
    if (!machine || !q.action) continue;
    const key = `${machine} ${q.action}`;
    groups.set(key, [...(groups.get(key) ?? []), q.received]);
  }
  return groups;
}

test("objects converge to their governed states through faults, within Fly's rate limits", async () => {
  const clock = new VirtualClock(T0);
  const machineIds = Array.from({ length: OBJECTS }, (_, i) => `f1a5e0000000${String(i).padStart(2, "0")}`);
  const fake: FlyFake = await startFlyFake({ clock, seed: SEED, machines: machineIds });
  closers.push(() => fake.close());
  /** Everything at once: what the objects must come through. */
  const harsh = () => {
    fake.faults
      .clear()
      .add({ status: 429, probability: 0.08, retryAfterS: 2 })
      .add({ status: 503, probability: 0.06 })
      .add({ status: 502, probability: 0.03 })
      // Served, but answered after every client timeout (30 s; a wait's 75 s): no answer in time.
      .add({ delayMs: 120_000, probability: 0.02 })
      // Served, answered late.
      .add({ delayMs: 4_000, probability: 0.08 });
    // One transition in five outlasts a whole wait (60 s): the driver must wait again.
    fake.slowTransitions = { probability: 0.2, extraMs: 75_000 };
    Object.assign(fake.transitionMs, { start: 300, stop: 200, suspend: 400 });
  };
  /** Quick failures and quick machines: actions come as fast as the client lets them. */
  const brisk = () => {
    fake.faults.clear().add({ status: 503, probability: 0.1 }).add({ status: 502, probability: 0.05 });
    fake.slowTransitions = null;
    Object.assign(fake.transitionMs, { start: 20, stop: 20, suspend: 20 });
  };

  const counting = countingFetch();
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const loaded = policies.loadText(JSON.stringify(ON_DEMAND_STOP), "inline/on-demand-stop.json");
  expect(loaded.ok).toBe(true);
  const driver = new FlyDriver({
    clock,
    token: fake.token,
    fetch: counting.fetch,
    apiUrls: [fake.url],
    random: () => 0.5,
  });
  const governor = new Governor({ store: new MemoryStore(), policies, clock, drivers: [driver], random: () => 0.5 });
  const errors: string[] = [];
  governor.events.on("governor:error", (e, context) => errors.push(`${context}: ${e.message}`));
  await governor.start();
  closers.push(() => governor.close());

  const settle = () => quiet(counting, fake, () => governor.idle());
  const advance = (ms: number) => clock.advance(ms, settle);
  /** Awaits a governor call, moving the clock whenever everything waits on it. */
  const run = async <T>(call: Promise<T>): Promise<T> => {
    let settled = false;
    void call.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let waited = 0; !settled && waited < CONVERGE_WITHIN_MS; waited += 1_000) await advance(1_000);
    return call;
  };

  const objects = machineIds.map((machineId, i) => ({
    id: `agent-${i}`,
    machineId,
    sleep: i % 2 === 0 ? ("suspend" as const) : ("stop" as const),
    pending: 0,
  }));
  for (const o of objects)
    await governor.putObject(o.id, {
      policy: o.sleep === "suspend" ? "on-demand" : "on-demand-stop",
      substrate: { driver: "fly", config: { app: fake.app, machineId: o.machineId, apiUrl: fake.url } },
    });

  // Work comes and goes; the next facts often arrive while the last action is on its way.
  harsh();
  const random = seededRandom(SEED);
  for (let round = 0; round < ROUNDS; round++) {
    for (const o of objects) {
      o.pending = random() < 0.5 ? 0 : 1 + Math.floor(random() * 3);
      await governor.postFacts(o.id, { work: { pending: o.pending } });
    }
    await advance(Math.floor(random() * 20_000));
  }
  // Objects flap: as soon as one settles, its work turns around, so that its actions come as
  // fast as the machine moves. Here the client's rate limiter has work to do.
  brisk();
  for (let step = 0; step < FLAP_STEPS; step++) {
    for (const o of objects.slice(0, FLAPPING)) {
      const state = (await governor.getObject(o.id))!.state;
      if ((state === "active" && o.pending > 0) || (state === "dormant" && o.pending === 0)) {
        o.pending = o.pending > 0 ? 0 : 1;
        await governor.postFacts(o.id, { work: { pending: o.pending } });
      }
    }
    await advance(100);
  }
  // The last round wakes some and puts the others to sleep, whatever came before.
  harsh();
  for (const [i, o] of objects.entries()) {
    o.pending = i % 3 === 0 ? 0 : 1;
    await governor.postFacts(o.id, { work: { pending: o.pending } });
  }

  const governed = (o: (typeof objects)[number]): LifecycleState => (o.pending > 0 ? "active" : "dormant");
  const machineStates = (o: (typeof objects)[number]): string[] =>
    o.pending > 0 ? ["started"] : o.sleep === "suspend" ? ["suspended", "stopped"] : ["stopped"];
  const converged = async () => {
    if (governor.dispatchBacklog > 0) return false;
    for (const o of objects) {
      if ((await governor.getObject(o.id))!.state !== governed(o)) return false;
      if (!machineStates(o).includes(fake.machines.get(o.machineId)!.state)) return false;
    }
    return true;
  };
  let waited = 0;
  for (; !(await converged()) && waited < CONVERGE_WITHIN_MS; waited += 1_000) await advance(1_000);

  for (const o of objects) {
    const object = (await governor.getObject(o.id))!;
    expect({ id: o.id, state: object.state }).toEqual({ id: o.id, state: governed(o) });
    expect(machineStates(o), o.id).toContain(fake.machines.get(o.machineId)!.state);
  }
  expect(governor.dispatchBacklog).toBe(0);

  // Reconciliation, faults still on, finds nothing to correct.
  expect(await run(governor.reconcile())).toBe(0);

  // The faults happened, all of them.
  const statuses = new Set(fake.requests.map((q) => q.status));
  for (const s of [429, 502, 503, 408]) expect(statuses, `some request got ${s}`).toContain(s);
  expect(fake.requests.filter((q) => q.aborted).length, "client timeouts").toBeGreaterThan(0);
  expect(
    fake.requests.filter((q) => q.action !== "wait" && q.at - q.received >= 4_000).length,
    "slow replies",
  ).toBeGreaterThan(0);
  expect(counting.inflight.size, "nothing still on the wire: the log is whole").toBe(0);
  expect(fake.slowed, "slow transitions").toBeGreaterThan(0);
  expect(fake.faults.injected).toBeGreaterThan(20);

  // Within Fly's limits, retries included: the fake's own limiter refused nothing, and no
  // machine saw more of any action than its bucket allows over any stretch of time.
  expect(fake.rateLimited).toBe(0);
  const groups = byMachineAndAction(fake.requests);
  expect(groups.size).toBeGreaterThan(OBJECTS);
  for (const [key, times] of groups) {
    const action = key.split(" ")[1]!;
    expect(bucketExcess(times, documentedLimit(action)), key).toBeNull();
  }
  expect(fake.violations).toEqual([]);
  expect(fake.selfViolations).toEqual([]);
  expect(errors).toEqual([]);
}, 30_000);
