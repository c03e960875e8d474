// The governor end to end in process: real core, real stores, simulated driver, virtual clock.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let services: TestServices | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await services?.close();
  services = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(opts: Parameters<typeof makeServices>[0] = {}) {
  services = await makeServices(opts);
  return services;
}

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-gov-"));
  dirs.push(dir);
  return `file:${join(dir, "vigil.db")}`;
}

describe("object lifecycle", () => {
  test("create evaluates with trigger create and stays dormant when no rule fires", async () => {
    const s = await setup();
    const { created, object } = await s.governor.putObject("w1", { policy: "queue-worker" });
    expect(created).toBe(true);
    expect(object.state).toBe("dormant");
    expect(object.policy).toBe("queue-worker");
    const decisions = await s.governor.listDecisions("w1", 10);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.trigger).toEqual({ kind: "create" });
    expect(decisions[0]!.outcome).toBe("none");
  });

  test("facts wake the object; the driver's confirmation makes it active without a new evaluation", async () => {
    const s = await setup();
    await s.governor.putObject("w1", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { startMs: 500 } },
    });
    const reply = await s.governor.postFacts("w1", { queue: { depth: 3 } });
    expect(reply.decision.outcome).toBe("wake");
    expect(reply.decision.fired.map((f) => f.rule)).toEqual(["backlog-wake"]);
    expect(reply.decision.fromState).toBe("dormant");
    expect(reply.decision.toState).toBe("waking");
    expect(reply.decision.actions).toEqual([{ id: expect.any(String), kind: "start", status: "pending" }]);
    expect(reply.object.state).toBe("waking");
    expect(reply.object.memoryVersion).toBe(1);

    await s.advance(499);
    expect((await s.governor.getObject("w1"))!.state).toBe("waking");
    await s.advance(1);
    const o = (await s.governor.getObject("w1"))!;
    expect(o.state).toBe("active");
    expect(o.substrate.observed).toMatchObject({ status: "running" });
    // The confirmation is recorded on the action, not as another evaluation.
    expect(await s.governor.listDecisions("w1", 10)).toHaveLength(2);
    const d = await s.governor.getDecision(reply.decision.id);
    expect(d!.actions[0]!.status).toBe("confirmed");
  });

  test("dwell defers dormancy to a timer; a hold lease vetoes it until the lease's own timer", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker" });
    await s.governor.postFacts("w1", { queue: { depth: 1 } });
    await s.advance(0);
    expect((await s.governor.getObject("w1"))!.state).toBe("active");

    const early = await s.governor.postFacts("w1", { queue: { depth: 0 } });
    expect(early.decision.outcome).toBe("none");
    expect(early.decision.notes).toEqual([
      "dormancy (idle) deferred by dwell.minActive until 2026-03-01T00:02:00.000Z",
    ]);
    expect(early.decision.timers).toEqual([
      { name: "dwell", op: "set", dueAt: Date.parse("2026-03-01T00:02:00.000Z"), kind: "dwell" },
    ]);

    // The dwell timer re-evaluates the object when the dwell ends: now it may sleep.
    await s.advance(2 * 60_000);
    const [dwellEnd] = await s.governor.listDecisions("w1", 1);
    expect(dwellEnd).toMatchObject({
      trigger: { kind: "timer", name: "dwell" },
      outcome: "dormancy",
      toState: "sleeping",
    });
    expect(dwellEnd!.timers).toEqual([
      { name: "wake", op: "set", dueAt: Date.parse("2026-03-01T06:02:00.000Z"), kind: "wake" },
    ]);
    expect((await s.governor.getObject("w1"))!.state).toBe("dormant");

    const busy = await s.governor.postFacts("w1", { jobs: { inflight: 1 } });
    expect(busy.decision.outcome).toBe("hold-active");
    expect(busy.object.holdUntil).toBe(Date.parse("2026-03-01T00:03:00.000Z"));
    expect(busy.decision.notes).toEqual(["wake timer cancelled: the object is waking anyway"]);

    // The job ends, but its lease (for: PT1M) still holds the object awake.
    await s.advance(30_000);
    const leased = await s.governor.postFacts("w1", { jobs: { inflight: 0 } });
    expect(leased.decision.outcome).toBe("hold-active");
    expect(leased.decision.fired.map((f) => f.rule)).toEqual(["idle", "hold:lease"]);
    expect(leased.decision.notes).toEqual(["dormancy (idle) vetoed by hold-active rule hold:lease"]);

    // At the lease's end its timer re-evaluates; the object woke 1 minute ago, so dwell defers.
    await s.advance(30_000);
    const [expiry] = await s.governor.listDecisions("w1", 1);
    expect(expiry).toMatchObject({ trigger: { kind: "timer", name: "hold" }, outcome: "none" });
    expect(expiry!.notes).toEqual([
      "hold lease expired at 2026-03-01T00:03:00.000Z",
      "dormancy (idle) deferred by dwell.minActive until 2026-03-01T00:04:00.000Z",
    ]);
    await s.advance(60_000);
    const [last] = await s.governor.listDecisions("w1", 1);
    expect(last).toMatchObject({ trigger: { kind: "timer", name: "dwell" }, outcome: "dormancy" });
    expect(last!.actions.map((a) => a.kind)).toEqual(["suspend"]);
    expect(await s.governor.getObject("w1")).toMatchObject({ state: "dormant", holdUntil: null });
    expect((await s.governor.getObject("w1"))!.timers.map((t) => t.name)).toEqual(["wake"]);
  });

  test("the stop sleep mode of a policy issues stop", async () => {
    const s = await setup();
    await s.governor.putObject("r1", { policy: "nightly-report" });
    await s.governor.postFacts("r1", { report: { requested: true } });
    await s.advance(0);
    const r = await s.governor.postFacts("r1", { report: { requested: false, status: "sent" } });
    expect(r.decision.outcome).toBe("dormancy");
    expect(r.decision.actions.map((a) => a.kind)).toEqual(["stop"]);
  });

  test("PUT on an existing object updates it; a different memory is a conflict", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
    const again = await s.governor.putObject("w1", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
    expect(again.created).toBe(false);
    await expect(s.governor.putObject("w1", { policy: "queue-worker", memory: { x: 1 } })).rejects.toMatchObject({
      kind: "conflict",
    });
    const moved = await s.governor.putObject("w1", { policy: "continuous-monitor" });
    expect(moved.object.policy).toBe("continuous-monitor");
    const [latest] = await s.governor.listDecisions("w1", 1);
    expect(latest!.trigger).toEqual({ kind: "manual", name: "policy-changed" });
  });

  test.each([
    [{ policy: "nope" }, "$.policy"],
    [{ policy: "queue-worker", substrate: { driver: "warp", config: {} } }, "$.substrate.driver"],
    [
      { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: -1 } } },
      "$.substrate.config.startMs",
    ],
    [{ policy: "queue-worker", memory: JSON.parse('{"__proto__": {"x": 1}}') }, "$.memory.__proto__"],
  ])("invalid creation %j names %s and creates nothing", async (body, path) => {
    const s = await setup();
    await expect(s.governor.putObject("bad", body)).rejects.toMatchObject({ kind: "invalid", problems: [{ path }] });
    expect(await s.governor.getObject("bad")).toBeNull();
  });
});

