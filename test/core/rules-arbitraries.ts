// fast-check generators for the differential test of the compiled rules (rules-compiler.test.ts):
// valid policies over every operator, decorator, built-in fact, nesting, shared condition,
// fact reference and priority Vigil accepts, and built-in facts whose memory sits on
// json-rules-engine's coercion corners (numeric strings, arrays, missing paths, null, nested
// objects, strings, booleans, timestamps).

import fc from "fast-check";
import { factConditionSchema } from "../../src/contracts/policy.ts";
import { LIFECYCLE_STATES, TRIGGER_KINDS, type Json, type JsonObject } from "../../src/core/types.ts";
import type { BuiltinFacts } from "../../src/core/evaluate.ts";
import { parsePath, type PathSegment } from "../../src/core/paths.ts";
import { BUILTIN_FACTS, OPERATOR_DECORATORS, OPERATORS } from "../../src/core/vocabulary.ts";

type Cond = Record<string, unknown>;

/** The evaluation time of every generated evaluation; timestamps in memory lie around it. */
export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;
const OFFSETS = [-25 * 60 * MINUTE, -6 * MINUTE, -5 * MINUTE, -4 * MINUTE, -400, 0, 4 * MINUTE, 6 * MINUTE];
const STAMPS: Json[] = [...OFFSETS.map((o) => NOW + o), ...OFFSETS.map((o) => new Date(NOW + o).toISOString())];
const DURATIONS = ["PT5M", "PT0.5S", "P1D", "PT0S", "PT1H"];

// ---- values ----------------------------------------------------------------------------------

const NUMBERS: Json[] = [0, 1, 9, 10, 11, -1, 2.5, 25, 1e21, -0];
const NUMERIC_STRINGS: Json[] = ["10", "9", "11", "0", "10abc", " 10", "1e1", "Infinity", "-1", "2.5"];
const STRINGS: Json[] = ["", "a", "b", "bc", "abc", "x", "y", "xyz", "active", "facts", "running", "timer", "true"];
const STRINGS_ODD: Json[] = ["null", "undefined", "[object Object]", "a,b", "PT5M", "$.n"];

/** Scalars on the corners: numbers, numeric strings, strings, booleans, null, timestamps. */
export const scalar: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.constantFrom(...NUMBERS), weight: 4 },
  { arbitrary: fc.constantFrom(...NUMERIC_STRINGS), weight: 3 },
  { arbitrary: fc.constantFrom(...STRINGS), weight: 4 },
  { arbitrary: fc.constantFrom(...STRINGS_ODD), weight: 1 },
  { arbitrary: fc.constantFrom<Json>(true, false, null), weight: 3 },
  { arbitrary: fc.constantFrom(...STAMPS), weight: 2 },
  { arbitrary: fc.integer({ min: -3, max: 12 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 2 }), weight: 1 },
);

/**
 * Object keys: those the paths use, array-ish ones (`01` is not `1`), the empty and a unicode
 * one, and a rare `toString` that breaks String() or `valueOf` that does not.
 */
const key = fc.oneof(
  { arbitrary: fc.constantFrom("a", "b", "c", "x", "0", "1", "length", "n", "s", "status"), weight: 40 },
  { arbitrary: fc.constantFrom("01", "", "é"), weight: 3 },
  { arbitrary: fc.constantFrom("toString", "valueOf"), weight: 1 },
);

/** Any JSON value, nested up to three levels, scalars most of the time. */
export const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json; array: Json[]; object: JsonObject }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    { arbitrary: scalar, weight: 6 },
    { arbitrary: tie("array"), weight: 2 },
    { arbitrary: tie("object"), weight: 2 },
  ),
  array: fc.array(tie("value"), { maxLength: 3 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 3, noNullPrototype: true }),
})).value;

/** Memory comes from JSON: its objects have Object.prototype. */
const NO_NULL = { noNullPrototype: true } as const;

const scalars = (max = 3) => fc.array(scalar, { minLength: 1, maxLength: max });
const pick = <T>(weighted: [fc.Arbitrary<T>, number][]) =>
  fc.oneof(...weighted.map(([arbitrary, weight]) => ({ arbitrary, weight })));

