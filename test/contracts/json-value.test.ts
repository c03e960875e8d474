// The project's schemas of any JSON value (contracts/json.ts) against zod's own: they take and
// refuse the same values, in the same words (as the API words them, zodProblems), publish the
// same JSON Schema, and check a value taken without making a single error (zod's union made four
// for every array and object it read: 0.5 s of event loop for a 1 MiB body of `[]` items).

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { jsonObject, jsonRecord, jsonValue, MAX_WALKED_DEPTH } from "../../src/contracts/json.ts";
import { zodProblems } from "../../src/contracts/problems.ts";

/** An object with `entries` as own enumerable properties: `__proto__` too, as JSON.parse makes it. */
function own(entries: [PropertyKey, unknown][], proto: object | null = Object.prototype): object {
  const o = Object.create(proto) as object;
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true });
  return o;
}

class Point {
  x = 1;
}

const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "0", "7", "4294967295", "-1"),
);
const leaf = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null)) },
  // Every double: NaN, ±Infinity and -0 among them.
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN, -0) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      undefined,
      1n,
      Symbol("s"),
      () => 1,
      new Date(0),
      new Point(),
      new Map(),
      Object.create(null) as object,
      own([[Symbol("k"), 1]]),
      own([["a", 1]], { inherited: Infinity }),
      Object(1) as object,
    ),
  },
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
  array: fc.oneof(fc.array(tie("value"), { maxLength: 5 }), fc.sparseArray(tie("value"), { maxLength: 5 })),
  object: fc
    .tuple(fc.array(fc.tuple(key, tie("value")), { maxLength: 5 }), fc.boolean())
    .map(([entries, nullProto]) => own(entries, nullProto ? null : Object.prototype)),
}));

/** What the API says of a value each schema refuses, or "taken". */
const verdict = (schema: z.ZodType, v: unknown) => {
  const r = schema.safeParse(v);
  if (r.success) return "taken";
  try {
    return zodProblems(r.error);
  } catch (e) {
    // A symbol key has no path a problem can name (it is never in JSON): both refuse it, unworded.
    if (!String(e).includes("Symbol")) throw e;
    return "refused: a symbol key";
  }
};

describe("the same verdict and words as zod's schema", () => {
  test("any JSON value: z.json()", () => {
    const ours = jsonValue();
    const zods = z.json();
    fc.assert(
      fc.property(value, (v) => {
        expect(verdict(ours, v)).toEqual(verdict(zods, v));
      }),
      { numRuns: 1500, seed: 42 },
    );
  });

  test("a JSON object: z.record(z.string(), z.json()), with its words for a top that is not one", () => {
    const params = { error: "a JSON object, please" };
    const pairs: [z.ZodType, z.ZodType][] = [
      [jsonObject, z.record(z.string(), z.json())],
      [jsonRecord(params), z.record(z.string(), z.json(), params)],
      [z.object({ facts: jsonObject.optional() }), z.object({ facts: z.record(z.string(), z.json()).optional() })],
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          value,
          fc.tuple(key, value).map((e) => own([e])),
        ),
        (v) => {
          for (const [ours, zods] of pairs) {
            expect(verdict(ours, v)).toEqual(verdict(zods, v));
            expect(verdict(ours, { facts: v })).toEqual(verdict(zods, { facts: v }));
          }
        },
      ),
      { numRuns: 800, seed: 42 },
    );
  });

  test.each<[string, unknown]>([
    ["Infinity at depth", { a: [1, { b: [2, -Infinity] }], c: "x" }],
    ["NaN", [NaN]],
    ["a hole", Object.assign([], { 0: 1, 2: 3, length: 3 })],
    ["undefined", { a: undefined }],
    ["a function", { f: () => 1 }],
    ["a Date", { d: new Date(0) }],
    ["a symbol key", { a: own([[Symbol("k"), Infinity]]) }],
    ["an own __proto__ key is passed over, whatever it holds", JSON.parse('{"a":{"__proto__":{"b":1e999}}}')],
    ["-0", { z: -0 }],
    ["deeper than the walk", JSON.parse(`${"[".repeat(MAX_WALKED_DEPTH + 5)}1e999${"]".repeat(MAX_WALKED_DEPTH + 5)}`)],
    [
      "deeper than the walk, and valid",
      JSON.parse(`${"[".repeat(MAX_WALKED_DEPTH + 5)}${"]".repeat(MAX_WALKED_DEPTH + 5)}`),
    ],
  ])("%s", (_, v) => {
    expect(verdict(jsonValue(), v)).toEqual(verdict(z.json(), v));
    expect(verdict(jsonObject, { v })).toEqual(verdict(z.record(z.string(), z.json()), { v }));
  });

  test("a value that refers to itself is taken, as zod takes it, and refused for what it holds", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(verdict(jsonValue(), loop)).toBe("taken");
    expect(verdict(jsonObject, loop)).toBe("taken");
    const bad: unknown[] = [Infinity];
    bad.push(bad);
    expect(verdict(jsonValue(), bad)).toEqual(verdict(z.json(), bad));
  });

  test("a too-large number keeps the advice to send a string", () => {
    expect(verdict(jsonObject, { a: { b: [1, Infinity] } })).toEqual([
      {
        path: "$.a.b[1]",
        message: "the number is too large to store (it would become null): send a smaller one, or a string",
      },
    ]);
  });
});