describe("facts", () => {
  test("memory limits are 422s naming the path and change nothing", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker" });
    await expect(s.governor.postFacts("w1", JSON.parse('{"a": {"constructor": 1}}'))).rejects.toMatchObject({
      kind: "invalid",
      problems: [{ path: "$.facts.a.constructor" }],
    });
    await expect(s.governor.postFacts("w1", { big: "x".repeat(300 * 1024) })).rejects.toMatchObject({
      kind: "invalid",
    });
    expect((await s.governor.getObject("w1"))!.memoryVersion).toBe(0);
    expect(await s.store.journal("w1", 0, 10)).toEqual([]);
  });

  test("concurrent arrivals on one object never race: versions and journal are contiguous", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker" });
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.governor.postFacts("w1", { counter: { [`k${i}`]: i } })),
    );
    expect(replies.map((r) => r.object.memoryVersion).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const journal = await s.store.journal("w1", 0, 100);
    expect(journal.map((j) => j.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(Object.keys((await s.governor.getObject("w1"))!.memory.counter as object)).toHaveLength(50);
  });

  test("arrivals for different objects commit together (group commit)", async () => {
    const s = await setup({ store: new LibsqlStore({ url: ":memory:" }) });
    for (let i = 0; i < 20; i++) await s.governor.putObject(`o${i}`, { policy: "queue-worker" });
    const before = { ...s.governor.commitStats };
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.governor.postFacts(`o${i}`, { n: i })));
    const tx = s.governor.commitStats.transactions - before.transactions;
    const batches = s.governor.commitStats.batches - before.batches;
    expect(batches).toBe(20);
    expect(tx).toBeLessThan(batches);
  });

  test("an idempotent replay returns the first reply and applies nothing", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker" });
    const first = await s.governor.postFacts("w1", { queue: { depth: 2 } }, "key-1");
    const again = await s.governor.postFacts("w1", { queue: { depth: 2 } }, "key-1");
    expect(again.replayed).toBe(true);
    expect(again.decision.id).toBe(first.decision.id);
    expect((await s.governor.getObject("w1"))!.memoryVersion).toBe(1);
    await expect(s.governor.postFacts("w1", { queue: { depth: 9 } }, "key-1")).rejects.toMatchObject({
      kind: "conflict",
    });
    // The same document with its keys in another order is the same request.
    await s.governor.postFacts("w1", { a: 1, b: { c: 2, d: 3 } }, "key-2");
    const reordered = await s.governor.postFacts("w1", { b: { d: 3, c: 2 }, a: 1 }, "key-2");
    expect(reordered.replayed).toBe(true);
  });

  test("a replay after a policy change names the policy loaded now, not the old decision's", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "on-demand" });
    const first = await s.governor.postFacts("w1", { a: 1 }, "key-1");
    expect(first.version).toBe(s.policies.get("on-demand")!.version);
    await s.governor.putObject("w1", { policy: "continuous-monitor" });
    const again = await s.governor.postFacts("w1", { a: 1 }, "key-1");
    expect(again.replayed).toBe(true);
    expect(again.decision.policy).toEqual(first.decision.policy);
    expect(again.object.policy).toBe("continuous-monitor");
    expect(again.version).toBe(s.policies.get("continuous-monitor")!.version);
    expect(again.version).not.toBe(first.decision.policy.version);
  });

  test("a batch fails item by item", async () => {
    const s = await setup();
    await s.governor.putObject("a", { policy: "queue-worker" });
    const results = await s.governor.postFactsBatch([
      { objectId: "a", facts: { queue: { depth: 1 } } },
      { objectId: "missing", facts: {} },
      { objectId: "a", facts: [1, 2] },
    ]);
    expect(results[0]).toMatchObject({ objectId: "a", decision: { outcome: "wake", id: expect.any(String) } });
    expect(results[1]).toMatchObject({
      objectId: "missing",
      error: { kind: "not-found", message: 'object "missing" not found' },
    });
    expect(results[2]).toMatchObject({ objectId: "a", error: { kind: "invalid", problems: [{ path: "$.facts" }] } });
  });
});