/** Memory under the keys the generated paths read, each one shaped for its paths most of the time. */
export const memory: fc.Arbitrary<JsonObject> = fc.record(
  {
    n: pick<Json>([
      [fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMERIC_STRINGS)), 4],
      [jsonValue, 1],
    ]),
    s: pick<Json>([
      [fc.constantFrom(...STRINGS), 4],
      [jsonValue, 1],
    ]),
    arr: pick<Json>([
      [fc.array(scalar, { maxLength: 4 }), 4],
      [jsonValue, 1],
    ]),
    nums: pick<Json>([
      [fc.array(fc.constantFrom(...NUMBERS, "10", "x"), { maxLength: 3 }), 4],
      [jsonValue, 1],
    ]),
    a: pick<Json>([
      [
        fc.record(
          {
            b: pick<Json>([
              [fc.record({ c: scalar }, NO_NULL), 3],
              [jsonValue, 1],
            ]),
          },
          NO_NULL,
        ),
        4,
      ],
      [fc.array(fc.record({ b: scalar }, NO_NULL), { maxLength: 2 }), 1],
      [jsonValue, 1],
    ]),
    obj: jsonValue,
    flag: pick<Json>([
      [fc.constantFrom<Json>(true, false, "true", 1, 0, null), 4],
      [jsonValue, 1],
    ]),
    t: pick<Json>([
      [fc.constantFrom(...STAMPS), 4],
      [jsonValue, 1],
    ]),
    limit: pick<Json>([
      [fc.constantFrom(...NUMBERS, ...NUMERIC_STRINGS), 4],
      [jsonValue, 1],
    ]),
    "odd key": scalar,
    "": scalar,
    é: scalar,
    list: pick<Json>([
      [fc.array(fc.constantFrom<Json>("a", "b", 10, "10"), { maxLength: 3 }), 3],
      [jsonValue, 1],
    ]),
  },
  { requiredKeys: [], ...NO_NULL },
) as fc.Arbitrary<JsonObject>;

const substrate = fc.oneof(
  fc.constant({ status: "unknown" as const }),
  fc.record(
    {
      status: fc.constantFrom("running", "suspended", "stopped", "unknown"),
      at: fc.constantFrom(NOW - MINUTE, NOW),
      extra: jsonValue,
    },
    { requiredKeys: ["status", "at"], noNullPrototype: true },
  ),
);

/** The built-in facts of one evaluation around the generated memory. */
export const facts: fc.Arbitrary<BuiltinFacts> = fc.record(
  {
    memory,
    state: fc.constantFrom(...LIFECYCLE_STATES),
    now: fc.constantFrom(NOW, NOW + 1),
    trigger: fc.record(
      { kind: fc.constantFrom(...TRIGGER_KINDS), name: fc.constantFrom("sweep", "tick"), late: fc.boolean() },
      { requiredKeys: ["kind"], noNullPrototype: true },
    ),
    changed: fc.subarray(["$.n", "$.s", "$.a.b.c", "$.queue.depth"]),
    idleMs: fc.constantFrom(0, 50, 100, 250, 5 * MINUTE),
    stateAgeMs: fc.constantFrom(0, 100, 250, 6 * MINUTE),
    substrate,
  },
  NO_NULL,
) as fc.Arbitrary<BuiltinFacts>;

// ---- policies --------------------------------------------------------------------------------

/** Paths per fact; undefined is "no path". A path on a fact that is not an object is ignored. */
const PATHS: Record<string, (string | undefined)[]> = {
  // prettier-ignore
  memory: [
    "$.n", "$.s", "$.arr", "$.arr[0]", "$.arr[1]", "$.arr.length", "$.s.length", "$.s[0]", "$.a", "$.a.b",
    "$.a.b.c", "$.a[0].b", "$.obj", "$.obj[0]", "$.obj.x", '$["odd key"]', "$.flag", "$.nums", "$.t",
    "$.limit", "$.list", "$.missing", "$", undefined, '$[""]', '$["é"]', "$.obj[01]", "$.arr[01]", "$.obj.valueOf",
  ],
  trigger: ["$.kind", "$.name", "$.late", undefined],
  substrate: ["$.status", "$.at", "$.extra", undefined],
  changed: ["$[0]", "$.length", undefined],
  state: [undefined, undefined, "$.x"],
  now: [undefined, undefined, "$.x"],
  idleMs: [undefined, undefined, "$.x"],
  stateAgeMs: [undefined, undefined, "$.x"],
};

