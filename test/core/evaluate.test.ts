// Evaluation and decide(): which rules fire, how each condition is explained, the built-in
// facts, Vigil's time operators, memory limits, engine pooling, and a differential test of the
// compiled rules against a plain json-rules-engine Engine with its default resolver (the
// generated differential test against Vigil's own Engine is rules-compiler.test.ts).

import { Engine, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import { describe, expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { compilePolicy } from "../../src/core/compile.ts";
import type { PolicyDocument } from "../../src/core/policy.ts";
import { decide, type Arrival, type DecideDeps } from "../../src/core/decide.ts";
import { evaluateRules, type BuiltinFacts } from "../../src/core/evaluate.ts";
import { DEFAULT_LIMITS, MemoryLimitError, type MemoryLimits } from "../../src/core/memory-limits.ts";
import { applyTimerOps } from "../../src/core/timers.ts";
import type { ConditionExplanation, Json, JsonObject, ObjectRecord } from "../../src/core/types.ts";
import { HOUR, MINUTE, SECOND, T0, compileDoc, deepFreeze, idSequence, iso, makeObject } from "../helpers/records.ts";

type Cond = Record<string, unknown>;
type RuleDoc = { name: string; conditions: Cond; event: Cond; priority?: number };

const policyOf = (rules: RuleDoc[], extra: Record<string, unknown> = {}) =>
  compileDoc({ name: "probe", version: "7", rules, ...extra });

const rule = (name: string, conditions: Cond, event: Cond = { type: "wake" }): RuleDoc => ({ name, conditions, event });
const mem = (path: string, operator: string, value: unknown): Cond => ({ fact: "memory", path, operator, value });

const facts = (overrides: Partial<BuiltinFacts> = {}): BuiltinFacts => ({
  memory: {},
  state: "dormant",
  now: T0,
  trigger: { kind: "facts" },
  changed: [],
  idleMs: 0,
  stateAgeMs: 0,
  substrate: { status: "unknown" },
  ...overrides,
});

const deps = (overrides: Partial<DecideDeps> = {}): DecideDeps => ({
  newId: idSequence(),
  canSuspend: () => true,
  limits: DEFAULT_LIMITS,
  ...overrides,
});

describe("evaluateRules", () => {
  const policy = policyOf([
    rule("backlog", { all: [mem("$.queue.depth", "greaterThan", 0)] }, { type: "wake", params: { reason: "work" } }),
    rule(
      "idle",
      { all: [mem("$.queue.depth", "equal", 0), { fact: "state", operator: "equal", value: "active" }] },
      { type: "dormancy" },
    ),
    rule("missing", { any: [mem("$.nowhere", "greaterThan", 1)] }, { type: "hold-active", params: { for: "PT1M" } }),
  ]);

  test("lists the fired rules in file order with their events as written", async () => {
    const r = await evaluateRules(policy, facts({ memory: { queue: { depth: 3 } }, state: "active" }));
    expect(r.fired).toEqual([{ rule: "backlog", event: "wake", params: { reason: "work" } }]);
    expect(r.rules.map((x) => [x.rule, x.event, x.fired])).toEqual([
      ["backlog", "wake", true],
      ["idle", "dormancy", false],
      ["missing", "hold-active", false],
    ]);
  });

  test("explains every condition with its result and the fact's value", async () => {
    const r = await evaluateRules(policy, facts({ memory: { queue: { depth: 0 } }, state: "active" }));
    expect(r.fired.map((f) => f.rule)).toEqual(["idle"]);
    expect(r.rules[0]!.conditions).toEqual({
      kind: "all",
      result: false,
      conditions: [
        {
          kind: "fact",
          fact: "memory",
          path: "$.queue.depth",
          operator: "greaterThan",
          value: 0,
          result: false,
          factValue: 0,
        },
      ],
    });
    expect(r.rules[1]!.conditions).toEqual({
      kind: "all",
      result: true,
      conditions: [
        {
          kind: "fact",
          fact: "memory",
          path: "$.queue.depth",
          operator: "equal",
          value: 0,
          result: true,
          factValue: 0,
        },
        { kind: "fact", fact: "state", operator: "equal", value: "active", result: true, factValue: "active" },
      ],
    });
  });

  test("a missing path has no factValue", async () => {
    const r = await evaluateRules(policy, facts());
    expect(r.rules[2]!.conditions).toEqual({
      kind: "any",
      result: false,
      conditions: [
        { kind: "fact", fact: "memory", path: "$.nowhere", operator: "greaterThan", value: 1, result: false },
      ],
    });
  });

  // json-rules-engine 7 evaluates the conditions of an all/any in priority sets, highest first,
  // and stops when a set settles the result: the lower sets are never evaluated.
  test.each<[string, Cond, boolean, ConditionExplanation[]]>([
    [
      "all: a false higher-priority condition short-circuits",
      { all: [mem("$.b", "equal", 1), { ...mem("$.a", "equal", 1), priority: 2 }] },
      false,
      [
        { kind: "fact", fact: "memory", path: "$.b", operator: "equal", value: 1, result: "not-evaluated" },
        { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 1, result: false, factValue: 0 },
      ],
    ],
    [
      "all: a true higher-priority condition lets the next set run",
      { all: [mem("$.b", "equal", 0), { ...mem("$.a", "equal", 0), priority: 2 }] },
      true,
      [
        { kind: "fact", fact: "memory", path: "$.b", operator: "equal", value: 0, result: true, factValue: 0 },
        { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 0, result: true, factValue: 0 },
      ],
    ],
    [
      "any: a true higher-priority condition short-circuits",
      { any: [mem("$.b", "equal", 5), { ...mem("$.a", "equal", 0), priority: 3 }] },
      true,
      [
        { kind: "fact", fact: "memory", path: "$.b", operator: "equal", value: 5, result: "not-evaluated" },
        { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 0, result: true, factValue: 0 },
      ],
    ],
    [
      "all without priorities evaluates every condition",
      { all: [mem("$.a", "equal", 1), mem("$.b", "equal", 0)] },
      false,
      [
        { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 1, result: false, factValue: 0 },
        { kind: "fact", fact: "memory", path: "$.b", operator: "equal", value: 0, result: true, factValue: 0 },
      ],
    ],
  ])("%s", async (_name, conditions, fired, explained) => {
    const p = policyOf([rule("r", conditions)]);
    const r = await evaluateRules(p, facts({ memory: { a: 0, b: 0 } }));
    expect(r.rules[0]!.fired).toBe(fired);
    expect(r.rules[0]!.conditions).toEqual({
      kind: "all" in conditions ? "all" : "any",
      result: fired,
      conditions: explained,
    });
  });

  test("nested groups, not and shared-condition references are explained", async () => {
    const p = policyOf(
      [
        rule("r", {
          all: [
            { any: [mem("$.a", "equal", 1), mem("$.b", "equal", 2)] },
            { not: mem("$.c", "equal", 3) },
            { condition: "busy" },
          ],
        }),
        rule("short", { all: [{ ...mem("$.a", "equal", 9), priority: 2 }, { condition: "busy" }] }),
      ],
      { conditions: { busy: { all: [mem("$.jobs", "greaterThan", 0)] } } },
    );
    const r = await evaluateRules(p, facts({ memory: { a: 1, b: 0, c: 0, jobs: 2 } }));
    expect(r.fired.map((f) => f.rule)).toEqual(["r"]);
    expect(r.rules[0]!.conditions).toEqual({
      kind: "all",
      result: true,
      conditions: [
        {
          kind: "any",
          result: true,
          conditions: [
            { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 1, result: true, factValue: 1 },
            { kind: "fact", fact: "memory", path: "$.b", operator: "equal", value: 2, result: false, factValue: 0 },
          ],
        },
        {
          kind: "not",
          result: true,
          conditions: [
            { kind: "fact", fact: "memory", path: "$.c", operator: "equal", value: 3, result: false, factValue: 0 },
          ],
        },
        // An evaluated reference is shown as the condition it stands for.
        {
          kind: "all",
          result: true,
          conditions: [
            {
              kind: "fact",
              fact: "memory",
              path: "$.jobs",
              operator: "greaterThan",
              value: 0,
              result: true,
              factValue: 2,
            },
          ],
        },
      ],
    });
    // A reference that was short-circuited stays a reference.
    expect(r.rules[1]!.conditions).toEqual({
      kind: "all",
      result: false,
      conditions: [
        { kind: "fact", fact: "memory", path: "$.a", operator: "equal", value: 9, result: false, factValue: 1 },
        { kind: "reference", condition: "busy", result: "not-evaluated" },
      ],
    });
  });
});

describe("decide: built-in facts", () => {
  const probes = policyOf([
    rule("f-state", { all: [{ fact: "state", operator: "equal", value: "active" }] }),
    rule("f-changed", { all: [{ fact: "changed", operator: "contains", value: "$.queue.depth" }] }),
    rule("f-idle", { all: [{ fact: "idleMs", operator: "equal", value: 0 }] }),
    rule("f-age", { all: [{ fact: "stateAgeMs", operator: "equal", value: 90 * SECOND }] }),
    rule("f-trigger", { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "facts" }] }),
    rule("f-now", { all: [{ fact: "now", operator: "equal", value: T0 + HOUR }] }),
    rule("f-substrate", { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "running" }] }),
  ]);
  const factValues = (explained: { rules: { conditions: ConditionExplanation }[] }) =>
    explained.rules.map((r) => {
      const c = (r.conditions as { conditions: ConditionExplanation[] }).conditions[0] as { factValue?: Json };
      return c.factValue;
    });

  test("on a facts arrival", async () => {
    const object = makeObject({
      state: "active",
      stateSince: T0 + HOUR - 90 * SECOND,
      lastFactAt: T0,
      memory: { queue: { depth: 0, name: "q" } },
      substrate: { driver: "simulated", config: {}, observed: { status: "running", at: T0 } },
    });
    const r = await decide(
      probes,
      object,
      { trigger: { kind: "facts" }, at: T0 + HOUR, patch: { queue: { depth: 4 } } },
      deps(),
    );
    expect(r.decision.fired.map((f) => f.rule)).toEqual([
      "f-state",
      "f-changed",
      "f-idle",
      "f-age",
      "f-trigger",
      "f-now",
      "f-substrate",
    ]);
    expect(factValues(r.decision.explanation)).toEqual([
      "active",
      ["$.queue.depth"],
      0,
      90 * SECOND,
      "facts",
      T0 + HOUR,
      "running",
    ]);
  });

  test("on a timer arrival: idleMs counts from the last fact, nothing changed", async () => {
    const at = T0 + 2 * HOUR;
    const object = makeObject({
      state: "dormant",
      stateSince: T0,
      lastFactAt: at - 5 * MINUTE,
      timers: [{ name: "sweep", dueAt: at, kind: "schedule" }],
    });
    const r = await decide(probes, object, { trigger: { kind: "timer", name: "sweep" }, at }, deps());
    expect(r.decision.fired).toEqual([]);
    expect(factValues(r.decision.explanation)).toEqual(["dormant", [], 5 * MINUTE, 2 * HOUR, "timer", at, "unknown"]);
  });

  test("idleMs counts from creation until the first fact", async () => {
    const object = makeObject({ createdAt: T0, lastFactAt: T0 });
    const r = await decide(probes, object, { trigger: { kind: "manual" }, at: T0 + 7 * SECOND }, deps());
    expect(factValues(r.decision.explanation)[2]).toBe(7 * SECOND);
  });
});