describe("dry runs", () => {
  test("evaluate stores and dispatches nothing; a candidate policy can be tried", async () => {
    const s = await setup();
    await s.governor.putObject("w1", { policy: "queue-worker" });
    const d = await s.governor.evaluate("w1", { facts: { queue: { depth: 5 } } });
    expect(d).toMatchObject({ dryRun: true, outcome: "wake", trigger: { kind: "facts" }, toState: "waking" });
    expect(await s.governor.getObject("w1")).toMatchObject({ state: "dormant", memoryVersion: 0 });
    expect(await s.governor.listDecisions("w1", 10)).toHaveLength(1);
    expect(s.governor.dispatchBacklog).toBe(0);

    const manual = await s.governor.evaluate("w1", {});
    expect(manual.trigger).toEqual({ kind: "manual" });

    const candidate = {
      name: "candidate",
      version: "x",
      rules: [
        {
          name: "always",
          conditions: { all: [{ fact: "state", operator: "equal", value: "dormant" }] },
          event: { type: "wake" },
        },
      ],
    };
    const c = await s.governor.evaluate("w1", { policy: candidate });
    expect(c.policy).toMatchObject({ name: "candidate", version: "x" });
    expect(c.fired.map((f) => f.rule)).toEqual(["always"]);
    await expect(s.governor.evaluate("w1", { policy: { ...candidate, rules: [] } })).rejects.toMatchObject({
      problems: [{ path: "$.policy.rules" }],
    });
  });
});

