// Compiles a policy's rules once into plain closures that evaluate them synchronously and
// explain the result exactly as evaluateRules does over json-rules-engine 7: the same fired
// rules, the same explanation tree (results, "not-evaluated", factValue present or absent).
// json-rules-engine's own code (rule.js, condition.js, almanac.js) is the specification; each
// place below that mirrors one of its choices says which.
//
// What the compiled evaluator leaves out, on purpose: json-rules-engine's promises, its deep
// clone of every rule's conditions per run, its fact cache keyed by hash-it, events. None of
// them changes a result: Vigil's facts are constants and its rules have no listeners.
//
// An evaluation that throws (json-rules-engine throws too: `in` meeting a value without
// indexOf, `someValue` over a non-list fact value, a fact missing from the facts object) is
// rerun on json-rules-engine by evaluateRules, so that the error is exactly the one
// json-rules-engine gives: the compiled closures must throw whenever it does, and otherwise
// return exactly its result.

import { compileFact, has, isObject, NotCompiled, type CompiledNode, type Facts, type Raw } from "./fact-compiler.ts";
import type { PolicyDocument } from "./policy.ts";
import type {
  ConditionExplanation,
  FiredEvent,
  JsonObject,
  LifecycleState,
  Observation,
  RuleExplanation,
  Trigger,
} from "./types.ts";

/** The built-in facts of one evaluation (see the policy author's guide). */
export interface BuiltinFacts {
  memory: JsonObject;
  state: LifecycleState;
  now: number;
  trigger: Trigger;
  changed: string[];
  idleMs: number;
  stateAgeMs: number;
  substrate: Observation | { status: "unknown" };
}

/** Which rules fired (in file order, with their events as written) and why, rule by rule. */
export interface RuleEvaluation {
  fired: FiredEvent[];
  rules: RuleExplanation[];
}

/** A compiled policy's rules: evaluates synchronously; throws where json-rules-engine would. */
export type RulesEvaluator = (facts: BuiltinFacts) => RuleEvaluation;

/** The compiled evaluator, or why the policy has to stay on json-rules-engine. */
export type CompiledRules = { ok: true; evaluate: RulesEvaluator } | { ok: false; reason: string };

type Node = CompiledNode;

const isEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * Compiles every rule of a validated policy document. Pure; never throws: what it cannot
 * compile (or an error of its own) leaves the policy on json-rules-engine, with the reason.
 */
export function compileRules(doc: PolicyDocument): CompiledRules {
  try {
    return { ok: true, evaluate: compile(doc) };
  } catch (e) {
    if (e instanceof NotCompiled) return { ok: false, reason: e.message };
    return { ok: false, reason: `the compiler failed: ${(e as Error).message}` };
  }
}

/** What a rule's conditions threw. */
export interface RuleError {
  rule: string;
  priority: number;
  error: unknown;
}

/**
 * An evaluation that threw in a rule's conditions: which rule, and what it threw; `failures`,
 * every rule that threw, in the order json-rules-engine runs them (highest priority first).
 */
