// What one evaluation of a policy's conditions can cost, bounded from above before it runs.
//
// An evaluation is synchronous work that nothing can interrupt: json-rules-engine's promises
// run back to back as microtasks, and the compiled rules are plain calls. Its cost is not set
// by the number of conditions alone: `someFact:in` over a list of 30,000 items against a value
// of 100,000 makes three billion comparisons, seconds of a blocked event loop, from one
// condition. What-if requests (a dry run, a replay) evaluate documents and facts that any
// `read` token sends, so each of their evaluations is weighed first and refused above a limit.
//
// The weight of a fact comparison, with n the list items of a side (at every depth) and t the
// length of its JSON text: (n_fact + 1) × (n_value + 1) + (n_value + 1) × t_fact +
// (n_fact + 1) × t_value, counted again for each reference to a shared condition (both engines
// evaluate it again). The decorators (someFact, someValue, everyFact, everyValue) run the
// operator on each item of a side, at most (n_fact + 1) × (n_value + 1) calls, and each call
// reads its two operands at most once or twice over: `===` stops at the shorter string,
// `indexOf` scans one side, `in` on a string searches it, and the numeric comparisons turn a
// list into text (`parseFloat(String(list))`). So each call costs at most its operands' text,
// and over all the calls every item of one side meets the other side's whole text at most once:
// the two products. It bounds the explanation's size too, which shows both values.

import { parsePath, readPath, type PathSegment } from "./paths.ts";
import type { Condition, PolicyDocument } from "./policy.ts";

/**
 * The most one what-if evaluation may weigh. Measured here at the limit, one comparison shaped
 * for the most work a unit can buy (two list decorators over lists of numbers, a numeric
 * comparison turning a list of 37,000 numbers into text, a substring search) took 35 ms at
 * most: an evaluation holds the event loop for some tens of milliseconds at most (twice that
 * when the compiled rules throw and json-rules-engine runs it again). A policy's usual
 * comparisons weigh tens of units each; a `contains` over a list of 2,000 host names about
 * 115,000.
 */
export const WHAT_IF_MAX_WEIGHT = 1_000_000;

/** An evaluation refused before it ran: it would weigh more than the limit. */
export class TooCostly extends Error {
  constructor(
    readonly weight: number,
    readonly max: number,
  ) {
    super(
      `evaluating it would compare values of about ${weight} units in all (list items times text, per comparison), more than the ${max} one what-if evaluation may`,
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

/** One side of a comparison: a fact at a path (null: the fact itself), or a constant's measure. */
type Side = { fact: string; path: readonly PathSegment[] | null; bad: boolean } | { measure: Measure };

/** A value's list items, at every depth, and the length of its JSON text. */
interface Measure {
  items: number;
  text: number;
}

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
  const measures = new Map<object, Measure>();
  let weight = 0;
  for (const c of comparisons) {
    const f = sideMeasure(c.left, facts, measures);
    const v = sideMeasure(c.right, facts, measures);
    weight += c.times * ((f.items + 1) * (v.items + 1) + (v.items + 1) * f.text + (f.items + 1) * v.text);
  }
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
  if (typeof fact !== "string") return { measure: { items: 0, text: 0 } };
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
  return { measure: measureOf(value, new Map()) };
}

function sideMeasure(side: Side, facts: Readonly<Record<string, unknown>>, measures: Map<object, Measure>): Measure {
  if ("measure" in side) return side.measure;
  const root = facts[side.fact];
  // A path on a value that is not an object is ignored (almanac.js); one outside the grammar
  // reads nothing, but is weighed as the whole fact, to be sure of an upper bound.
  const value =
    side.path === null || root === null || typeof root !== "object" || side.bad ? root : readPath(root, side.path);
  return measureOf(value, measures);
}

/** A scalar's text: a string's characters and quotes, a number's digits (24 at most), a word. */
function scalarText(v: unknown): number {
  if (typeof v === "string") return v.length + 2;
  if (typeof v === "number") {
    const a = Math.abs(v);
    return Number.isInteger(v) && a < 1e15 ? (a < 10 ? 1 : Math.floor(Math.log10(a)) + 1) + (v < 0 ? 1 : 0) : 24;
  }
  return 5;
}

/** Items and text of a value, each list and object measured once however often it is met. */
function measureOf(v: unknown, measures: Map<object, Measure>): Measure {
  if (v === null || typeof v !== "object") return { items: 0, text: scalarText(v) };
  const known = measures.get(v);
  if (known !== undefined) return known;
  const m: Measure = { items: 0, text: 2 };
  if (Array.isArray(v))
    for (const x of v) {
      const inner = measureOf(x, measures);
      m.items += 1 + inner.items;
      m.text += 1 + inner.text;
    }
  else
    for (const [k, x] of Object.entries(v)) {
      const inner = measureOf(x, measures);
      m.items += inner.items;
      m.text += k.length + 4 + inner.text;
    }
  measures.set(v, m);
  return m;
}
