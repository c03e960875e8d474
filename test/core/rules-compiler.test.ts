// The compiled rules against json-rules-engine, generated: for every generated policy and
// memory, the compiled evaluator and json-rules-engine (Vigil's configuration, through the
// policy's own EnginePool) give the same RuleEvaluation, deep-equal and key for key, or both
// throw. Also over every policy in rules/. Seeded; VIGIL_FUZZ_RUNS=<policies> runs longer
// (default 200 policies x 50 memories), VIGIL_FUZZ_SEED=<n> another seed.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, test, vi } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { compilePolicy, type CompiledPolicy } from "../../src/core/compile.ts";
import type { PolicyDocument } from "../../src/core/policy.ts";
import { evaluateOnEngine, evaluateRules, type BuiltinFacts, type RuleEvaluation } from "../../src/core/evaluate.ts";
import { TRIGGER_KINDS, type ConditionExplanation } from "../../src/core/types.ts";
import { BUILTIN_FACTS, OPERATOR_DECORATORS, OPERATORS, splitOperator } from "../../src/core/vocabulary.ts";
import { facts, memoryAlong, memoryPathsAndValues, NOW, policyDocument } from "./rules-arbitraries.ts";

const POLICIES = Number(process.env.VIGIL_FUZZ_RUNS ?? 200);
const MEMORIES_PER_POLICY = 50;
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20_260_301);
const RULES_DIR = join(import.meta.dirname, "../../rules");
/** A longer run (VIGIL_FUZZ_RUNS) takes about 20 ms per policy; the default one about 4 s. */
const LONG_RUN_TIMEOUT = Math.max(60_000, POLICIES * 100);

function compile(doc: unknown): CompiledPolicy {
  const v = validatePolicy(doc);
  if (!v.valid) throw new Error(`generated an invalid policy: ${JSON.stringify(v.errors)}\n${JSON.stringify(doc)}`);
  return compilePolicy(v.policy, "hash");
}

type Outcome = { ok: true; value: RuleEvaluation } | { ok: false; error: Error };

