// Compiles one fact comparison of a policy (`{fact, path?, operator, value}`) into a closure
// that evaluates and explains it as json-rules-engine 7 does (condition.js evaluate, almanac.js
// factValue and getValue, rule-result.js's copy of the conditions), for rules-compiler.ts.

import { composeOperator, constantTest, type OperatorFn } from "./operators.ts";
import { parsePath } from "./paths.ts";
import type { FactCondition } from "./policy.ts";
import type { ConditionExplanation, Json } from "./types.ts";
import { BUILTIN_FACTS } from "./vocabulary.ts";

/** The built-in facts of one evaluation, by name. */
export type Facts = Record<string, unknown>;

/** One compiled condition. */
export interface CompiledNode {
  /**
   * Evaluates the condition, puts its explanation at `into[at]` and returns its result (the
   * caller need not read it back from the explanation); throws where json-rules-engine would.
   */
  run(facts: Facts, into: ConditionExplanation[], at: number): boolean;
  /** The explanation of the condition when json-rules-engine short-circuits it. */
  skip(): ConditionExplanation;
  /** Its priority among its siblings in an all/any (rule.js prioritizeConditions). */
  priority: unknown;
}

/** Refuses a document the compiler does not understand; the policy stays on json-rules-engine. */
export class NotCompiled extends Error {}

/** A policy document's node before it is known to be well formed. */
export type Raw = Record<string, unknown>;
/** A plain object (not null, not an array). */
export const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);
/** An own property, as json-rules-engine tests the keys of a condition. */
export const has = (o: object, key: string) => Object.hasOwn(o, key);

const notEvaluated = "not-evaluated" as const;

/** Compiles a fact comparison; adds the facts it reads to `usedFacts`. */
export function compileFact(c: Raw, usedFacts: Set<string>): CompiledNode {
  // condition.js requires these three; json-rules-engine refuses the rule without them.
  if (!has(c, "fact") || !has(c, "operator") || !has(c, "value"))
    throw new NotCompiled("a condition is neither a group, a reference nor a fact comparison");
  const { path, operator } = c as unknown as FactCondition;
  const left = factReader(c.fact, path, usedFacts);
  // evaluate.ts shows a missing fact name as "" (validation lets none through).
  const fact = (c.fact as string | undefined) ?? "";
  // The value compared and shown is json-rules-engine's copy of it (see cloneAsEngine), made
  // once here rather than once per evaluation; every evaluation shares it, so it is frozen.
  const copy = c.value === undefined ? undefined : freezeJson(cloneAsEngine(c.value as Json));
  const value = copy ?? null;
  // almanac.js getValue: an object with an own `fact` is read as that fact (at its path).
  const ref = copy !== null && typeof copy === "object" && has(copy, "fact") ? (copy as Raw) : null;
  const right = ref ? factReader(ref.fact, ref.path, usedFacts) : () => copy;
  const op: OperatorFn =
    composeOperator(operator) ??
    (() => {
      throw new Error(`Unknown operator: ${operator}`);
    });
  const showPath = path !== undefined;
  // The usual condition, an undecorated operator and a constant value, runs bound to its value.
  const test = ref ? null : constantTest(operator, copy);
  // evaluate.ts's key order; factValue is absent when the fact (at its path) is undefined. One
  // literal per shape: V8 allocates those whole, instead of growing an object key by key.
  const explain = showPath
    ? (lhs: unknown, result: boolean): ConditionExplanation =>
        lhs === undefined
          ? { kind: "fact", fact, operator, value, result, path }
          : { kind: "fact", fact, operator, value, result, path, factValue: lhs as Json }
    : (lhs: unknown, result: boolean): ConditionExplanation =>
        lhs === undefined
          ? { kind: "fact", fact, operator, value, result }
          : { kind: "fact", fact, operator, value, result, factValue: lhs as Json };
  return {
    priority: c.priority,
    run: test
      ? (f, into, at) => {
          const lhs = left(f);
          const result = test(lhs, f.now as number);
          into[at] = explain(lhs, result);
          return result;
        }
      : (f, into, at) => {
          // condition.js reads the value side first, then the fact (Promise.all order).
          const rhs = right(f);
          const lhs = left(f);
          const result = op(lhs, rhs, f.now as number);
          into[at] = explain(lhs, result);
          return result;
        },
    skip: showPath
      ? () => ({ kind: "fact", fact, operator, value, result: notEvaluated, path })
      : () => ({ kind: "fact", fact, operator, value, result: notEvaluated }),
  };
}

/**
 * almanac.js factValue: the fact itself, or, when a path is given and the fact is an object
 * (arrays included), the value at the path via Vigil's pathResolver (paths.ts readPath): a
 * missing step is undefined. A path on a fact that is not an object is ignored.
 */
function factReader(fact: unknown, path: unknown, usedFacts: Set<string>): (f: Facts) => unknown {
  if (typeof fact !== "string" || !(BUILTIN_FACTS as readonly string[]).includes(fact))
    return () => {
      throw new Error(`Undefined fact: ${String(fact)}`);
    };
  usedFacts.add(fact);
  if (!path) return (f) => f[fact];
  const segments = typeof path === "string" ? parsePath(path) : null;
  // resolvePath yields undefined for a path outside the grammar (validation refuses those).
  const read = segments === null ? () => undefined : pathReader(segments.map(String));
  return (f) => {
    const value = f[fact];
    return value === null || typeof value !== "object" ? value : read(value);
  };
}

/**
 * paths.ts readPath for one path: each step is an own property of a truthy value, else
 * undefined. Unrolled for the usual one to three steps, which V8 runs about twice as fast.
 */
function pathReader(keys: string[]): (value: object) => unknown {
  const step = (v: unknown, k: string): unknown => (v && Object.hasOwn(v, k) ? (v as Raw)[k] : undefined);
  const [a, b, c] = keys as [string, string, string];
  switch (keys.length) {
    case 0:
      return (v) => v;
    case 1:
      return (v) => step(v, a);
    case 2:
      return (v) => step(step(v, a), b);
    case 3:
      return (v) => step(step(step(v, a), b), c);
    default:
      return (v) => {
        let current: unknown = v;
        for (let i = 0; i < keys.length; i++) current = step(current, keys[i]!);
        return current;
      };
  }
}

/**
 * The copy json-rules-engine evaluates and reports: rule-result.js deep-copies each rule's
 * conditions with the `clone` package before every run, and `clone` leaves out an object's
 * keys that Object.prototype has as plain data (`toString`, `valueOf`, `constructor`, ...):
 * `{"toString": 0}` is compared and shown as `{}`. Arrays are copied whole.
 */
function cloneAsEngine(v: Json): Json {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(cloneAsEngine);
  const proto = Object.getPrototypeOf(v) as object | null;
  const out = Object.create(proto) as Record<string, Json>;
  for (const k in v) {
    const inherited = proto ? Object.getOwnPropertyDescriptor(proto, k) : undefined;
    if (inherited && inherited.set == null) continue;
    out[k] = cloneAsEngine(v[k]!);
  }
  return out;
}

/** Deep-freezes a JSON value (a copy made at compile time) and returns it. */
function freezeJson(v: Json): Json {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) freezeJson(x);
    Object.freeze(v);
  }
  return v;
}
