// JSON values at the boundaries: the zod schemas for "any JSON value" and "any JSON object".
//
// They take and refuse exactly what `z.json()` and `z.record(z.string(), z.json())` do, in the
// same words, and publish the same JSON Schema, but check a value in one walk. zod's own schema
// is a union that tries a string, a number, a boolean and null before an array or an object, and
// makes an error for each branch that fails: every array and object it read cost four or five
// errors, so a 1 MiB body of `[]` items held the event loop about half a second (POST
// .../evaluate, open to a `read` token) before any limit refused it.
//
// A value taken is returned as it was given, where zod's made a copy without any own `__proto__`
// key: every caller refuses that key (and `constructor`, `prototype`) before the schema reads it.

import { z } from "zod";

type JsonType = z.core.util.JSONType;

/**
 * How deep the walk goes before it leaves the value to `z.json()`: far past any request body
 * (64 levels, MAX_BODY_DEPTH) and any policy, so that only a value built in code reaches it,
 * deep or referring to itself (which zod takes).
 */
export const MAX_WALKED_DEPTH = 256;

interface JsonDef extends z.core.$ZodTypeDef {
  /**
   * `z.json()`'s union, its array and object branches made of the schema of any JSON value:
   * the words for a refused value, and that schema's JSON Schema.
   */
  union?: z.ZodType;
  /** What the schema stands for, which reads a value the walk leaves (too deep) or a top it refuses. */
  standIn: z.ZodType;
  /** Whether the top must be an object (a record of JSON values). */
  object: boolean;
}

type JsonSchema<T> = z.ZodType<T, unknown, z.core.$ZodTypeInternals<T, unknown> & { def: JsonDef }>;

const JsonSchema = z.core.$constructor<JsonSchema<unknown>, JsonDef>("VigilJson", (inst, def) => {
  z.ZodType.init(inst, def);
  inst._zod.parse = (payload, ctx) => {
    const verdict = walk(payload.value, def.object);
    if (verdict === "json") return payload;
    if (verdict !== "refused") return def.standIn._zod.run(payload, ctx) as typeof payload;
    // Something is refused: each refused value is worded by zod's union for it alone, at its
    // path. zod's words for the whole are the same: its union follows the array or object branch,
    // which has no complaint about the container itself, down to each refused value.
    const union = def.union!;
    const path: PropertyKey[] = [];
    const report = (v: unknown) => {
      const r = union._zod.run({ value: v, issues: [] }, ctx) as z.core.ParsePayload;
      for (const issue of r.issues) payload.issues.push({ ...issue, path: [...path, ...(issue.path ?? [])] });
    };
    if (def.object) members(payload.value as object, path, report);
    else refused(payload.value, path, report);
    return payload;
  };
  // As z.json() is a lazy schema of its union, the same JSON Schema (a record is zod's record).
  if (!def.object)
    inst._zod.processJSONSchema = (ctx, _json, params) => {
      z.core.processSchema(def.union!, ctx, params);
      ctx.seen.get(inst)!.ref = def.union;
    };
});

/** Any JSON value, as `z.json()` takes it. */
export function jsonValue(): JsonSchema<JsonType> {
  const def: JsonDef = { type: "custom", standIn: z.json(), object: false };
  const schema = new JsonSchema(def) as JsonSchema<JsonType>;
  // z.json()'s own union (zod/v4/classic/schemas.js `json`), of this schema where it has itself.
  def.union = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(schema), z.record(z.string(), schema)]);
  return schema;
}

/**
 * A JSON object whose values are any JSON, as `z.record(z.string(), z.json(), params)` takes it
 * (`params` words a top that is not an object). To zod's JSON Schema it is that record.
 */
export function jsonRecord(params?: Parameters<typeof z.record>[2]): JsonSchema<Record<string, JsonType>> {
  const value = jsonValue();
  const record = z.record(z.string(), value, params);
  const def: JsonDef = {
    ...record._zod.def,
    union: value._zod.def.union,
    standIn: z.record(z.string(), z.json(), params),
    object: true,
  };
  return new JsonSchema(def) as JsonSchema<Record<string, JsonType>>;
}

/** A JSON object whose values are any JSON. */
export const jsonObject = jsonRecord();

const { isPlainObject } = z.core.util;

/** Whether an object has an own enumerable symbol key, which zod's record refuses. */
const symbolKeyed = (o: object) =>
  Object.getOwnPropertySymbols(o).some((s) => Object.prototype.propertyIsEnumerable.call(o, s));

/**
 * Whether a value is JSON as zod's schema reads it: strings, finite numbers, booleans, null,
 * arrays of JSON (a hole is undefined, refused), and plain objects whose own enumerable keys are
 * strings with JSON values (an own `__proto__` key is passed over, as zod's record does). One
 * walk, with a stack of the values still to read: no error and no path is made for a value taken
 * (an object's list of symbol keys, empty, is all it allocates beside the stack). "top": with `object`, the top is not a plain object of string keys; "deep": the
 * value nests past MAX_WALKED_DEPTH (whatever else it holds).
 */
function walk(root: unknown, object: boolean): "json" | "refused" | "top" | "deep" {
  if (object && (!isPlainObject(root) || symbolKeyed(root as object))) return "top";
  const values: unknown[] = [root];
  const depths: number[] = [0];
  // A refused value does not end the walk: a part too deep to walk may lie past it.
  let verdict: "json" | "refused" = "json";
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    switch (typeof v) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(v)) verdict = "refused";
        continue;
      case "object":
        if (v === null) continue;
        if (depth >= MAX_WALKED_DEPTH) return "deep";
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            values.push(v[i]);
            depths.push(depth + 1);
          }
        } else if (isPlainObject(v) && !symbolKeyed(v)) {
          for (const key in v) {
            if (!Object.hasOwn(v, key) || key === "__proto__") continue;
            values.push((v as Record<string, unknown>)[key]);
            depths.push(depth + 1);
          }
        } else verdict = "refused";
        continue;
      default:
        verdict = "refused";
    }
  }
  return verdict;
}

/**
 * Reports each value refused in `v` (at `path`, which it extends and restores), in document
 * order: a scalar, a hole, an object that is not plain or has a symbol key, whole. Called only
 * once walk has found one, and so never deeper than it walked.
 */
function refused(v: unknown, path: PropertyKey[], report: (v: unknown) => void): void {
  if (typeof v === "string" || typeof v === "boolean" || v === null) return;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) report(v);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      refused(v[i], path, report);
      path.pop();
    }
  } else if (typeof v === "object" && isPlainObject(v) && !symbolKeyed(v)) members(v, path, report);
  else report(v);
}

/** {@link refused} for each own value of a plain object, as zod's record reads them. */
function members(o: object, path: PropertyKey[], report: (v: unknown) => void): void {
  for (const key in o) {
    if (!Object.hasOwn(o, key) || key === "__proto__") continue;
    path.push(key);
    refused((o as Record<string, unknown>)[key], path, report);
    path.pop();
  }
}