describe("the outbox", () => {
  test("the final failure of an older start still in flight closes that action only: the newer decision's start decides", async () => {
    const s = await setup({ retry: { maxAttempts: 1, baseMs: 250, maxMs: 1000 } });
    // The first driver command fails, every later one succeeds.
    let calls = 0;
    (s.driver as unknown as { random: () => number }).random = () => (++calls === 1 ? 0 : 0.99);
    await s.governor.putObject("w1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 1000, suspendMs: 1000, failRate: 0.5 } },
    });
    const first = await s.governor.postFacts("w1", { work: { pending: 1 } }); // start A, sent
    await s.advance(0);
    const sleep = await s.governor.postFacts("w1", { work: { pending: 0 } }); // suspend B, queued
    const again = await s.governor.postFacts("w1", { work: { pending: 1 } }); // start C, queued; B superseded
    expect([first, sleep, again].map((r) => r.object.state)).toEqual(["waking", "sleeping", "waking"]);
    await s.advance(3000); // A fails for good; C is sent and succeeds
    expect((await s.governor.getDecision(first.decision.id))!.actions[0]!.status).toBe("failed");
    expect((await s.governor.getDecision(again.decision.id))!.actions[0]!.status).toBe("confirmed");
    const o = (await s.governor.getObject("w1"))!;
    expect({ state: o.state, observed: o.substrate.observed?.status }).toEqual({
      state: "active",
      observed: "running",
    });
  });

  test("retryable failures are retried with backoff and then confirmed", async () => {
    const s = await setup();
    let calls = 0;
    // Fails twice, then succeeds: the simulated driver draws from this sequence.
    (s.driver as unknown as { random: () => number }).random = () => (++calls <= 2 ? 0 : 0.99);
    await s.governor.putObject("w1", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { failRate: 0.5 } },
    });
    await s.governor.postFacts("w1", { queue: { depth: 1 } });
    await s.advance(0);
    expect((await s.governor.getObject("w1"))!.state).toBe("waking");
    await s.advance(60_000);
    expect((await s.governor.getObject("w1"))!.state).toBe("active");
    expect(calls).toBe(3);
  });

  test("a final failure moves the object to failed", async () => {
    const s = await setup();
    (s.driver as unknown as { random: () => number }).random = () => 0;
    await s.governor.putObject("w1", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    const r = await s.governor.postFacts("w1", { queue: { depth: 1 } });
    await s.advance(10 * 60_000);
    expect((await s.governor.getObject("w1"))!.state).toBe("failed");
    const d = await s.governor.getDecision(r.decision.id);
    expect(d!.actions[0]!.status).toBe("failed");
    const [failure] = await s.governor.listDecisions("w1", 1);
    expect(failure).toMatchObject({
      trigger: { kind: "substrate", name: "action-failed" },
      fromState: "waking",
      toState: "failed",
      outcome: "none",
      actions: [{ kind: "start", status: "failed" }],
      notes: ["start failed after 6 attempts: simulated failure of start"],
    });
    expect((await s.governor.getObject("w1"))!.lastDecisionId).toBe(failure!.id);
    // From failed, the next wake tries again.
    (s.driver as unknown as { random: () => number }).random = () => 0.99;
    const again = await s.governor.postFacts("w1", { queue: { depth: 2 } });
    expect(again.decision).toMatchObject({ fromState: "failed", toState: "waking", outcome: "wake" });
  });

  test("a pending start is superseded by a later suspend", async () => {
    const s = await setup();
    (s.driver as unknown as { random: () => number }).random = () => 0;
    await s.governor.putObject("n1", {
      policy: "nightly-report",
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    const wake = await s.governor.postFacts("n1", { report: { requested: true } });
    await s.advance(0); // first attempt fails; the start waits out its backoff
    const sleep = await s.governor.postFacts("n1", { report: { requested: false, status: "sent" } });
    expect(sleep.decision.actions.map((a) => a.kind)).toEqual(["stop"]);
    const d = await s.governor.getDecision(wake.decision.id);
    expect(d!.actions[0]!.status).toBe("superseded");
  });

  test("an object deleted and created again is not moved by its predecessor's action still in flight", async () => {
    const s = await setup();
    const substrate = { driver: "simulated", config: { startMs: 500 } };
    await s.governor.putObject("w9", { policy: "queue-worker", substrate });
    await s.governor.postFacts("w9", { queue: { depth: 3 } }); // the old object's start is sent
    await s.advance(100);
    expect(await s.governor.deleteObject("w9", "keep")).toBe(true);
    await s.governor.putObject("w9", { policy: "queue-worker", substrate });
    const wake = await s.governor.postFacts("w9", { queue: { depth: 3 } });
    expect(wake.object.state).toBe("waking");
    await s.advance(400); // the old start reports: it was for the deleted object
    expect((await s.governor.getObject("w9"))!.state).toBe("waking");
    await s.advance(500); // the new object's own start, sent after the old one's call
    expect((await s.governor.getObject("w9"))!.state).toBe("active");
    const d = await s.governor.getDecision(wake.decision.id);
    expect(d!.actions.map((a) => a.status)).toEqual(["confirmed"]);
  });

  test("an object deleted while its start is with the driver: that start's failure is no one's (no event, no retry)", async () => {
    const s = await setup();
    const told: string[] = [];
    for (const e of ["action:failed", "action:retrying", "action:superseded", "action:confirmed"] as const)
      s.governor.events.on(e, (a: { id: string }) => told.push(`${e} ${a.id}`));
    await s.governor.putObject("gone", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { startMs: 500, failRate: 1 } },
    });
    await s.governor.postFacts("gone", { queue: { depth: 3 } }); // the start is sent
    await s.advance(100);
    expect(await s.governor.deleteObject("gone", "keep")).toBe(true);
    await s.advance(10 * 60_000); // it fails (retryable); nothing tries it again
    expect(told).toEqual([]);
    expect(await s.governor.getObject("gone")).toBeNull();
  });

  test("pending actions are dispatched again after a restart", async () => {
    const url = tempDb();
    const s1 = await makeServices({ store: new LibsqlStore({ url }) });
    await s1.governor.putObject("w1", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { startMs: 1000 } },
    });
    const r = await s1.governor.postFacts("w1", { queue: { depth: 1 } });
    await s1.close(); // the start was sent but never confirmed

    const s2 = await setup({ store: new LibsqlStore({ url }), start: s1.clock.now() });
    expect((await s2.governor.getObject("w1"))!.state).toBe("waking");
    await s2.advance(1000);
    expect((await s2.governor.getObject("w1"))!.state).toBe("active");
    const d = await s2.governor.getDecision(r.decision.id);
    expect(d!.actions[0]!.status).toBe("confirmed");
  });

  test("idempotency keys survive a restart", async () => {
    const url = tempDb();
    const s1 = await makeServices({ store: new LibsqlStore({ url }) });
    await s1.governor.putObject("w1", { policy: "queue-worker" });
    const first = await s1.governor.postFacts("w1", { queue: { depth: 1 } }, "k");
    await s1.close();
    const s2 = await setup({ store: new LibsqlStore({ url }) });
    const again = await s2.governor.postFacts("w1", { queue: { depth: 1 } }, "k");
    expect(again).toMatchObject({ replayed: true, decision: { id: first.decision.id } });
    expect((await s2.governor.getObject("w1"))!.memoryVersion).toBe(1);
  });
});