test("the same JSON Schema as zod's, whatever wraps it and whatever the target", () => {
  const params = { error: "a JSON object, please" };
  const pairs: [z.ZodType, z.ZodType][] = [
    [jsonValue(), z.json()],
    [jsonValue().describe("any"), z.json().describe("any")],
    [jsonObject, z.record(z.string(), z.json())],
    [jsonObject.optional().describe("facts"), z.record(z.string(), z.json()).optional().describe("facts")],
    [jsonObject.default({}), z.record(z.string(), z.json()).default({})],
    [jsonRecord(params).describe("data"), z.record(z.string(), z.json(), params).describe("data")],
    [
      z.object({ a: jsonObject, b: jsonValue().describe("b"), c: z.array(jsonValue()) }).meta({ id: "Thing" }),
      z
        .object({ a: z.record(z.string(), z.json()), b: z.json().describe("b"), c: z.array(z.json()) })
        .meta({ id: "Thing" }),
    ],
  ];
  for (const [ours, zods] of pairs)
    for (const io of ["input", "output"] as const)
      for (const target of ["draft-2020-12", "draft-07", "openapi-3.0"] as const) {
        const options = { io, target, unrepresentable: "any" } as const;
        expect(z.toJSONSchema(ours, options)).toEqual(z.toJSONSchema(zods, options));
      }
});

describe("cost: a value taken makes no error", () => {
  /**
   * Counts how often zod runs the record's schema of a JSON value (zod's own runs it for every
   * array and object in the value, each time making an error for each scalar branch of its
   * union that fails), and the union that words a refused value.
   */
  function counting(schema: z.ZodType) {
    const def = schema._zod.def as unknown as { valueType: z.ZodType; union?: z.ZodType };
    const count = { value: 0, union: 0 };
    const spy = (which: keyof typeof count, internals: z.core.$ZodTypeInternals | undefined) => {
      if (internals === undefined) return;
      const run = internals.run;
      internals.run = (payload, ctx) => {
        count[which]++;
        return run(payload, ctx);
      };
    };
    spy("value", def.valueType._zod);
    spy("union", def.union?._zod);
    return count;
  }

  test("340,000 `[]` items, and 70,000 small objects: no schema but the walk runs", () => {
    const schema = jsonRecord();
    const count = counting(schema);
    const items = Array.from({ length: 340_000 }, () => []);
    const objects = Array.from({ length: 70_000 }, (_, i) => ({ a: i, b: "x", c: [true, null] }));
    expect(schema.safeParse({ items, objects }).success).toBe(true);
    expect(count).toEqual({ value: 0, union: 0 });
  });

  test("a refused value is worded alone: one run of the union for each, none for the rest", () => {
    const schema = jsonRecord();
    const count = counting(schema);
    const items: unknown[] = Array.from({ length: 100_000 }, () => [{}]);
    items[10] = Infinity;
    items[99_999] = [NaN];
    const r = schema.safeParse({ items });
    expect(r.success).toBe(false);
    expect(zodProblems(r.error!).map((p) => p.path)).toEqual(["$.items[10]", "$.items[99999][0]"]);
    expect(count).toEqual({ value: 0, union: 2 });
  });
});