export class RuleFailed extends Error {
  constructor(
    readonly rule: string,
    readonly error: unknown,
    readonly failures: readonly RuleError[] = [{ rule, priority: 1, error }],
  ) {
    super(messageOf(error));
  }
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function compile(doc: PolicyDocument): RulesEvaluator {
  const shared: Raw = isObject(doc.conditions) ? doc.conditions : {};
  // engine.setCondition throws on an empty name when an Engine is built, so json-rules-engine
  // refuses every evaluation of such a policy: it stays there to fail the same way.
  if (has(shared, "")) throw new NotCompiled("a shared condition has an empty name, which json-rules-engine refuses");
  const names = new Set(doc.rules.map((r) => r.name));
  if (names.size !== doc.rules.length) throw new NotCompiled("two rules share a name");

  const sharedNodes = new Map<string, Node | "compiling">();
  const usedFacts = new Set<string>();
  const sharedNode = (name: string): Node | null => {
    const known = sharedNodes.get(name);
    if (known === "compiling") throw new NotCompiled(`shared condition "${name}" refers to itself`);
    if (known) return known;
    if (!has(shared, name)) return null;
    sharedNodes.set(name, "compiling");
    const node = compileTop(shared[name], compileContext);
    sharedNodes.set(name, node);
    return node;
  };
  const compileContext: Context = { sharedNode, usedFacts };
  const rules = doc.rules.map((r) => ({
    name: r.name,
    type: r.event.type,
    params: r.event.params as JsonObject | undefined,
    priority: typeof r.priority === "number" ? r.priority : 1,
    top: compileTop(r.conditions, compileContext),
  }));
  /** Every rule that throws, once one has: json-rules-engine's error may be another one's. */
  const failed = (f: Facts, first: number, error: unknown): RuleFailed => {
    const failures = [{ rule: rules[first]!, error }];
    for (let i = first + 1; i < rules.length; i++) {
      try {
        rules[i]!.top.run(f, [], 0);
      } catch (e) {
        failures.push({ rule: rules[i]!, error: e });
      }
    }
    failures.sort((a, b) => b.rule.priority - a.rule.priority);
    return new RuleFailed(
      failures[0]!.rule.name,
      failures[0]!.error,
      failures.map((x) => ({ rule: x.rule.name, priority: x.rule.priority, error: x.error })),
    );
  };
  // Compile the shared conditions no rule reaches too: a cycle among them is refused either way.
  for (const name of Object.keys(shared)) sharedNode(name);
  const facts = [...usedFacts];

  return (input) => {
    const f = input as unknown as Facts;
    // json-rules-engine knows the facts it was handed (for...in over them), and rejects a
    // condition on any other. Anything but an own enumerable fact goes to json-rules-engine.
    for (const name of facts) if (!isEnumerable.call(f, name)) throw new Error(`Undefined fact: ${name}`);
    const fired: FiredEvent[] = [];
    const explained: RuleExplanation[] = [];
    const tops: ConditionExplanation[] = [];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let didFire: boolean;
      try {
        didFire = rule.top.run(f, tops, i);
      } catch (e) {
        throw failed(f, i, e);
      }
      if (didFire) fired.push({ rule: rule.name, event: rule.type, params: rule.params ?? {} });
      explained.push({ rule: rule.name, event: rule.type, fired: didFire, conditions: tops[i]! });
    }
    return { fired, rules: explained };
  };
}

interface Context {
  sharedNode(name: string): Node | null;
  /** The facts the conditions read: an evaluation checks that it was given them. */
  usedFacts: Set<string>;
}

/**
 * A rule's own condition. rule.js evaluates it without recording a result on it (evaluate.ts
 * then shows the rule's), so it evaluates like any nested condition of the same kind.
 */
function compileTop(c: unknown, ctx: Context): Node {
  if (!isObject(c) || !(has(c, "all") || has(c, "any") || has(c, "not") || has(c, "condition")))
    throw new NotCompiled("a rule's conditions are not all, any, not or a shared-condition reference");
  return compileNode(c, ctx);
}

function compileNode(c: unknown, ctx: Context): Node {
  if (!isObject(c)) throw new NotCompiled("a condition is not an object");
  // condition.js booleanOperator() looks for any, then all, then not.
  if (has(c, "any")) return compileList("any", c.any, c.priority, ctx);
  if (has(c, "all")) return compileList("all", c.all, c.priority, ctx);
  if (has(c, "not")) return compileNot(c.not, c.priority, ctx);
  if (has(c, "condition")) return compileReference(c, ctx);
  return compileFact(c, ctx.usedFacts);
}

/** condition.js: a boolean node's priority is `parseInt(priority, 10) || 1`. */
const booleanPriority = (p: unknown) => Number.parseInt(p as string, 10) || 1;

const notEvaluated = "not-evaluated" as const;