describe("the substrate", () => {
  test("a change Vigil did not ask for is a substrate trigger the rules see", async () => {
    const s = await setup();
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    expect((await s.governor.getObject("m1"))!.state).toBe("active");
    s.driver.crash("m1");
    await s.advance(0);
    const [crash, ...rest] = await s.governor.listDecisions("m1", 10);
    expect(crash!.trigger).toEqual({ kind: "substrate", name: "stopped" });
    expect(crash!.fromState).toBe("dormant");
    expect(crash!.outcome).toBe("hold-active");
    expect(crash!.actions.map((a) => a.kind)).toEqual(["start"]);
    expect(rest.length).toBeGreaterThan(0);
    expect((await s.governor.getObject("m1"))!.state).toBe("active");
  });
});

describe("a policy that fails at run time", () => {
  test("refuses the arrival with a 422 kind of error and changes nothing", async () => {
    const s = await setup();
    const r = s.policies.loadText(
      JSON.stringify({
        name: "fragile",
        version: "1",
        rules: [
          {
            name: "boom",
            conditions: { all: [{ fact: "memory", path: "$.missing", operator: "swap:in", value: ["x"] }] },
            event: { type: "wake" },
          },
        ],
      }),
      "inline/fragile.json",
    );
    expect(r.ok).toBe(true);
    await expect(s.governor.putObject("f", { policy: "fragile" })).rejects.toMatchObject({ kind: "invalid" });
    expect(await s.governor.getObject("f")).toBeNull();
  });

  // A review: the error said what threw ("b.indexOf is not a function") but not where, and
  // every later fact to the object was refused the same way.
  test("the error names the rule that threw, and points at it", async () => {
    const s = await setup();
    const rule = (name: string, path: string, operator: string, value: unknown) => ({
      name,
      conditions: { all: [{ fact: "memory", path, operator, value }] },
      event: { type: "wake" },
    });
    const doc = {
      name: "fragile",
      version: "1",
      rules: [rule("fine", "$.a", "equal", 1), rule("boom", "$.x", "swap:in", 5)],
    };
    expect(s.policies.loadText(JSON.stringify(doc), "inline/fragile.json").ok).toBe(true);
    const error = await s.governor.putObject("f", { policy: "fragile", memory: { x: 5 } }).catch((e: unknown) => e);
    // The request holds no rules: the problem names the policy's file and the rule in it.
    expect(error).toMatchObject({
      kind: "invalid",
      message: expect.stringMatching(/^policy fragile@1 failed to evaluate: rule "boom": .*indexOf/),
      problems: [
        {
          path: "$",
          message:
            "an operator of rules[1] of fragile.json received a value of the wrong type from a fact it reads (memory, the trigger...): fix the rule, or the memory",
        },
      ],
    });
    // A candidate in a dry run is in the request: the path is its rule's there.
    await s.governor.putObject("g", { policy: "queue-worker", memory: { x: 5 } });
    const dry = await s.governor.evaluate("g", { policy: doc }).catch((e: unknown) => e);
    expect(dry).toMatchObject({
      kind: "invalid",
      problems: [{ path: "$.policy.rules[1]", message: "an operator of this rule received a value of the wrong type" }],
    });
  });
});

