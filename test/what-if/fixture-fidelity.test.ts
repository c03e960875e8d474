// Fixtures stand for what the server does: a policy that throws on a timer's evaluation fails
// the step (as one that throws on facts does), an object a fixture starts active has its compute
// running (its `substrate` fact says so) and resident (a suspend keeps it), and a starting memory the server would refuse to
// create an object with makes the fixture malformed.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { runSimulate } from "../../src/cli/simulate.ts";
import { runTest } from "../../src/cli/test.ts";
import { runValidate } from "../../src/cli/validate.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import type { JsonObject } from "../../src/core/types.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";
import { makeServices, RULES_DIR } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-fixtures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A policy that throws when a timer evaluates it: the real server uses the timer up and logs
// an error (docs/policy-authors.md, "a timer is used up"); `vigil test` must not call that a pass,
// as it does not for a policy that throws on a step's facts (failure field "error").

// `swap:in` over a number throws (no indexOf). The higher-priority trigger check keeps it from
// running on facts; on the timer it runs.
const policy = {
  name: "probe",
  version: "1",
  rules: [
    {
      name: "arm",
      conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "facts" }] },
      event: { type: "schedule", params: { name: "check", after: "PT1M" } },
    },
    {
      name: "on-check",
      conditions: {
        all: [
          { fact: "trigger", path: "$.kind", operator: "equal", value: "timer", priority: 2 },
          { fact: "memory", path: "$.n", operator: "swap:in", value: "x" },
        ],
      },
      event: { type: "wake" },
    },
  ],
};

const fixture = {
  policy: "probe",
  start: "2026-03-01T00:00:00Z",
  steps: [
    { facts: { n: 5 }, expect: { timers: ["check"] } },
    { advance: "PT1M", expect: { timers: [], state: "dormant" } },
  ],
};

test("a policy that throws on a timer's evaluation fails the fixture, as one that throws on facts does", async () => {
  const rules = join(dir, "rules");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(policy));
  const registry = new PolicyRegistry();
  expect(registry.loadDirectory(rules)).toEqual([]);

  const r = await runFixture(parseFixture(JSON.stringify(fixture), "probe-fixture.json"), registry);
  // Only the facts evaluation happened: the timer's evaluation threw and was swallowed.
  expect(r.decisions.map((d) => d.trigger.kind)).toEqual(["facts"]);
  expect(r.failures.map((f) => [f.step, f.field])).toEqual([[1, "error"]]);
  expect(r.passed).toBe(false);

  const file = join(dir, "probe-fixture.json");
  writeFileSync(file, JSON.stringify(fixture));
  let out = "";
  const code = await runTest(
    ["--rules", rules, file],
    (s) => (out += s),
    (s) => (out += s),
  );
  expect(out).toContain("FAIL");
  expect(code).toBe(1);
});

// A fixture that starts `active` must stand for an active object as the real server has one:
// its compute confirmed running, so the `substrate` fact reads {status: "running"}. The fixture
// seeds `substrate.observed: null`, so its rules read {status: "unknown"} and decide otherwise.

// Sleep once the queue is empty, but only compute that is really running.
const sleepy = {
  name: "probe",
  version: "1",
  rules: [
    {
      name: "backlog",
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "empty-and-running",
      conditions: {
        all: [
          { fact: "memory", path: "$.queue.depth", operator: "equal", value: 0 },
          { fact: "substrate", path: "$.status", operator: "equal", value: "running" },
        ],
      },
      event: { type: "dormancy" },
    },
  ],
};