const factAndPath = fc
  .constantFrom(...BUILTIN_FACTS)
  .chain((fact) => fc.record({ fact: fc.constant(fact), path: fc.constantFrom(...PATHS[fact]!) }));

const withoutUndefined = <T extends Cond>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** A `{fact, path?}` comparison value. */
const factRef = factAndPath.map(({ fact, path }) => withoutUndefined({ fact, path }));

/** An operator: undecorated most of the time, else one or two decorators. */
const operator = fc
  .tuple(
    fc.constantFrom(...OPERATORS),
    pick<number>([
      [fc.constant(0), 5],
      [fc.constant(1), 4],
      [fc.constant(2), 1],
    ]),
  )
  .chain(([base, n]) =>
    fc.array(fc.constantFrom(...OPERATOR_DECORATORS), { minLength: n, maxLength: n }).map((d) => [...d, base]),
  );

/** A value `validatePolicy` accepts for the operator, most of the time one that can go either way. */
function valueFor(parts: string[]): fc.Arbitrary<Json | Cond> {
  const base = parts[parts.length - 1]!;
  const decorators = parts.slice(0, -1);
  const listValue = decorators.includes("someValue") || decorators.includes("everyValue");
  const swap = decorators.includes("swap");
  const time = base === "olderThan" || base === "within";
  const list = (element: fc.Arbitrary<Json>) => fc.array(element, { minLength: 1, maxLength: 3 });
  let own: fc.Arbitrary<Json>;
  if (time && !swap) own = listValue ? list(fc.constantFrom(...DURATIONS)) : fc.constantFrom(...DURATIONS);
  else if (listValue)
    own = list(base === "in" || base === "notIn" ? fc.oneof(scalars(), fc.constantFrom("abc")) : scalar);
  else if ((base === "in" || base === "notIn") && !swap) own = fc.oneof(scalars(4), fc.constantFrom("abc", "xyz", ""));
  else
    own = pick<Json>([
      [scalar, 6],
      [scalars(), 2],
      [jsonValue, 1],
    ]);
  // A fact on the value side: the corners where both sides come from memory. Rarer where it
  // lets the operator throw (in, someValue/everyValue over a value that is not a list).
  const risky = listValue || base === "in" || base === "notIn";
  return pick<Json | Cond>([
    [own, risky ? 40 : 6],
    [factRef, 1],
  ]);
}

const maybe = <T>(arb: fc.Arbitrary<T>, freq: number) => fc.option(arb, { freq, nil: undefined });
const priority = maybe(fc.integer({ min: 1, max: 3 }), 3);

/**
 * One fact comparison, as validation takes it: not one json-rules-engine throws on whatever
 * memory holds (`in` looking in `now`), which validation refuses.
 */
export const factCondition: fc.Arbitrary<Cond> = fc
  .tuple(factAndPath, operator)
  .chain(([{ fact, path }, parts]) =>
    fc.record({
      fact: fc.constant(fact),
      path: fc.constant(path),
      operator: fc.constant(parts.join(":")),
      value: valueFor(parts),
      priority,
      name: maybe(fc.constant("named"), 10),
      params: maybe(fc.constant({ ignored: true }), 10),
    }),
  )
  .map(withoutUndefined)
  .filter((c) => factConditionSchema.safeParse(c).success);

/** A condition at most `depth` groups deep, referencing only the shared conditions `refs`. */
function condition(depth: number, refs: string[]): fc.Arbitrary<Cond> {
  if (depth === 0) return factCondition;
  const child = condition(depth - 1, refs);
  const choices: [fc.Arbitrary<Cond>, number][] = [
    [factCondition, 5],
    [group("all", child), 2],
    [group("any", child), 2],
    [fc.record({ not: child, priority }).map(withoutUndefined), 1],
  ];
  if (refs.length > 0) choices.push([reference(refs), 2]);
  return pick(choices);
}

