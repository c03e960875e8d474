// What one evaluation of a policy's conditions can cost, bounded from above before it runs.
//
// An evaluation is synchronous work that nothing can interrupt: json-rules-engine's promises
// run back to back as microtasks, and the compiled rules are plain calls. Its cost is not set
// by the number of conditions alone: `someFact:in` over a list of 30,000 items against a value
// of 100,000 makes three billion comparisons, seconds of a blocked event loop, from one
// condition. What-if requests (a dry run, a replay) evaluate documents and facts that any
// `read` token sends, so each of their evaluations is weighed first and refused above a limit.
//
// The weight: for every fact comparison the evaluation can reach (each reference to a shared
// condition counted again, as both engines evaluate it again), (size of the fact's value + 1)
// × (size of the compared value + 1), where a size counts the items of lists, the entries of
// objects and the characters of strings and keys. Every operator and decorator costs at most
// a constant times that product: `in`/`contains` scan one side for an item of the other,
// someFact/someValue/everyFact/everyValue run the operator on each item of one side, and a
// comparison of two strings reads at most the shorter. It bounds the explanation's size too,
// which shows both values of each comparison.

import { parsePath, readPath, type PathSegment } from "./paths.ts";
import type { Condition, PolicyDocument } from "./policy.ts";

/**
 * The most one what-if evaluation may weigh. Measured here, a unit costs 1–2 ns in `in` and
 * `contains` (a native scan) and up to about 65 ns under two list decorators
 * (`someFact:someValue:equal`): an evaluation at the limit holds the event loop for at most
 * about 65 ms. A policy's usual comparisons weigh a few units each.
 */
export const WHAT_IF_MAX_WEIGHT = 1_000_000;

/** An evaluation refused before it ran: it would weigh more than the limit. */
export class TooCostly extends Error {
  constructor(
    readonly weight: number,
    readonly max: number,
  ) {
    super(
      `evaluating it would compare values of about ${weight} units in all (sizes multiplied per comparison), more than the ${max} one what-if evaluation may`,
    );
    this.name = "TooCostly";
  }
}

/** A `weigh` for a policy (CompiledPolicy.weigh) that refuses an evaluation heavier than `max`. */
export const refuseAbove =
  (max: number) =>
  (weight: number): void => {
    if (weight > max) throw new TooCostly(weight, max);
  };

/** One side of a comparison: a fact at a path (null: the fact itself), or a constant's size. */
type Side = { fact: string; path: readonly PathSegment[] | null; bad: boolean } | { size: number };

interface Comparison {
  left: Side;
  right: Side;
  /** How many times the evaluation can reach it (through references to shared conditions). */
  times: number;
}

const comparisonsOf = new WeakMap<PolicyDocument, Comparison[]>();

/** The weight of evaluating `doc`'s rules on `facts` (see the file's comment); 0 for none. */
export function evaluationWeight(doc: PolicyDocument, facts: Readonly<Record<string, unknown>>): number {
  let comparisons = comparisonsOf.get(doc);
  if (comparisons === undefined) {
    comparisons = collect(doc);
    comparisonsOf.set(doc, comparisons);
  }
  const sizes = new Map<object, number>();
  let weight = 0;
  for (const c of comparisons)
    weight += c.times * (sideSize(c.left, facts, sizes) + 1) * (sideSize(c.right, facts, sizes) + 1);
  return weight;
}

/**
 * The fact comparisons the rules reach, each with the number of ways it is reached. Validation
 * refuses cycles among shared conditions and bounds their expansion; the depth guard here only
 * keeps a document that got past it from recursing without end.
 */
function collect(doc: PolicyDocument): Comparison[] {
  const shared = (doc.conditions ?? {}) as Record<string, Condition>;
  const found = new Map<object, Comparison>();
  const walk = (c: unknown, times: number, depth: number): void => {
    if (c === null || typeof c !== "object" || depth > 256) return;
    const node = c as Record<string, unknown>;
    if (Array.isArray(node.all)) for (const x of node.all) walk(x, times, depth + 1);
    if (Array.isArray(node.any)) for (const x of node.any) walk(x, times, depth + 1);
    if (Object.hasOwn(node, "not")) walk(node.not, times, depth + 1);
    if (typeof node.condition === "string" && Object.hasOwn(shared, node.condition))
      walk(shared[node.condition], times, depth + 1);
    if (Object.hasOwn(node, "fact")) {
      const known = found.get(node);
      if (known) known.times += times;
      else found.set(node, { left: factSide(node.fact, node.path), right: valueSide(node.value), times });
    }
  };
  for (const rule of doc.rules) walk(rule.conditions, 1, 0);
  return [...found.values()];
}

function factSide(fact: unknown, path: unknown): Side {
  if (typeof fact !== "string") return { size: 0 };
  if (path === undefined || path === null || path === "") return { fact, path: null, bad: false };
  const segments = typeof path === "string" ? parsePath(path) : null;
  return { fact, path: segments ?? [], bad: segments === null };
}

/** A constant, or (an object with its own `fact`) another fact, as both engines read it. */
function valueSide(value: unknown): Side {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.hasOwn(value, "fact")) {
    const ref = value as Record<string, unknown>;
    return factSide(ref.fact, ref.path);
  }
  return { size: sizeOf(value, new Map()) };
}

function sideSize(side: Side, facts: Readonly<Record<string, unknown>>, sizes: Map<object, number>): number {
  if ("size" in side) return side.size;
  const root = facts[side.fact];
  // A path on a value that is not an object is ignored (almanac.js); one outside the grammar
  // reads nothing, but is weighed as the whole fact, to be sure of an upper bound.
  const value =
    side.path === null || root === null || typeof root !== "object" || side.bad ? root : readPath(root, side.path);
  return sizeOf(value, sizes);
}

/** Items, entries and characters, each list and object counted once however often it is met. */
function sizeOf(v: unknown, sizes: Map<object, number>): number {
  if (typeof v === "string") return 1 + v.length;
  if (v === null || typeof v !== "object") return 1;
  const known = sizes.get(v);
  if (known !== undefined) return known;
  let n = 1;
  if (Array.isArray(v)) for (const x of v) n += sizeOf(x, sizes);
  else for (const [k, x] of Object.entries(v)) n += 1 + k.length + sizeOf(x, sizes);
  sizes.set(v, n);
  return n;
}