async function reference(policy: CompiledPolicy, f: BuiltinFacts): Promise<Outcome> {
  try {
    return { ok: true, value: await evaluateOnEngine(policy, f) };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

function compiled(policy: CompiledPolicy, f: BuiltinFacts): Outcome {
  try {
    return { ok: true, value: policy.evaluator!(f) };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

/** What the generated evaluations reached, so that the generators are held to their coverage. */
const seen = {
  memories: 0,
  threw: 0,
  fired: 0,
  notFired: 0,
  outcome: new Map<string, Set<string>>(),
};
const saw = (what: string, result: ConditionExplanation["result"] | "absent" | "present") => {
  let s = seen.outcome.get(what);
  if (!s) seen.outcome.set(what, (s = new Set()));
  s.add(String(result));
};

function tally(e: RuleEvaluation): void {
  const walk = (c: ConditionExplanation): void => {
    saw(`kind ${c.kind}`, c.result);
    if (c.kind === "fact") {
      const { base, decorators } = splitOperator(c.operator);
      saw(`operator ${base}`, c.result);
      for (const d of decorators) saw(`decorator ${d}`, c.result);
      saw(`fact ${c.fact}`, c.result);
      if (c.result !== "not-evaluated") saw("factValue", "factValue" in c ? "present" : "absent");
      if (c.value !== null && typeof c.value === "object" && "fact" in c.value) saw("fact reference", c.result);
    } else if (c.kind !== "reference") c.conditions.forEach(walk);
  };
  for (const r of e.rules) {
    if (r.fired) seen.fired++;
    else seen.notFired++;
    walk(r.conditions);
  }
}

/** The same RuleEvaluation on both engines (or both throw), and evaluateRules gives it too. */
async function agree(policy: CompiledPolicy, f: BuiltinFacts): Promise<void> {
  seen.memories++;
  const theirs = await reference(policy, f);
  const ours = compiled(policy, f);
  if (!theirs.ok) {
    seen.threw++;
    expect(ours.ok, `json-rules-engine threw ${theirs.error.message}; the compiled rules did not`).toBe(false);
    // evaluateRules reruns the evaluation on json-rules-engine: its error, exactly.
    await expect(evaluateRules(policy, f)).rejects.toThrow(theirs.error.message);
    return;
  }
  if (!ours.ok) throw new Error(`the compiled rules threw (${ours.error.message}); json-rules-engine did not`);
  if (!identical(ours.value, theirs.value)) {
    // For a readable difference; key order is the one difference toStrictEqual does not see.
    expect(ours.value).toStrictEqual(theirs.value);
    expect(JSON.stringify(ours.value, null, 1)).toBe(JSON.stringify(theirs.value, null, 1));
  }
  tally(ours.value);
}

/**
 * Deep equality, stricter than toStrictEqual and much faster on 10,000 trees: the same keys in
 * the same order (decisions are stored and served as JSON), no key set to undefined on one side
 * only, the same prototypes, primitives by Object.is.
 */
function identical(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k, i) => k === kb[i] && identical((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

describe("compiled rules vs json-rules-engine, generated", () => {
  test(
    `${POLICIES} generated policies x ${MEMORIES_PER_POLICY} generated memories`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          policyDocument,
          fc.array(facts, { minLength: MEMORIES_PER_POLICY, maxLength: MEMORIES_PER_POLICY }),
          async (doc, memories) => {
            const policy = compile(doc);
            expect(policy.engine).toEqual({ name: "compiled" });
            for (const f of memories) await agree(policy, f);
          },
        ),
        { seed: SEED, numRuns: POLICIES },
      );
    },
    LONG_RUN_TIMEOUT,
  );

  test("the generated evaluations reached every operator, decorator, fact and shape both ways", () => {
    const missing: string[] = [];
    const expectBoth = (what: string, outcomes = ["true", "false"]) => {
      const got = seen.outcome.get(what) ?? new Set();
      for (const o of outcomes) if (!got.has(o)) missing.push(`${what}: ${o}`);
    };
    for (const op of OPERATORS) expectBoth(`operator ${op}`, ["true", "false", "not-evaluated"]);
    for (const d of OPERATOR_DECORATORS) expectBoth(`decorator ${d}`);
    for (const f of BUILTIN_FACTS) expectBoth(`fact ${f}`);
    for (const k of ["all", "any", "not"]) expectBoth(`kind ${k}`, ["true", "false", "not-evaluated"]);
    expectBoth("kind reference", ["not-evaluated"]);
    expectBoth("fact reference");
    expectBoth("factValue", ["present", "absent"]);
    expect(missing).toEqual([]);
    expect(seen.memories).toBeGreaterThanOrEqual(10_000);
    // Both the results and the errors are exercised, the results far more.
    expect(seen.threw).toBeGreaterThan(0);
    expect(seen.threw / seen.memories).toBeLessThan(0.25);
    expect(seen.fired).toBeGreaterThan(seen.memories / 2);
    expect(seen.notFired).toBeGreaterThan(seen.memories / 2);
  });
});

describe("compiled rules vs json-rules-engine, the policies in rules/", () => {
  const files = readdirSync(RULES_DIR).filter((f) => f.endsWith(".json"));
  const runs = Math.max(1, Math.round(POLICIES / 2));

  test.each(files)("%s", async (file) => {
    const doc = JSON.parse(readFileSync(join(RULES_DIR, file), "utf8")) as unknown;
    const policy = compile(doc);
    expect(policy.engine).toEqual({ name: "compiled" });
    const { paths, values } = memoryPathsAndValues(doc);
    // A trigger named as the policy's conditions name one (a timer's name, `wake`) half the time.
    const names = values.filter((v): v is string => typeof v === "string");
    const trigger = fc.record(
      {
        kind: fc.constantFrom(...TRIGGER_KINDS),
        name:
          names.length > 0
            ? fc.oneof(fc.constantFrom("sweep", "tick"), fc.constantFrom(...names))
            : fc.constant("tick"),
        late: fc.boolean(),
      },
      { requiredKeys: ["kind"], noNullPrototype: true },
    );
    const generated = facts.chain((f) =>
      fc.tuple(memoryAlong(paths, values), trigger).map(([memory, t]) => ({ ...f, memory, trigger: t })),
    );
    const fired = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(generated, { minLength: 5, maxLength: 5 }), async (memories) => {
        for (const f of memories) {
          await agree(policy, f);
          for (const x of policy.evaluator!(f).fired) fired.add(x.rule);
        }
      }),
      { seed: SEED, numRuns: runs },
    );
    // Every rule of the policy fired on some generated memory.
    expect([...fired].sort()).toEqual([...policy.ruleOrder].sort());
  });
});

describe("what is compiled, what stays on json-rules-engine", () => {
  const base = { name: "probe", version: "1" };
  const rule = (conditions: unknown) => ({ name: "r", conditions, event: { type: "wake" } });
  const f: BuiltinFacts = {
    memory: { n: 10, s: "abc" },
    state: "active",
    now: NOW,
    trigger: { kind: "facts" },
    changed: [],
    idleMs: 0,
    stateAgeMs: 0,
    substrate: { status: "unknown" },
  };

  test('a shared condition named "" (which validation refuses) is not compiled, and json-rules-engine refuses it too', async () => {
    const doc = { ...base, conditions: { "": { all: [] } }, rules: [rule({ all: [] })] };
    expect(validatePolicy(doc).valid).toBe(false);
    const policy = compilePolicy(doc as PolicyDocument, "hash");
    expect(policy.engine).toEqual({ name: "json-rules-engine", reason: expect.stringContaining("empty name") });
    expect(policy.evaluator).toBeNull();
    await expect(evaluateRules(policy, f)).rejects.toThrow("Engine: setCondition() requires name");
  });

  test("json-rules-engine can be asked for", async () => {
    const v = validatePolicy({
      ...base,
      rules: [rule({ all: [{ fact: "memory", path: "$.n", operator: "equal", value: 10 }] })],
    });
    if (!v.valid) throw new Error("invalid");
    const policy = compilePolicy(v.policy, "hash", { engine: "json-rules-engine" });
    expect(policy.engine).toEqual({ name: "json-rules-engine", reason: "json-rules-engine was asked for" });
    expect((await evaluateRules(policy, f)).fired.map((x) => x.rule)).toEqual(["r"]);
    expect(policy.engines.size).toBe(1);
  });

  test("an evaluation that throws is rerun on json-rules-engine, for its error", async () => {
    // swap:in calls indexOf on the fact value: a number has none.
    const policy = compile({
      ...base,
      rules: [rule({ all: [{ fact: "memory", path: "$.n", operator: "swap:in", value: "x" }] })],
    });
    // Each throws what json-rules-engine's run threw (a TypeError), named by the rule it threw in.
    expect(() => policy.evaluator!(f)).toThrow(expect.objectContaining({ rule: "r", error: expect.any(TypeError) }));
    const onEngine = vi.spyOn(policy.engines, "use");
    await expect(evaluateRules(policy, f)).rejects.toMatchObject({ rule: "r", error: expect.any(TypeError) });
    expect(onEngine).toHaveBeenCalledTimes(1);
    // The pool drops an Engine whose run threw (it goes on running in the background).
    expect(policy.engines.size).toBe(0);
  });

  // policy-authors.md said the numeric operators are false, never an error, on a value that
  // is not a number: json-rules-engine reads it as text first (parseFloat(String(value))).
  test("greaterThan on a list of one number compares that number, and on an object with a toString key throws", async () => {
    const policy = compile({
      ...base,
      rules: [rule({ all: [{ fact: "memory", path: "$.n", operator: "greaterThan", value: 2 }] })],
    });
    const on = (n: unknown) => ({ ...f, memory: { n } }) as BuiltinFacts;
    for (const [n, fired] of [
      [[3], true],
      [[3, 4], false],
      ["0x10", true],
      [{}, false],
      [true, false],
    ] as const) {
      expect(policy.evaluator!(on(n)).fired.length, JSON.stringify(n)).toBe(fired ? 1 : 0);
      expect((await evaluateOnEngine(policy, on(n))).fired.length, JSON.stringify(n)).toBe(fired ? 1 : 0);
    }
    await expect(evaluateOnEngine(policy, on({ toString: 1 }))).rejects.toThrow(TypeError);
    await expect(evaluateRules(policy, on({ toString: 1 }))).rejects.toMatchObject({ rule: "r" });
  });

  // The corners of json-rules-engine 7 the compiled rules reproduce, spelled out.
  test.each<[string, unknown, boolean, unknown]>([
    ["an empty any is true", { any: [] }, true, { kind: "any", result: true, conditions: [] }],
    [
      "a path on a fact that is not an object is ignored",
      { all: [{ fact: "state", path: "$.x", operator: "equal", value: "active" }] },
      true,
      {
        kind: "all",
        result: true,
        conditions: [
          {
            kind: "fact",
            fact: "state",
            operator: "equal",
            value: "active",
            result: true,
            path: "$.x",
            factValue: "active",
          },
        ],
      },
    ],
    [
      "a value's keys named like Object.prototype's are lost in json-rules-engine's copy of it",
      { not: { fact: "memory", path: "$.s", operator: "equal", value: { toString: 0, a: 1 } } },
      true,
      {
        kind: "not",
        result: true,
        conditions: [
          {
            kind: "fact",
            fact: "memory",
            operator: "equal",
            value: { a: 1 },
            result: false,
            path: "$.s",
            factValue: "abc",
          },
        ],
      },
    ],
    [
      "in on a string is a substring test, and String(value) is what is looked for",
      { all: [{ fact: "memory", path: "$.n", operator: "in", value: "a10b" }] },
      true,
      {
        kind: "all",
        result: true,
        conditions: [
          { kind: "fact", fact: "memory", operator: "in", value: "a10b", result: true, path: "$.n", factValue: 10 },
        ],
      },
    ],
  ])("%s", async (_name, conditions, fired, explained) => {
    const policy = compile({ ...base, rules: [rule(conditions)] });
    const r = policy.evaluator!(f);
    expect(r.rules[0]!.fired).toBe(fired);
    expect(r.rules[0]!.conditions).toStrictEqual(explained);
    expect(r).toStrictEqual(await evaluateOnEngine(policy, f));
  });
});

afterAll(() => {
  if (process.env.VIGIL_FUZZ_RUNS)
    console.log(`differential: ${seen.memories} evaluations, ${seen.threw} threw on both engines (now=${NOW})`);
});