test("an object a fixture starts active decides on the same facts as an active object on the server", async () => {
  const rules = join(dir, "rules-active");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(sleepy));
  const start = Date.parse("2026-03-01T00:00:00Z");

  // The real governor: an object woken by a backlog is active, its compute running.
  const s = await makeServices({ rulesDir: rules, start });
  try {
    await s.governor.putObject("w", { policy: "probe", memory: {} });
    await s.governor.postFacts("w", { queue: { depth: 3 } });
    await s.advance(0);
    expect((await s.governor.getObject("w"))!.state).toBe("active");
    await s.advance(60_000);
    const real = await s.governor.postFacts("w", { queue: { depth: 0 } });
    await s.advance(0);
    expect(real.decision.outcome).toBe("dormancy");
    expect(real.decision.fired.map((f) => f.rule)).toEqual(["empty-and-running"]);
  } finally {
    await s.close();
  }

  // The fixture: the same object, started active, the same facts.
  const registry = new PolicyRegistry();
  expect(registry.loadDirectory(rules)).toEqual([]);
  const fixture = {
    policy: "probe",
    start: "2026-03-01T00:01:00Z",
    object: { state: "active", memory: { queue: { depth: 3 } } },
    steps: [{ facts: { queue: { depth: 0 } }, expect: { outcome: "dormancy", fired: ["empty-and-running"] } }],
  };
  const r = await runFixture(parseFixture(JSON.stringify(fixture), "probe.json"), registry);
  expect(r.failures).toEqual([]);
});

// An active object's compute is resident on the server: a suspend keeps it, and the `substrate`
// fact then reads {status: "suspended"}. The fixture's simulated substrate had never started the
// compute of an object it starts active, so it answered the suspend `stopped` (nothing to
// suspend), and a rule on a suspended object decided otherwise than the server.

// Sleep by suspending once the queue is empty; note (a timer) while the compute is suspended.
const resident = {
  name: "probe",
  version: "1",
  sleep: "suspend",
  rules: [
    {
      name: "backlog",
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "empty",
      conditions: {
        all: [
          { fact: "memory", path: "$.queue.depth", operator: "equal", value: 0 },
          { fact: "state", operator: "in", value: ["active", "waking"] },
        ],
      },
      event: { type: "dormancy" },
    },
    {
      name: "suspended",
      conditions: { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "suspended" }] },
      event: { type: "schedule", params: { name: "resident", after: "PT1H" } },
    },
  ],
};

test("an object a fixture starts active is suspended, not stopped, when it sleeps by suspending, as on the server", async () => {
  const rules = join(dir, "rules-resident");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(resident));
  const start = Date.parse("2026-03-01T00:00:00Z");

  // The real governor: an active object sleeps by suspending; its next facts see it suspended.
  const s = await makeServices({ rulesDir: rules, start });
  try {
    await s.governor.putObject("w", { policy: "probe", memory: {} });
    await s.governor.postFacts("w", { queue: { depth: 3 } });
    await s.advance(60_000);
    expect((await s.governor.getObject("w"))!.state).toBe("active");
    await s.governor.postFacts("w", { queue: { depth: 0 } });
    await s.advance(0);
    const real = await s.governor.postFacts("w", { note: 1 });
    await s.advance(0);
    expect(real.object.substrate.observed?.status).toBe("suspended");
    expect(real.decision.fired.map((f) => f.rule)).toEqual(["suspended"]);
    expect(real.object.timers.map((t) => t.name)).toEqual(["resident"]);
  } finally {
    await s.close();
  }

  // The fixture: the same object, started active, the same facts.
  const registry = new PolicyRegistry();
  expect(registry.loadDirectory(rules)).toEqual([]);
  const fixture = {
    policy: "probe",
    start: "2026-03-01T00:01:00Z",
    object: { state: "active", memory: { queue: { depth: 3 } } },
    steps: [
      { facts: { queue: { depth: 0 } }, expect: { outcome: "dormancy", state: "dormant", actions: ["suspend"] } },
      { facts: { note: 1 }, expect: { fired: ["suspended"], timers: ["resident"] } },
    ],
  };
  const r = await runFixture(parseFixture(JSON.stringify(fixture), "probe.json"), registry);
  expect(r.failures).toEqual([]);
});

// A fixture's starting `object.memory` is placed in the sandbox unchecked: deeper than memory
// may nest (16), the real server refuses to create such an object (PUT /v1/objects/{id}, 422),
// yet the fixture runs and passes. It is an input that cannot be used: malformed, exit 2.