describe("reconciliation", () => {
  test("a machine stopped elsewhere is found by reconciliation and handled like a crash", async () => {
    const s = await setup();
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    s.driver.crash("m1", "stopped", false); // nobody is told
    expect((await s.governor.getObject("m1"))!.state).toBe("active");
    expect(await s.governor.reconcile()).toBe(1);
    await s.advance(0);
    const decisions = await s.governor.listDecisions("m1", 10);
    const found = decisions.find((d) => d.trigger.kind === "substrate")!;
    expect(found).toMatchObject({
      trigger: { kind: "substrate", name: "stopped" },
      fromState: "dormant",
      outcome: "hold-active",
    });
    expect((await s.governor.getObject("m1"))!.state).toBe("active");
    expect(await s.governor.reconcile()).toBe(0);
  });

  test("a machine started elsewhere while dormant: the state follows and the rules put it back to sleep", async () => {
    const s = await setup();
    await s.governor.putObject("m2", { policy: "continuous-monitor" });
    expect(await s.governor.reconcile()).toBe(0);
    s.driver.crash("m2", "running", false);
    expect(await s.governor.reconcile()).toBe(1);
    const [seen] = await s.governor.listDecisions("m2", 1);
    expect(seen).toMatchObject({
      trigger: { kind: "substrate", name: "running" },
      fromState: "active",
      outcome: "none",
    });
    expect(seen!.notes[0]).toMatch(/^dormancy \(monitoring-off\) deferred by dwell.minActive/);
    await s.advance(60_000);
    expect((await s.governor.getObject("m2"))!.state).toBe("dormant");
  });

  test("the reconciler runs on its interval", async () => {
    const s = await setup();
    const { Reconciler } = await import("../../src/governor/reconciler.ts");
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    const r = new Reconciler(() => s.governor.reconcile(), s.clock, 30_000);
    r.start();
    s.driver.crash("m1", "stopped", false);
    await s.advance(29_000);
    expect((await s.governor.listDecisions("m1", 10)).some((d) => d.trigger.kind === "substrate")).toBe(false);
    await s.advance(1_000);
    expect((await s.governor.listDecisions("m1", 10)).some((d) => d.trigger.kind === "substrate")).toBe(true);
    r.stop();
  });
});

describe("PUT on an existing object", () => {
  test("without substrate keeps the binding; with one rebinds it", async () => {
    const s = await setup();
    const sim = { driver: "simulated", config: { startMs: 5 } };
    await s.governor.putObject("b", { policy: "queue-worker", substrate: sim });
    await s.governor.putObject("b", { policy: "continuous-monitor" });
    expect((await s.governor.getObject("b"))!.substrate).toMatchObject(sim);
    await s.governor.putObject("b", { policy: "continuous-monitor", substrate: { driver: "simulated", config: {} } });
    expect((await s.governor.getObject("b"))!.substrate).toMatchObject({ driver: "simulated", config: {} });
  });

  test("rebinding an awake object: its stopped compute leaves it dormant, and its policy wakes it on the new binding", async () => {
    const s = await setup();
    await s.governor.putObject("r1", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
    await s.governor.postFacts("r1", { work: { pending: 1 } });
    await s.advance(0);
    expect((await s.governor.getObject("r1"))!.state).toBe("active");
    const rebound = await s.governor.putObject("r1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 5 } },
    });
    const [decision] = await s.governor.listDecisions("r1", 1);
    expect(decision).toMatchObject({
      trigger: { kind: "manual", name: "rebound" },
      fromState: "dormant",
      toState: "waking",
    });
    expect(rebound.object.state).toBe("waking");
    await s.advance(1000);
    const o = (await s.governor.getObject("r1"))!;
    expect({ state: o.state, observed: o.substrate.observed?.status }).toEqual({
      state: "active",
      observed: "running",
    });
    // Nothing is taken for a crash: the reconciler finds what it expects.
    expect(await s.governor.reconcile()).toBe(0);
  });

  test("rebinding drops the actions still queued for the old binding: they are superseded, not sent to the new one", async () => {
    const s = await setup({ retry: { maxAttempts: 6, baseMs: 1000, maxMs: 1000 } });
    await s.governor.putObject("q", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    const announced: string[] = [];
    s.governor.events.on("action:superseded", (a) => announced.push(a.id));
    const woke = await s.governor.postFacts("q", { work: { pending: 1 } });
    await s.advance(0); // the start fails and waits out its backoff
    expect((await s.governor.getObject("q"))!.state).toBe("waking");
    const rebound = await s.governor.putObject("q", {
      policy: "nightly-report", // nothing to do under it
      substrate: { driver: "simulated", config: {} },
    });
    expect(rebound.object.state).toBe("dormant");
    await s.advance(5000);
    const o = (await s.governor.getObject("q"))!;
    const actual = (await s.driver.observe({ objectId: "q", config: {} })).status;
    expect({ state: o.state, actual }).toEqual({ state: "dormant", actual: "stopped" });
    expect((await s.governor.getDecision(woke.decision.id))!.actions[0]!.status).toBe("superseded");
    // Watchers (the event stream) are told, as when a decision supersedes.
    expect(announced).toEqual([woke.decision.actions[0]!.id]);
  });

  test("rebinding queued in the mailbox when the old binding's start answers: that answer moves nothing either", async () => {
    const s = await setup();
    await s.governor.putObject("r1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 1000 } },
    });
    await s.governor.postFacts("r1", { work: { pending: 1 } });
    await s.advance(0); // the old binding's start is with its driver
    // Any task ahead in the object's mailbox (an evaluation, a slow commit), held open.
    const table = (s.governor as unknown as { table: { run<T>(id: string, t: () => Promise<T>): Promise<T> } }).table;
    let open!: () => void;
    const busy = table.run("r1", () => new Promise<void>((r) => (open = r)));
    const put = s.governor.putObject("r1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 5000 } },
    });
    await s.clock.advance(1000); // the old start answers while the PUT waits
    open();
    await busy;
    expect((await put).object.state).toBe("waking");
    await s.advance(0);
    const o = (await s.governor.getObject("r1"))!;
    const actual = (await s.driver.observe({ objectId: "r1", config: {} })).status;
    // The new binding's start is still 5 s away: nothing runs on it yet.
    expect({ state: o.state, actual }).toEqual({ state: "waking", actual: "stopped" });
  });

  test("rebinding while the old binding's start is still with its driver: that start's answer moves nothing", async () => {
    const s = await setup();
    await s.governor.putObject("r1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 1000 } },
    });
    await s.governor.postFacts("r1", { work: { pending: 1 } });
    await s.advance(0);
    const rebound = await s.governor.putObject("r1", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 5000 } },
    });
    expect(rebound.object.state).toBe("waking");
    await s.advance(1000); // the old start answers
    expect((await s.governor.getObject("r1"))!.state).toBe("waking");
    expect(await s.governor.reconcile()).toBe(0);
    await s.advance(5000); // the new binding's start
    const o = (await s.governor.getObject("r1"))!;
    expect({ state: o.state, observed: o.substrate.observed?.status }).toEqual({
      state: "active",
      observed: "running",
    });
  });
});