const group = (kind: "all" | "any", child: fc.Arbitrary<Cond>) =>
  fc.record({ [kind]: fc.array(child, { maxLength: 4 }), priority }).map(withoutUndefined);
const reference = (refs: string[]) =>
  fc.record({ condition: fc.constantFrom(...refs), priority }).map(withoutUndefined);

/** A rule's own condition (or a shared condition's): all, any, not or a reference. */
function topCondition(refs: string[]): fc.Arbitrary<Cond> {
  const child = condition(2, refs);
  const tops: [fc.Arbitrary<Cond>, number][] = [
    [group("all", child), 4],
    [group("any", child), 3],
    [fc.record({ not: child }), 1],
  ];
  if (refs.length > 0) tops.push([reference(refs), 1]);
  return pick(tops);
}

const EVENTS: Cond[] = [
  { type: "wake" },
  { type: "hold-active", params: { for: "PT1M" } },
  { type: "dormancy", params: { wakeAfter: "PT6H" } },
  { type: "schedule", params: { name: "tick", after: "PT1M" } },
  { type: "cancel", params: { name: "tick" } },
];

/** A policy document: up to three shared conditions (each may use the earlier ones), 1-6 rules. */
export const policyDocument: fc.Arbitrary<Cond> = fc.integer({ min: 0, max: 3 }).chain((sharedCount) => {
  const names = Array.from({ length: sharedCount }, (_, i) => `shared${i}`);
  const shared = fc.tuple(...names.map((_, i) => topCondition(names.slice(0, i))));
  const rule = (i: number) =>
    fc
      .record({
        name: fc.constant(`rule${i}`),
        priority,
        conditions: topCondition(names),
        event: fc.constantFrom(...EVENTS),
      })
      .map(withoutUndefined);
  const rules = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rule(i))));
  return fc.tuple(shared, rules).map(([conds, rs]) => ({
    name: "generated",
    version: "1",
    ...(sharedCount > 0 ? { conditions: Object.fromEntries(names.map((n, i) => [n, conds[i]])) } : {}),
    rules: rs,
  }));
});

// ---- memories for a given policy (the ones in rules/) ------------------------------------------

/** Every memory path and comparison value in a policy document. */
export function memoryPathsAndValues(doc: unknown): { paths: PathSegment[][]; values: Json[] } {
  const paths: PathSegment[][] = [];
  const values: Json[] = [];
  const walk = (c: unknown): void => {
    if (Array.isArray(c)) return c.forEach(walk);
    if (c === null || typeof c !== "object") return;
    const o = c as Cond;
    if (o.fact === "memory" && typeof o.path === "string") paths.push(parsePath(o.path) ?? []);
    if ("operator" in o && o.value !== undefined)
      values.push(...(Array.isArray(o.value) ? o.value : [o.value as Json]));
    Object.values(o).forEach(walk);
  };
  walk(doc);
  return { paths, values };
}

/** Memory that sets, leaves out, or spoils (a scalar midway) each of the given paths. */
export function memoryAlong(paths: PathSegment[][], values: Json[]): fc.Arbitrary<JsonObject> {
  const leaf = values.length > 0 ? fc.oneof(scalar, fc.constantFrom(...values), fc.constantFrom(...values)) : scalar;
  const perPath = paths.map((p) =>
    fc.record({ set: fc.constantFrom("value", "value", "missing", "spoil"), value: leaf, cut: fc.nat(p.length) }),
  );
  return fc.tuple(...perPath).map((choices) => {
    const root: JsonObject = {};
    choices.forEach((choice, i) => {
      const path = paths[i]!;
      if (choice.set === "missing" || path.length === 0) return;
      const end = choice.set === "spoil" ? Math.max(1, choice.cut) : path.length;
      let node = root as Record<string, Json>;
      for (let j = 0; j < end - 1; j++) {
        const k = String(path[j]);
        const next = node[k];
        if (next === null || typeof next !== "object") node[k] = typeof path[j + 1] === "number" ? [] : {};
        node = node[k] as Record<string, Json>;
      }
      node[String(path[end - 1])] = choice.value;
    });
    return root;
  });
}