function compileList(kind: "all" | "any", list: unknown, priority: unknown, ctx: Context): Node {
  if (!Array.isArray(list)) throw new NotCompiled(`"${kind}" is not a list`);
  const children = list.map((x) => compileNode(x, ctx));
  return {
    priority: booleanPriority(priority),
    run: listRunner(kind, children),
    skip: () => ({ kind, result: notEvaluated, conditions: children.map((x) => x.skip()) }),
  };
}

/** rule.js prioritizeAndRun, for all and any. */
function listRunner(kind: "all" | "any", children: Node[]): Node["run"] {
  const isAll = kind === "all";
  const n = children.length;
  // No conditions is true, for any as for all.
  if (n === 0)
    return (_f, into, at) => {
      into[at] = { kind, result: true, conditions: [] };
      return true;
    };
  // One condition is evaluated as it is, whatever its priority.
  if (n === 1) {
    const only = children[0]!;
    return (f, into, at) => {
      const conditions: ConditionExplanation[] = [];
      const result = only.run(f, conditions, 0);
      into[at] = { kind, result, conditions };
      return result;
    };
  }
  const groups = prioritize(children);
  // One priority set: every condition is evaluated, none short-circuits another.
  if (groups.length === 1)
    return (f, into, at) => {
      const conditions: ConditionExplanation[] = [];
      let result = isAll;
      for (let i = 0; i < n; i++) if (children[i]!.run(f, conditions, i) !== isAll) result = !isAll;
      into[at] = { kind, result, conditions };
      return result;
    };
  // Set by set, highest priority first, every condition of a set evaluated; a set that settles
  // the result leaves the lower ones not evaluated.
  return (f, into, at) => {
    const conditions = Array.from<ConditionExplanation>({ length: n });
    let result = isAll;
    let g = 0;
    while (g < groups.length) {
      for (const i of groups[g++]!) if (children[i]!.run(f, conditions, i) !== isAll) result = !isAll;
      if (result !== isAll) break;
    }
    for (; g < groups.length; g++) for (const i of groups[g]!) conditions[i] = children[i]!.skip();
    into[at] = { kind, result, conditions };
    return result;
  };
}

/**
 * rule.js prioritizeConditions: sets by priority (a condition's own, else its fact's, which is
 * 1 for facts given at run time), highest first, each set in document order. Returns indices.
 */
function prioritize(children: Node[]): number[][] {
  const sets: Record<string, number[]> = {};
  children.forEach((child, i) => {
    const priority = String(child.priority || 1);
    (sets[priority] ??= []).push(i);
  });
  return Object.keys(sets)
    .sort((a, b) => (Number(a) > Number(b) ? -1 : 1))
    .map((p) => sets[p]!);
}

function compileNot(inner: unknown, priority: unknown, ctx: Context): Node {
  const child = compileNode(inner, ctx);
  return {
    priority: booleanPriority(priority),
    run: (f, into, at) => {
      const conditions: ConditionExplanation[] = [];
      const result = !child.run(f, conditions, 0);
      into[at] = { kind: "not", result, conditions };
      return result;
    },
    skip: () => ({ kind: "not", result: notEvaluated, conditions: [child.skip()] }),
  };
}

/**
 * rule.js realize(): an evaluated reference is replaced, in the result tree, by a copy of the
 * shared condition, evaluated in its place; one never reached stays a reference. Its priority
 * among its siblings is the reference's own (taken before the replacement).
 */
function compileReference(c: Raw, ctx: Context): Node {
  const name = c.condition;
  if (typeof name !== "string") throw new NotCompiled("a shared-condition reference is not a name");
  const target = ctx.sharedNode(name);
  return {
    priority: c.priority,
    run: target
      ? (f, into, at) => target.run(f, into, at)
      : () => {
          throw new Error(`No condition ${name} exists`);
        },
    skip: () => ({ kind: "reference", condition: name, result: notEvaluated }),
  };
}