describe("decide: time operators", () => {
  const NOW = T0 + HOUR;
  // [operator, duration, timestamp offset from now, expected]
  const table: [string, string, number, boolean][] = [
    ["olderThan", "PT5M", -6 * MINUTE, true],
    ["olderThan", "PT5M", -4 * MINUTE, false],
    ["olderThan", "PT5M", -5 * MINUTE, false],
    ["olderThan", "PT5M", +6 * MINUTE, false],
    ["olderThan", "P1D", -25 * HOUR, true],
    ["within", "PT5M", -4 * MINUTE, true],
    ["within", "PT5M", +4 * MINUTE, true],
    ["within", "PT5M", -5 * MINUTE, true],
    ["within", "PT5M", -6 * MINUTE, false],
    ["within", "PT5M", +6 * MINUTE, false],
    ["within", "PT0.5S", -400, true],
    ["within", "PT0.5S", -600, false],
  ];
  const cases = table.flatMap(([op, d, offset, expected]) => [
    [op, d, offset, "ISO string", iso(NOW + offset), expected] as const,
    [op, d, offset, "epoch ms", NOW + offset, expected] as const,
  ]);

  test.each(cases)(
    "%s %s, timestamp now%+d ms as %s",
    async (operator, duration, _offset, _format, stamp, expected) => {
      const p = policyOf([rule("t", { all: [mem("$.seenAt", operator, duration)] })]);
      const r = await evaluateRules(p, facts({ now: NOW, memory: { seenAt: stamp } }));
      expect(r.rules[0]!.fired).toBe(expected);
    },
  );

  test.each<[string, Json | undefined]>([
    ["not a timestamp", "yesterday"],
    ["a boolean", true],
    ["null", null],
    ["missing", undefined],
  ])("a value that is %s is neither olderThan nor within", async (_name, stamp) => {
    const p = policyOf([
      rule("old", { all: [mem("$.seenAt", "olderThan", "PT1S")] }),
      rule("recent", { all: [mem("$.seenAt", "within", "P7D")] }),
    ]);
    const memory: JsonObject = stamp === undefined ? {} : { seenAt: stamp };
    const r = await evaluateRules(p, facts({ now: NOW, memory }));
    expect(r.fired).toEqual([]);
  });

  test("not:olderThan negates", async () => {
    const p = policyOf([rule("fresh", { all: [mem("$.seenAt", "not:olderThan", "PT5M")] })]);
    const r = await evaluateRules(p, facts({ now: NOW, memory: { seenAt: iso(NOW - MINUTE) } }));
    expect(r.fired.map((f) => f.rule)).toEqual(["fresh"]);
  });
});

