// Runs a compiled policy against one object's built-in facts and explains the result:
// which rules fired, and for every rule each condition as true, false or not evaluated. The
// compiled rules (rules-compiler.ts) when the policy has them, json-rules-engine otherwise;
// both give the same result, which is json-rules-engine's.

import type { EngineResult, RuleResult } from "json-rules-engine";
import type { CompiledPolicy } from "./compile.ts";
import { evaluationWeight } from "./evaluation-weight.ts";
import { messageOf, RuleFailed, type BuiltinFacts, type RuleEvaluation } from "./rules-compiler.ts";
import type { ConditionExplanation, FiredEvent, Json, JsonObject, RuleExplanation } from "./types.ts";

export { RuleFailed, type BuiltinFacts, type RuleEvaluation } from "./rules-compiler.ts";

/**
 * Evaluates every rule of the policy on the engine it was compiled for. An evaluation the
 * compiled rules cannot finish (one that throws) is run again on json-rules-engine, which
 * throws too, so that the error is exactly json-rules-engine's; it is thrown as a
 * {@link RuleFailed} naming the rule it came from, when the rules the compiled ones saw throw
 * tell which (see `named`). A policy with `weigh` has the evaluation weighed first.
 */
export async function evaluateRules(policy: CompiledPolicy, facts: BuiltinFacts): Promise<RuleEvaluation> {
  if (policy.weigh) policy.weigh(evaluationWeight(policy.document, facts as unknown as Record<string, unknown>));
  let failed: RuleFailed | null = null;
  if (policy.evaluator !== null) {
    try {
      return policy.evaluator(facts);
    } catch (e) {
      // fall through: json-rules-engine decides what this evaluation throws
      if (e instanceof RuleFailed) failed = e;
    }
  }
  try {
    return await evaluateOnEngine(policy, facts);
  } catch (e) {
    throw failed ? named(failed, e) : e;
  }
}

/**
 * json-rules-engine's error `e`, named by its rule: json-rules-engine runs the rules a priority at
 * a time, highest first, so the error comes from the highest priority that threw. A single rule
 * of it is named whatever the message (its conditions run together, and another of them may
 * have failed first); of several, the one whose error the message is, or none.
 */
function named(failed: RuleFailed, e: unknown): unknown {
  const top = failed.failures.filter((x) => x.priority === failed.failures[0]!.priority);
  const rule = top.length === 1 ? top[0]!.rule : top.find((x) => messageOf(x.error) === messageOf(e))?.rule;
  return rule === undefined ? e : new RuleFailed(rule, e);
}

/** Evaluates every rule of the policy on json-rules-engine; one pooled Engine per run. */
export async function evaluateOnEngine(policy: CompiledPolicy, facts: BuiltinFacts): Promise<RuleEvaluation> {
  const result = await policy.engines.use(async ({ engine, context }) => {
    context.now = facts.now;
    return engine.run(facts as unknown as Record<string, unknown>);
  });
  return explainEngineResult(policy, result);
}

/** Builds the RuleEvaluation of a json-rules-engine run of the policy's rules. */
export function explainEngineResult(
  policy: Pick<CompiledPolicy, "ruleOrder" | "events">,
  result: Pick<EngineResult, "results" | "failureResults">,
): RuleEvaluation {
  const byName = new Map<string, RuleResult>();
  for (const r of result.results) byName.set(r.name, r);
  for (const r of result.failureResults) byName.set(r.name, r);
  const fired: FiredEvent[] = [];
  const rules: RuleExplanation[] = [];
  for (const name of policy.ruleOrder) {
    const r = byName.get(name);
    const event = policy.events.get(name)!;
    const didFire = r?.result === true;
    if (didFire) fired.push({ rule: name, event: event.type, params: (event.params ?? {}) as JsonObject });
    rules.push({
      rule: name,
      event: event.type,
      fired: didFire,
      conditions: r ? explainTop(r) : { kind: "all", result: "not-evaluated", conditions: [] },
    });
  }
  return { fired, rules };
}

/** json-rules-engine records the top-level result on the rule, not on its condition. */
function explainTop(r: RuleResult): ConditionExplanation {
  const tree = explainCondition(r.conditions);
  if (tree.result === "not-evaluated" && typeof r.result === "boolean") tree.result = r.result;
  return tree;
}

type RawCondition = {
  all?: RawCondition[];
  any?: RawCondition[];
  not?: RawCondition;
  condition?: string;
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  result?: boolean;
  factResult?: unknown;
};

function outcome(result: boolean | undefined): boolean | "not-evaluated" {
  return result === undefined ? "not-evaluated" : result;
}

/** Mirrors json-rules-engine's annotated condition tree; `result` missing = never evaluated. */
export function explainCondition(raw: unknown): ConditionExplanation {
  const c = raw as RawCondition;
  if (c.all) return { kind: "all", result: outcome(c.result), conditions: c.all.map(explainCondition) };
  if (c.any) return { kind: "any", result: outcome(c.result), conditions: c.any.map(explainCondition) };
  if (c.not) return { kind: "not", result: outcome(c.result), conditions: [explainCondition(c.not)] };
  if (c.condition !== undefined) return { kind: "reference", condition: c.condition, result: outcome(c.result) };
  const out: ConditionExplanation = {
    kind: "fact",
    fact: c.fact ?? "",
    operator: c.operator ?? "",
    value: (c.value ?? null) as Json,
    result: outcome(c.result),
  };
  if (c.path !== undefined) out.path = c.path;
  // factValue is absent when the path was missing from the fact.
  if (c.result !== undefined && c.factResult !== undefined) out.factValue = c.factResult as Json;
  return out;
}