test("a start with the old binding's driver when the server stops after a rebind is not sent to the new binding after the restart", async () => {
  const url = tempDb();
  const s1 = await makeServices({ store: new LibsqlStore({ url }) });
  await s1.governor.putObject("r2", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 8000 } },
  });
  const wake = await s1.governor.postFacts("r2", { queue: { depth: 1 } });
  await s1.governor.postFacts("r2", { queue: { depth: 0 } }); // the work is gone again
  await s1.advance(100); // the start is with the old binding's driver
  const rebound = await s1.governor.putObject("r2", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: {} },
  });
  expect(rebound.object.state).toBe("dormant");
  await s1.close(); // stopped before the old start answered

  const s2 = await setup({ store: new LibsqlStore({ url }), start: s1.clock.now() });
  await s2.advance(10_000);
  const o = (await s2.governor.getObject("r2"))!;
  // Nothing woke it on its new binding: no compute was started there.
  expect({ state: o.state, observed: o.substrate.observed?.status ?? null }).toEqual({
    state: "dormant",
    observed: null,
  });
  const d = await s2.governor.getDecision(wake.decision.id);
  expect(d!.actions.map((a) => `${a.kind} ${a.status}`)).toEqual(["start superseded"]);
});

describe("a timer's own firing", () => {
  test("a schedule at a moment already past fires once, not again and again at that moment", async () => {
    const rules = mkdtempSync(join(tmpdir(), "vigil-at-"));
    dirs.push(rules);
    const deadline = "2026-03-01T00:00:30Z";
    writeFileSync(
      join(rules, "at-test.json"),
      JSON.stringify({
        name: "at-test",
        version: "1",
        rules: [
          {
            name: "deadline",
            conditions: { all: [{ fact: "state", operator: "equal", value: "dormant" }] },
            event: { type: "schedule", params: { name: "deadline", at: deadline } },
          },
        ],
      }),
    );
    const s = await setup({ rulesDir: rules });
    let fired = 0;
    // Were it to fire again and again, closing stops the scheduler's round and the test fails.
    s.governor.events.on("timer:fired", () => {
      if (++fired === 20) void s.governor.close();
    });
    await s.governor.putObject("a1", { policy: "at-test" });
    await s.advance(60_000);
    expect(fired).toBe(1);
    const [last] = await s.governor.listDecisions("a1", 1);
    expect(last!.trigger).toEqual({ kind: "timer", name: "deadline" });
    expect(last!.notes).toContain(
      `timer "deadline" of rule deadline is due at ${new Date(deadline).toISOString()}, not after this timer's firing: not set`,
    );
    expect((await s.governor.getObject("a1"))!.timers).toEqual([]);
  });
});