describe("decide: memory", () => {
  const policy = policyOf(
    [
      rule("empty", { all: [mem("$.queue.depth", "equal", 0)] }),
      rule("named", { all: [mem("$.queue.name", "equal", "q")] }),
    ],
    { defaults: { queue: { depth: 0, name: "default" } } },
  );

  test.each<[string, JsonObject, string[]]>([
    ["defaults fill missing memory", {}, ["empty"]],
    ["memory wins over defaults", { queue: { depth: 2, name: "q" } }, ["named"]],
    ["defaults merge under a partial object", { queue: { name: "q" } }, ["empty", "named"]],
  ])("%s", async (_name, memory, fired) => {
    const r = await decide(policy, makeObject({ memory }), { trigger: { kind: "manual" }, at: T0 }, deps());
    expect(r.decision.fired.map((f) => f.rule)).toEqual(fired);
    // Defaults are never written into memory.
    expect(r.object.memory).toEqual(memory);
  });

  test("each patch bumps memoryVersion by one and is journaled with it", async () => {
    const object = makeObject({ memoryVersion: 4, memory: { queue: { depth: 1 } } });
    const first = await decide(
      policy,
      object,
      { trigger: { kind: "facts" }, at: T0 + SECOND, patch: { queue: { depth: 0 } } },
      deps(),
    );
    expect(first.object.memoryVersion).toBe(5);
    expect(first.decision.memoryVersion).toBe(5);
    expect(first.journal).toEqual({ seq: 5, patch: { queue: { depth: 0 } }, at: T0 + SECOND });
    expect(first.object.memory).toEqual({ queue: { depth: 0 } });
    expect(first.object.lastFactAt).toBe(T0 + SECOND);

    const second = await decide(
      policy,
      first.object,
      { trigger: { kind: "facts" }, at: T0 + 2 * SECOND, patch: { x: 1 } },
      deps(),
    );
    expect(second.object.memoryVersion).toBe(6);
    expect(second.journal?.seq).toBe(6);
    expect(second.object.memory).toEqual({ queue: { depth: 0 }, x: 1 });
  });

  test("an arrival without a patch keeps the version and journals nothing", async () => {
    const object = makeObject({ memoryVersion: 4, lastFactAt: T0 });
    const r = await decide(policy, object, { trigger: { kind: "manual" }, at: T0 + HOUR }, deps());
    expect(r.object.memoryVersion).toBe(4);
    expect(r.decision.memoryVersion).toBe(4);
    expect(r.journal).toBeNull();
    expect(r.object.lastFactAt).toBe(T0);
  });

  const tight: MemoryLimits = { maxPatchBytes: 40, maxMemoryBytes: 60, maxDepth: 3 };
  test.each<[string, JsonObject, JsonObject, { path: string; message: string }[]]>([
    ["patch too large", {}, { text: "x".repeat(30) }, [{ path: "$", message: "patch is 41 bytes; the limit is 40" }]],
    [
      "memory too large",
      { a: "x".repeat(40) },
      { b: "y".repeat(10) },
      [{ path: "$", message: "memory would be 65 bytes; the limit is 60" }],
    ],
    ["patch too deep", {}, { a: { b: { c: {} } } }, [{ path: "$.a.b.c", message: "nesting deeper than 3 levels" }]],
    [
      "forbidden key __proto__",
      {},
      JSON.parse('{"__proto__": {"admin": true}}') as JsonObject,
      [{ path: "$.__proto__", message: 'the key "__proto__" is not allowed' }],
    ],
    [
      "forbidden key constructor, nested",
      {},
      { a: { constructor: 1 } },
      [{ path: "$.a.constructor", message: 'the key "constructor" is not allowed' }],
    ],
  ])("MemoryLimitError: %s, and nothing changes", async (_name, memory, patch, problems) => {
    const object = makeObject({ memory, memoryVersion: 3 });
    const before = structuredClone(object);
    const arrival: Arrival = { trigger: { kind: "facts" }, at: T0 + SECOND, patch };
    const error = await decide(policy, object, arrival, deps({ limits: tight })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as MemoryLimitError).problems).toEqual(problems);
    expect((error as MemoryLimitError).message).toBe(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    expect(object).toEqual(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  test("decide does not mutate the object or the patch", async () => {
    const object = deepFreeze(
      makeObject({
        state: "active",
        memory: { queue: { depth: 2 }, keep: [1, 2] },
        timers: [{ name: "sweep", dueAt: T0 + HOUR, kind: "schedule" }],
        holdUntil: T0 + MINUTE,
      }),
    );
    const patch = deepFreeze({ queue: { depth: 0 } });
    const r = await decide(policy, object, { trigger: { kind: "facts" }, at: T0 + 2 * MINUTE, patch }, deps());
    expect(r.object).not.toBe(object);
    expect(r.object.memory).toEqual({ queue: { depth: 0 }, keep: [1, 2] });
    expect(object.memory).toEqual({ queue: { depth: 2 }, keep: [1, 2] });
  });
});

describe("decide: the decision record", () => {
  const policy = policyOf(
    [
      rule("backlog", { all: [mem("$.queue.depth", "greaterThan", 0)] }, { type: "wake" }),
      rule(
        "idle",
        { all: [mem("$.queue.depth", "equal", 0), { fact: "state", operator: "equal", value: "active" }] },
        {
          type: "dormancy",
          params: { wakeAfter: "PT6H" },
        },
      ),
    ],
    { defaults: { queue: { depth: 0 } } },
  );

  test("a wake from dormant issues start and records everything", async () => {
    const object = makeObject({ id: "w-1", memoryVersion: 1 });
    const r = await decide(
      policy,
      object,
      { trigger: { kind: "facts" }, at: T0 + MINUTE, patch: { queue: { depth: 2 } } },
      deps(),
    );
    expect(r.actions).toEqual([{ id: "action-0001", kind: "start" }]);
    expect(r.decision).toMatchObject({
      id: "decision-0002",
      objectId: "w-1",
      at: T0 + MINUTE,
      trigger: { kind: "facts" },
      policy: { name: "probe", version: "7" },
      memoryVersion: 2,
      fired: [{ rule: "backlog", event: "wake", params: {} }],
      outcome: "wake",
      fromState: "dormant",
      toState: "waking",
      actions: [{ id: "action-0001", kind: "start", status: "pending" }],
      timers: [],
      notes: [],
      dryRun: false,
    });
    expect(r.decision.explanation.summary).toBe("outcome wake (fired: backlog); dormant -> waking; start issued");
    expect(r.object).toMatchObject({
      state: "waking",
      stateSince: T0 + MINUTE,
      lastDecisionId: "decision-0002",
      updatedAt: T0 + MINUTE,
    });
  });

  test("dormancy with wakeAfter sets the wake timer on the object and in the store ops", async () => {
    const object = makeObject({ state: "active", stateSince: T0 });
    const r = await decide(
      policy,
      object,
      { trigger: { kind: "manual" }, at: T0 + HOUR },
      deps({ canSuspend: () => false }),
    );
    expect(r.decision.outcome).toBe("dormancy");
    expect(r.actions.map((a) => a.kind)).toEqual(["stop"]);
    expect(r.decision.notes).toEqual(["driver simulated cannot suspend: stopping instead"]);
    expect(r.timerOps).toEqual([{ name: "wake", op: "set", dueAt: T0 + 7 * HOUR, kind: "wake" }]);
    expect(r.object.timers).toEqual([{ name: "wake", dueAt: T0 + 7 * HOUR, kind: "wake" }]);
  });

  test("a dry run keeps lastDecisionId", async () => {
    const object = makeObject({ lastDecisionId: "earlier" });
    const r = await decide(policy, object, { trigger: { kind: "manual" }, at: T0 }, deps({ dryRun: true }));
    expect(r.decision.dryRun).toBe(true);
    expect(r.object.lastDecisionId).toBe("earlier");
  });

  test.each<[string, ObjectRecord, Arrival]>([
    [
      "the timer that fired and is not set again",
      makeObject({
        timers: [
          { name: "poll", dueAt: T0, kind: "schedule" },
          { name: "other", dueAt: T0 + HOUR, kind: "schedule" },
        ],
      }),
      { trigger: { kind: "timer", name: "poll" }, at: T0 },
    ],
    [
      "the wake timer that fired",
      makeObject({ timers: [{ name: "wake", dueAt: T0, kind: "wake" }] }),
      { trigger: { kind: "timer", name: "wake" }, at: T0 },
    ],
    [
      "a facts arrival with timers pending",
      makeObject({ state: "active", timers: [{ name: "poll", dueAt: T0 + HOUR, kind: "schedule" }] }),
      { trigger: { kind: "facts" }, at: T0 + HOUR, patch: { queue: { depth: 0 } } },
    ],
  ])("the store's timer ops lead to the object's timers: %s", async (_name, object, arrival) => {
    const r = await decide(policy, object, arrival, deps());
    expect(applyTimerOps(object.timers, r.timerOps)).toEqual(r.object.timers);
    expect(r.object.timers.some((t) => t.name === arrival.trigger.name && t.dueAt <= arrival.at)).toBe(false);
  });
});

describe("EnginePool: concurrent evaluations under one policy", () => {
  // The pool serves the policies (and the evaluations) that run on json-rules-engine: these
  // tests ask for it, since the compiled rules would need no Engine at all.
  // Two priority sets: json-rules-engine checks its shared `status` between them, which is
  // where overlapping runs of one Engine lose results.
  const RULES: RuleDoc[] = [
    { ...rule("deep", { all: [mem("$.queue.depth", "greaterThan", 25)] }, { type: "wake" }), priority: 2 },
    rule(
      "shallow",
      { all: [mem("$.queue.depth", "lessThanInclusive", 25), { fact: "state", operator: "equal", value: "active" }] },
      { type: "dormancy" },
    ),
    rule("odd", { all: [mem("$.odd", "equal", true)] }, { type: "hold-active" }),
  ];
  const expectedFired = (i: number) => [
    ...(i > 25 ? ["deep"] : []),
    ...(i <= 25 && i % 2 === 1 ? ["shallow"] : []),
    ...(i % 2 === 1 ? ["odd"] : []),
  ];
  /** Starts `n` calls one microtask apart, so they overlap at different stages; awaits them all. */
  async function overlapping<T>(n: number, staggered: boolean, start: (i: number) => Promise<T>): Promise<T[]> {
    const pending: Promise<T>[] = [];
    for (let i = 0; i < n; i++) {
      pending.push(start(i));
      if (staggered) await Promise.resolve();
    }
    return Promise.all(pending);
  }

  test.each([
    ["started together", false, "json-rules-engine"],
    ["started a microtask apart", true, "json-rules-engine"],
    ["started together", false, "compiled"],
  ] as const)("50 decide() calls %s each get their own result (%s)", async (_name, staggered, engine) => {
    const v = validatePolicy({ name: "probe", version: "7", rules: RULES });
    if (!v.valid) throw new Error(JSON.stringify(v.errors));
    const policy = compilePolicy(v.policy, "hash", { engine });
    expect(policy.engine.name).toBe(engine);
    const objects = Array.from({ length: 50 }, (_, i) =>
      makeObject({
        id: `o-${i}`,
        state: i % 2 === 0 ? "dormant" : "active",
        memory: { queue: { depth: i }, odd: i % 2 === 1 },
      }),
    );
    const results = await overlapping(50, staggered, (i) =>
      decide(policy, objects[i]!, { trigger: { kind: "manual" }, at: T0 }, deps()),
    );
    results.forEach((r, i) => {
      expect(r.decision.objectId).toBe(`o-${i}`);
      expect(r.decision.fired.map((f) => f.rule)).toEqual(expectedFired(i));
      const deep = r.decision.explanation.rules[0]!.conditions as { conditions: { factValue?: Json }[] };
      expect(deep.conditions[0]!.factValue).toBe(i);
    });
    if (engine === "compiled") expect(policy.engines.size).toBe(0);
    else {
      expect(policy.engines.size).toBeGreaterThan(1);
      expect(policy.engines.size).toBeLessThanOrEqual(4);
    }
  });

  test("a run that throws does not cut short the next run on the pool", async () => {
    // json-rules-engine goes on with the rest of a run that threw, then marks its Engine
    // finished: a run started on that Engine meanwhile loses its lower-priority rules.
    const v = validatePolicy({
      name: "probe",
      version: "1",
      rules: [
        { ...rule("boom", { all: [mem("$.x", "swap:in", "a")] }), priority: 2 },
        rule("later", { all: [mem("$.y", "equal", 1)] }),
      ],
    });
    if (!v.valid) throw new Error(JSON.stringify(v.errors));
    const policy = compilePolicy(v.policy, "hash", { engine: "json-rules-engine" });
    await expect(evaluateRules(policy, facts())).rejects.toThrow(TypeError);
    const r = await evaluateRules(policy, facts({ memory: { x: "abc", y: 1 } }));
    expect(r.rules.map((x) => [x.rule, x.fired, x.conditions.result])).toEqual([
      ["boom", true, true],
      ["later", true, true],
    ]);
  });

  test("a policy json-rules-engine cannot build fails every evaluation, none left waiting", async () => {
    // A shared condition named "": validation refuses it; compiled unvalidated here.
    const doc = { name: "probe", version: "7", rules: [rule("r", { all: [] })], conditions: { "": { all: [] } } };
    expect(validatePolicy(doc).valid).toBe(false);
    const policy = compilePolicy(doc as unknown as PolicyDocument, "hash");
    expect(policy.engine.name).toBe("json-rules-engine");
    for (let i = 0; i < 6; i++)
      await expect(evaluateRules(policy, facts())).rejects.toThrow("Engine: setCondition() requires name");
  });

  test("control: the same load on one shared Engine loses results (why the pool exists)", async () => {
    const engine = new Engine(
      RULES.map((r) => ({
        name: r.name,
        priority: r.priority ?? 1,
        conditions: r.conditions as unknown as TopLevelCondition,
        event: { type: "x" },
      })),
      { allowUndefinedFacts: false },
    );
    const runs = await overlapping(50, true, (i) =>
      engine.run({ memory: { queue: { depth: i }, odd: i % 2 === 1 }, state: i % 2 === 0 ? "dormant" : "active" }),
    );
    const got = runs.map((r) => r.results.map((x) => x.name as string).sort());
    const want = runs.map((_, i) => expectedFired(i).sort());
    expect(got).not.toEqual(want);
  });
});

// ---- differential: the compiled fast path against json-rules-engine's reference -----------

/** Conditions over json-rules-engine's coercion corners; each becomes one rule. */
const CORPUS: Cond[] = [
  mem("$.n", "greaterThan", 9),
  mem("$.n", "greaterThan", "9"),
  mem("$.n", "lessThan", 10),
  mem("$.n", "greaterThanInclusive", 10),
  mem("$.n", "lessThanInclusive", "10"),
  mem("$.n", "equal", 10),
  mem("$.n", "equal", "10"),
  mem("$.n", "notEqual", 10),
  mem("$.n", "equal", null),
  mem("$.n", "notEqual", null),
  mem("$.n", "in", [10, "10"]),
  mem("$.n", "not:equal", 10),
  mem("$.n", "greaterThan", { fact: "memory", path: "$.limit" }),
  mem("$.s", "in", ["a", "b", null]),
  mem("$.s", "in", "abc"),
  mem("$.s", "notIn", ["a"]),
  mem("$.s", "notIn", "abc"),
  mem("$.s", "someValue:equal", ["a", "bc"]),
  mem("$.s.length", "equal", 2),
  mem("$.s[0]", "equal", "b"),
  mem("$.missing", "in", [null]),
  mem("$.missing", "equal", null),
  mem("$.missing", "notEqual", 1),
  mem("$.missing", "greaterThan", -1),
  mem("$.missing", "doesNotContain", "x"),
  mem("$.arr", "contains", "x"),
  mem("$.arr", "contains", 1),
  mem("$.arr", "doesNotContain", "x"),
  mem("$.arr[0]", "equal", "x"),
  mem("$.arr[1]", "in", ["y", "z"]),
  mem("$.arr.length", "greaterThan", 1),
  mem("$.arr", "someFact:equal", "y"),
  mem("$.arr[0]", "swap:contains", ["x", "y"]),
  mem("$.nums", "everyFact:greaterThan", 0),
  mem("$.a.b.c", "equal", 1),
  mem("$.a.b.c", "greaterThan", 0),
  mem("$.a.b", "equal", null),
  mem("$.a.b", "notEqual", null),
  mem("$.a[0].b", "equal", 1),
  mem("$.obj[0]", "equal", "zero"),
  mem('$["odd key"]', "equal", 1),
  mem("$.flag", "equal", true),
  mem("$.flag", "notEqual", false),
  { any: [mem("$.n", "equal", 10), mem("$.s", "equal", "a")] },
  { not: mem("$.arr", "contains", "x") },
  { fact: "state", operator: "equal", value: "active" },
  { fact: "state", path: "$.x", operator: "equal", value: "active" },
  { fact: "trigger", path: "$.kind", operator: "equal", value: "facts" },
  { fact: "changed", operator: "contains", value: "$.n" },
  { fact: "idleMs", operator: "greaterThan", value: "100" },
];

/** Memory documents that put those conditions on their corners. */
const DOCS: JsonObject[] = [
  {},
  { n: 10 },
  { n: "10" },
  { n: "9" },
  { n: 9 },
  { n: 11, limit: 10 },
  { n: "11", limit: "9" },
  { n: "abc" },
  { n: "10abc" },
  { n: "" },
  { n: 0 },
  { n: null },
  { n: [10] },
  { n: true },
  { s: "a" },
  { s: "bc" },
  { s: "" },
  { s: null },
  { s: ["a"] },
  { s: "b" },
  { arr: ["x", "y"] },
  { arr: [] },
  { arr: "xyz" },
  { arr: [1, "1"] },
  { arr: { "0": "x", length: 2 } },
  { nums: [1, 2] },
  { nums: [] },
  { nums: [0, 1] },
  { nums: "12" },
  { a: { b: { c: 1 } } },
  { a: { b: { c: "1" } } },
  { a: { b: null } },
  { a: { b: {} } },
  { a: [{ b: 1 }] },
  { a: null },
  { a: "str" },
  { obj: { "0": "zero" } },
  { obj: ["zero"] },
  { "odd key": 1 },
  { flag: true },
  { flag: "true" },
  { flag: false },
  { n: 10, s: "a", arr: ["x"], a: { b: { c: 1 } }, flag: true, missing: null },
  { missing: 1 },
  { missing: 0 },
  { missing: ["x"] },
  { missing: ["y"] },
];

describe("differential: compiled engine vs a plain json-rules-engine Engine", () => {
  const rules: RuleDoc[] = CORPUS.map((c, i) =>
    rule(`c${i}`, "all" in c || "any" in c || "not" in c ? c : { all: [c] }),
  );
  const compiled = policyOf(rules);
  const reference = new Engine(
    rules.map(
      (r) =>
        ({
          name: r.name,
          conditions: r.conditions as unknown as TopLevelCondition,
          event: { type: "wake" },
        }) satisfies RuleProperties,
    ),
  );

  /** The other built-in facts vary with the document's position, so their conditions vary too. */
  const factsFor = (memory: JsonObject, i = 0): BuiltinFacts =>
    facts({
      memory,
      state: i % 2 === 0 ? "active" : "dormant",
      trigger: i % 3 === 0 ? { kind: "facts" } : { kind: "timer", name: "sweep" },
      changed: Object.keys(memory).map((k) => `$.${k}`),
      idleMs: i % 4 === 0 ? 50 : 250,
    });

  test.each(DOCS.map((d, i) => [JSON.stringify(d), d, i] as const))("memory %s", async (_name, memory, i) => {
    const f = factsFor(memory, i);
    const ours = (await evaluateRules(compiled, f)).fired.map((x) => x.rule).sort();
    const theirs = (await reference.run(f as unknown as Record<string, unknown>)).results
      .map((x) => x.name as string)
      .sort();
    expect(ours).toEqual(theirs);
  });

  test("the corpus reaches both outcomes of every condition", async () => {
    // Guards the corpus itself: a condition that never or always fires tests nothing.
    const firedBy = new Map<string, number>();
    for (const [i, d] of DOCS.entries())
      for (const f of (await evaluateRules(compiled, factsFor(d, i))).fired)
        firedBy.set(f.rule, (firedBy.get(f.rule) ?? 0) + 1);
    const constant = rules
      .filter((r) => [0, DOCS.length].includes(firedBy.get(r.name) ?? 0))
      .map((r) => JSON.stringify(r.conditions));
    expect(constant).toEqual([]);
  });

  test("a condition that throws in json-rules-engine at run time (in with a number value) is refused at load", () => {
    const v = validatePolicy({ name: "probe", version: "1", rules: [rule("boom", { all: [mem("$.n", "in", 5)] })] });
    expect(v.valid).toBe(false);
    expect(!v.valid && v.errors).toEqual([
      {
        path: "$.rules[0].conditions.all[0].value",
        message: '"in" needs a list value (a string makes it a substring test)',
      },
    ]);
  });

  test("swap:in on a missing path throws in json-rules-engine and in the compiled engine alike", async () => {
    const condition = mem("$.missing", "swap:in", ["x"]);
    const r = [rule("boom", { all: [condition] })];
    const p = policyOf(r);
    const plain = new Engine([
      { name: "boom", conditions: r[0]!.conditions as unknown as TopLevelCondition, event: { type: "wake" } },
    ]);
    await expect(evaluateRules(p, factsFor({}))).rejects.toMatchObject({ rule: "boom", error: expect.any(TypeError) });
    await expect(plain.run(factsFor({}) as unknown as Record<string, unknown>)).rejects.toThrow(TypeError);
  });

  test("json-rules-engine's corners, spelled out", async () => {
    const fired = async (memory: JsonObject) =>
      (await evaluateRules(compiled, factsFor(memory))).fired.map((x) => x.rule);
    // "10" > 9 is true: numeric strings coerce.
    expect(await fired({ n: "10" })).toContain("c0");
    // in with a string value is a substring test.
    expect(await fired({ s: "bc" })).toContain("c14");
    // notEqual passes on a missing path, doesNotContain does not.
    expect(await fired({})).toContain("c22");
    expect(await fired({})).not.toContain("c24");
  });
});
