// Limits on candidate policies sent by a `read` token: evaluate and replay run under a
// deadline and replay under a cap on evaluations, a candidate may not tick more than once a
// minute, and a replay reply holds a bounded number of rows. Time is injected: nothing sleeps.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Clock } from "../../src/core/clock.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import type { ReplayLimits } from "../../src/what-if/limits.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { RULES_DIR, START } from "../helpers/services.ts";
import { expectProblem, TOKEN_CONFIG, TOKENS, type Reply } from "./harness.ts";

const policy = (name: string): any => JSON.parse(readFileSync(join(RULES_DIR, `${name}.json`), "utf8"));

/**
 * A virtual clock whose reads can be made to cost time: with `step` set, every `now()` is
 * `step` ms later than the one before. A candidate then "takes" as long as the test says.
 */
class SteppingClock implements Clock {
  step = 0;
  private extra = 0;
  constructor(readonly base: VirtualClock) {}
  now(): number {
    this.extra += this.step;
    return this.base.now() + this.extra;
  }
  setTimeout(fn: () => void, ms: number) {
    return this.base.setTimeout(fn, ms);
  }
  clearTimeout(handle: { readonly id: number }) {
    this.base.clearTimeout(handle);
  }
}

interface World {
  governor: Governor;
  clock: SteppingClock;
  advance(ms: number): Promise<void>;
  call(path: string, json: unknown): Promise<Reply>;
  close(): Promise<void>;
}

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function makeWorld(limits: Partial<ReplayLimits> = {}): Promise<World> {
  const clock = new SteppingClock(new VirtualClock(START));
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const store = new MemoryStore();
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  const governor = new Governor({ store, policies, drivers: [driver], clock, random: () => 0.5 });
  await governor.start();
  const whatIf = new WhatIf(store, (id) => governor.getObject(id), limits);
  const app = createApp({ governor, policies, whatIf, tokens: TOKEN_CONFIG });
  world = {
    governor,
    clock,
    advance: (ms) => clock.base.advance(ms, () => governor.idle()),
    call: async (path, json) => {
      const res = await app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKENS.read}`, "content-type": "application/json" },
        body: JSON.stringify(json),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
    },
    close: async () => {
      await governor.close();
      await store.close();
    },
  };
  return world;
}

/** A monitor sweeping every minute for half an hour: 30-odd evaluations to replay. */
async function monitorHistory(w: World): Promise<void> {
  await w.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
  await w.advance(30 * 60_000);
}

/** A worker told of a backlog of 1 `n` times: the candidate below decides each differently. */
async function backlogHistory(w: World, n: number): Promise<void> {
  await w.governor.putObject("w", { policy: "queue-worker" });
  for (let i = 0; i < n; i++) {
    await w.governor.postFacts("w", { queue: { depth: 1 }, tick: i });
    await w.advance(1_000);
  }
}

/** Wakes only for a backlog of 2 or more. */
function pickierWorker(): any {
  const candidate = policy("queue-worker");
  candidate.version = "pickier";
  candidate.rules[0].conditions.all[0].value = 1;
  return candidate;
}

describe("replay limits", () => {
  test("past the cap on evaluations, a 422 naming the cap and its value", async () => {
    const w = await makeWorld({ maxEvaluations: 10 });
    await monitorHistory(w);
    const problem = expectProblem(
      await w.call("/v1/objects/m/replay", { policy: policy("continuous-monitor") }),
      422,
      "validation",
    );
    expect(problem.detail).toMatch(/evaluation/);
    expect(problem.detail).toContain("10");
    expect(problem.errors).toEqual([{ path: "$.policy", message: expect.stringContaining("10") }]);
  });

  test("under the cap, the same replay is a 200 that counts the evaluations", async () => {
    const w = await makeWorld({ maxEvaluations: 1_000 });
    await monitorHistory(w);
    const reply = await w.call("/v1/objects/m/replay", { policy: policy("continuous-monitor") });
    expect(reply.status).toBe(200);
    expect(reply.body.differences).toEqual([]);
    expect(reply.body.evaluations).toBeGreaterThan(10);
  });

  test("past the deadline, a 503 naming the deadline and its value", async () => {
    // Every reading of the time is a second later: the replay outlives 5 s after a few steps.
    let t = 0;
    const w = await makeWorld({ deadlineMs: 5_000, now: () => (t += 1_000) });
    await monitorHistory(w);
    const problem = expectProblem(
      await w.call("/v1/objects/m/replay", { policy: policy("continuous-monitor") }),
      503,
      "unavailable",
    );
    expect(problem.detail).toMatch(/deadline/);
    expect(problem.detail).toContain("5000 ms");
  });

  test("a replay lets the event loop turn while it works", async () => {
    const w = await makeWorld();
    await monitorHistory(w);
    let turns = 0;
    let done = false;
    const spin = () => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const reply = await w.call("/v1/objects/m/replay", { policy: policy("continuous-monitor") });
    done = true;
    expect(reply.status).toBe(200);
    expect(turns).toBeGreaterThan(reply.body.evaluations);
  });

  test("a reply keeps at most maxRows differences, and says it was truncated and how many there were", async () => {
    const w = await makeWorld({ maxRows: 5 });
    await backlogHistory(w, 12);
    const reply = await w.call("/v1/objects/w/replay", { policy: pickierWorker() });
    expect(reply.status).toBe(200);
    expect(reply.body.differences).toHaveLength(5);
    expect(reply.body.differenceCount).toBeGreaterThanOrEqual(12);
    expect(reply.body.truncated).toBe(true);
    // The rows kept are the earliest, in time order.
    const at = reply.body.differences.map((d: { at: string }) => d.at);
    expect([...at].sort()).toEqual(at);
    expect(reply.body.differences[0].key).toBe("facts#1");
  });

  test("a reply under maxRows is whole and not truncated", async () => {
    const w = await makeWorld({ maxRows: 100 });
    await backlogHistory(w, 3);
    const reply = await w.call("/v1/objects/w/replay", { policy: pickierWorker() });
    expect(reply.status).toBe(200);
    expect(reply.body.differences.length).toBe(reply.body.differenceCount);
    expect(reply.body.truncated).toBe(false);
  });
});

describe("evaluate limits", () => {
  test("past the deadline (5 s by default), a 503 naming the deadline and its value", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    w.clock.step = 10_000; // each reading of the time is 10 s after the one before
    const problem = expectProblem(
      await w.call("/v1/objects/w/evaluate", { policy: policy("queue-worker"), facts: { queue: { depth: 1 } } }),
      503,
      "unavailable",
    );
    expect(problem.detail).toMatch(/deadline/);
    expect(problem.detail).toContain("5000 ms");
  });

  test("within the deadline, a candidate evaluates", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    const reply = await w.call("/v1/objects/w/evaluate", { policy: policy("queue-worker") });
    expect(reply.status).toBe(200);
  });
});

describe("sub-minute schedules in a candidate", () => {
  const perSecond = () => {
    const p = policy("continuous-monitor");
    p.schedules[0].cron = "*/10 * * * * *";
    return p;
  };

  test.each([
    ["evaluate", "/v1/objects/m/evaluate"],
    ["replay", "/v1/objects/m/replay"],
  ])("%s: a 422 naming the schedule", async (_, path) => {
    const w = await makeWorld();
    await w.governor.putObject("m", { policy: "continuous-monitor" });
    const problem = expectProblem(await w.call(path, { policy: perSecond() }), 422, "validation");
    expect(problem.errors).toEqual([
      {
        path: "$.policy.schedules[0].cron",
        message: expect.stringMatching(/"sweep".*6 times a minute.*at most once a minute/),
      },
    ]);
  });

  test.each([
    ["once a minute, at second 30", "30 * * * * *"],
    ["every minute, five fields", "* * * * *"],
  ])("%s is allowed", async (_, cron) => {
    const w = await makeWorld();
    await w.governor.putObject("m", { policy: "continuous-monitor" });
    const p = policy("continuous-monitor");
    p.schedules[0].cron = cron;
    expect((await w.call("/v1/objects/m/evaluate", { policy: p })).status).toBe(200);
    expect((await w.call("/v1/objects/m/replay", { policy: p })).status).toBe(200);
  });
});

describe("comparisons that would compare too much", () => {
  // `someFact:in` scans the value for each item of the fact. A fact of 3,000 zeros against a
  // value of 100 ones weighs 3,001 × 101 + 101 × 6,002 + 3,001 × 202, about 1,500,000, over the
  // limit of 1,000,000; one of 500 zeros about 250,000; one of 400 about 200,000.
  const scanning = (valueItems: number, references = 1): any => ({
    name: "scan",
    version: "1",
    conditions: {
      scan: {
        all: [
          { fact: "memory", path: "$.xs", operator: "someFact:in", value: Array.from({ length: valueItems }, () => 1) },
        ],
      },
    },
    rules: [
      {
        name: "r",
        conditions: { all: Array.from({ length: references }, () => ({ condition: "scan" })) },
        event: { type: "wake" },
      },
    ],
  });
  const list = (n: number) => Array.from({ length: n }, () => 0);

  test("evaluate: a candidate over a long list of the facts is refused with a 422, not run", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    const problem = expectProblem(
      await w.call("/v1/objects/w/evaluate", { policy: scanning(100), facts: { xs: list(3_000) } }),
      422,
      "validation",
    );
    expect(problem.detail).toMatch(/candidate policy was not evaluated: .*more than the 1000000/);
    expect(problem.errors).toEqual([{ path: "$.policy", message: expect.stringContaining("compare") }]);
  });

  test("evaluate and replay: an ordinary contains over 2,000 host names in memory runs", async () => {
    const w = await makeWorld();
    await w.governor.putObject("h", { policy: "queue-worker" });
    const hosts = Array.from({ length: 2_000 }, (_, i) => `host-${i}.internal.example.com`);
    await w.governor.postFacts("h", { seenHosts: hosts });
    await w.advance(1_000);
    const blocklist = {
      name: "blocklist",
      version: "1",
      rules: [
        {
          name: "quarantined",
          conditions: {
            all: [{ fact: "memory", path: "$.seenHosts", operator: "contains", value: "quarantine.example.com" }],
          },
          event: { type: "wake" },
        },
      ],
    };
    const dry = await w.call("/v1/objects/h/evaluate", { policy: blocklist, facts: {} });
    expect(dry.status, dry.text).toBe(200);
    const replayed = await w.call("/v1/objects/h/replay", { policy: blocklist });
    expect(replayed.status, replayed.text).toBe(200);
  });

  test("evaluate: the same candidate over a shorter list runs", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    const reply = await w.call("/v1/objects/w/evaluate", { policy: scanning(100), facts: { xs: list(500) } });
    expect(reply.status, reply.text).toBe(200);
  });

  test("evaluate: each reference to a shared condition counts again", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    const call = (references: number) =>
      w.call("/v1/objects/w/evaluate", { policy: scanning(100, references), facts: { xs: list(400) } });
    expect((await call(4)).status).toBe(200);
    expectProblem(await call(5), 422, "validation");
  });

  test("replay: a candidate that compares too much over the recorded memory is refused with a 422", async () => {
    const w = await makeWorld();
    await w.governor.putObject("w", { policy: "queue-worker" });
    await w.governor.postFacts("w", { xs: list(3_000) });
    await w.advance(1_000);
    const problem = expectProblem(await w.call("/v1/objects/w/replay", { policy: scanning(100) }), 422, "validation");
    expect(problem.detail).toMatch(/candidate policy was not evaluated/);
    expect(problem.errors).toEqual([{ path: "$.policy", message: expect.stringContaining("compare") }]);
    // Over the same history with a short list, it replays.
    await w.governor.putObject("v", { policy: "queue-worker" });
    await w.governor.postFacts("v", { xs: list(500) });
    await w.advance(1_000);
    expect((await w.call("/v1/objects/v/replay", { policy: scanning(100) })).status).toBe(200);
  });
});