describe("a crash loop", () => {
  test("declared while a failed start waits out its backoff: that start is superseded, and watchers are told", async () => {
    const s = await setup({ retry: { maxAttempts: 6, baseMs: 10_000, maxMs: 10_000 } });
    const announced: string[] = [];
    s.governor.events.on("action:superseded", (a) => announced.push(a.id));
    await s.governor.putObject("m", {
      policy: "continuous-monitor",
      memory: { monitoring: { enabled: true } },
      substrate: { driver: "simulated", config: { startMs: 10, stopMs: 10, failRate: 1 } },
    });
    await s.advance(100); // the start failed: it waits out its backoff, queued
    for (let i = 0; i < 5; i++) {
      s.driver.crash("m");
      await s.advance(100);
    }
    const decisions = await s.governor.listDecisions("m", 20);
    expect(decisions[0]).toMatchObject({ trigger: { name: "crash-loop" }, fromState: "waking" });
    const lastStart = decisions.find((d) => d.actions.some((a) => a.kind === "start"))!;
    expect(lastStart.actions[0]!.status).toBe("superseded");
    expect(announced).toContain(lastStart.actions[0]!.id);
  });

  test("declared while the restart's start is with the driver: the crash-loop decision stops what it brings up", async () => {
    const s = await setup();
    await s.governor.putObject("m", {
      policy: "continuous-monitor",
      memory: { monitoring: { enabled: true } },
      substrate: { driver: "simulated", config: { startMs: 2000, stopMs: 500 } },
    });
    await s.advance(2000);
    for (let i = 0; i < 4; i++) {
      s.driver.crash("m");
      await s.advance(0);
      if (i < 3) await s.advance(2000); // the rules restart it
    }
    // The fourth restart's start is in flight when the fifth exit comes.
    expect((await s.governor.getObject("m"))!.state).toBe("waking");
    s.driver.crash("m");
    await s.advance(0);
    const [loop] = await s.governor.listDecisions("m", 1);
    expect(loop).toMatchObject({ trigger: { kind: "substrate", name: "crash-loop" }, toState: "failed" });
    expect(loop!.actions.map((a) => a.kind)).toEqual(["stop"]);
    await s.advance(3000); // the start completes, then the stop queued behind it
    const o = (await s.governor.getObject("m"))!;
    const actual = (await s.driver.observe({ objectId: "m", config: {} })).status;
    expect({ state: o.state, observed: o.substrate.observed?.status, actual }).toEqual({
      state: "failed",
      observed: "stopped",
      actual: "stopped",
    });
    expect((await s.governor.getDecision(loop!.id))!.actions[0]!.status).toBe("confirmed");
  });

  test("five unrequested exits within a minute make the object failed instead of restarting it", async () => {
    const s = await setup();
    await s.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    for (let i = 0; i < 4; i++) {
      s.driver.crash("m");
      await s.advance(1_000);
      expect((await s.governor.getObject("m"))!.state).toBe("active"); // its rules restarted it
    }
    s.driver.crash("m");
    await s.advance(1_000);
    expect((await s.governor.getObject("m"))!.state).toBe("failed");
    const [loop] = await s.governor.listDecisions("m", 1);
    expect(loop).toMatchObject({ trigger: { kind: "substrate", name: "crash-loop" }, toState: "failed", actions: [] });
    expect(loop!.notes[0]).toMatch(/^crash loop: 5 exits/);
    // Observing it again (reconciliation, a restart's adoption, another exit) leaves it failed.
    expect(await s.governor.reconcile()).toBe(0);
    s.driver.crash("m");
    await s.advance(1_000);
    expect((await s.governor.getObject("m"))!.state).toBe("failed");
    expect((await s.governor.listDecisions("m", 1))[0]!.id).toBe(loop!.id);
    // A later arrival may wake it again.
    const again = await s.governor.postFacts("m", { alerts: { open: 1 } });
    expect(again.decision).toMatchObject({ fromState: "failed", toState: "waking" });
  });

  test("exits spread out over more than a minute are each handled by the rules", async () => {
    const s = await setup();
    await s.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    for (let i = 0; i < 6; i++) {
      s.driver.crash("m");
      await s.advance(15_000);
      expect((await s.governor.getObject("m"))!.state).toBe("active");
    }
  });
});