test("a fixture whose starting memory the server would refuse is malformed, not a pass", async () => {
  let deep: JsonObject = { x: 1 };
  for (let i = 0; i < 20; i++) deep = { d: deep };
  const memory = { notes: deep };

  // The real server: no object with that memory can exist.
  const s = await makeServices();
  try {
    await expect(s.governor.putObject("w", { policy: "nightly-report", memory })).rejects.toThrow(
      /memory breaks a limit/,
    );
  } finally {
    await s.close();
  }

  const file = join(dir, "deep.json");
  writeFileSync(
    file,
    JSON.stringify({
      policy: "nightly-report",
      start: "2026-03-01T00:00:00Z",
      object: { memory },
      steps: [{ facts: { report: { requested: true } }, expect: { outcome: "wake", state: "active" } }],
    }),
  );
  let out = "";
  const code = await runTest(
    ["--rules", RULES_DIR, file],
    (s) => (out += s),
    (s) => (out += s),
  );
  expect(out).toContain("$.object.memory");
  expect(code).toBe(2);
});

test("a policy or fixture file with a byte order mark is read by replay and vigil test, as by validate", async () => {
  const rules = join(dir, "rules-bom");
  mkdirSync(rules);
  const policy = join(rules, "queue-worker.json");
  writeFileSync(policy, "\uFEFF" + readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8"));
  expect(
    await runValidate(
      [policy],
      () => {},
      () => {},
    ),
  ).toBe(0);
  // A database that is not there: replay fails on it, after reading the file.
  const err: string[] = [];
  await runReplay(
    ["--object", "w-1", "--db", `file:${join(dir, "none.db")}`, policy],
    () => {},
    (s) => err.push(s),
  );
  expect(err.join("")).not.toMatch(/not valid JSON/);
  expect(err.join("")).toMatch(/none\.db/);

  const fixture = join(dir, "bom-fixture.json");
  const steps = [{ facts: { queue: { depth: 1 } }, expect: { outcome: "wake" } }];
  writeFileSync(fixture, "\uFEFF" + JSON.stringify({ policy: "queue-worker", start: "2026-03-01T00:00:00Z", steps }));
  let out = "";
  expect(
    await runTest(
      ["--rules", rules, fixture],
      (s) => (out += s),
      (s) => (out += s),
    ),
  ).toBe(0);
});

test("a policy, fixture or traffic file that is not UTF-8 is refused by replay, vigil test and simulate, as by validate", async () => {
  const latin1 = (text: string) => Buffer.from(text, "latin1");
  const rules = join(dir, "rules-latin1");
  mkdirSync(rules);
  const doc = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as JsonObject;
  const policy = join(rules, "queue-worker.json");
  writeFileSync(policy, latin1(JSON.stringify({ ...doc, description: "file d'attente: café" })));
  const said = async (run: (out: (s: string) => void, err: (s: string) => void) => Promise<number>) => {
    let text = "";
    const code = await run(
      (s) => (text += s),
      (s) => (text += s),
    );
    return { code, text };
  };
  const NOT_UTF8 = /not valid UTF-8/;
  expect(await said((out, err) => runValidate([policy], out, err))).toMatchObject({
    text: expect.stringMatching(NOT_UTF8),
  });
  const replayed = await said((out, err) =>
    runReplay(["--object", "w-1", "--db", `file:${join(dir, "none.db")}`, policy], out, err),
  );
  expect(replayed).toEqual({ code: 2, text: expect.stringMatching(NOT_UTF8) });

  const fixture = join(dir, "latin1-fixture.json");
  const steps = [{ facts: { owner: "café" }, expect: { outcome: "wake" } }];
  writeFileSync(fixture, latin1(JSON.stringify({ policy: "queue-worker", start: "2026-03-01T00:00:00Z", steps })));
  const tested = await said((out, err) => runTest(["--rules", RULES_DIR, fixture], out, err));
  expect(tested).toEqual({ code: 2, text: expect.stringMatching(NOT_UTF8) });

  const traffic = join(dir, "latin1-traffic.jsonl");
  writeFileSync(traffic, latin1(`${JSON.stringify({ at: "2026-03-01T00:00:00Z", object: "café", facts: {} })}\n`));
  const simulated = await said((out, err) =>
    runSimulate(["--policy", "queue-worker", "--rules", RULES_DIR, "--traffic", traffic], out, err),
  );
  expect(simulated).toEqual({ code: 2, text: expect.stringMatching(NOT_UTF8) });
});
