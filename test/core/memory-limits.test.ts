// The limits on memory documents: forbidden keys and nesting depth (checkDocument), the size
// of initial memory (memoryProblems), and patches checked before they merge (mergeChecked).

import { describe, expect, test } from "vitest";
import {
  checkDocument,
  MAX_CHECKED_DEPTH,
  DEFAULT_LIMITS,
  MemoryLimitError,
  memoryProblems,
  mergeChecked,
  type MemoryLimits,
} from "../../src/core/memory-limits.ts";
import type { Json, JsonObject } from "../../src/core/types.ts";
import { deepFreeze } from "../helpers/records.ts";

const bytes = (value: Json) => Buffer.byteLength(JSON.stringify(value), "utf8");

describe("checkDocument", () => {
  const limits = (maxDepth: number): MemoryLimits => ({ ...DEFAULT_LIMITS, maxDepth });

  test.each<[string, Json, number, { path: string; message: string }[]]>([
    ["a clean document", { a: { b: [1, { c: "x" }] } }, 16, []],
    [
      "an own __proto__ key",
      JSON.parse('{"__proto__": {"polluted": true}}') as Json,
      16,
      [{ path: "$.__proto__", message: 'the key "__proto__" is not allowed' }],
    ],
    [
      "a nested constructor key",
      { a: { constructor: 1 } },
      16,
      [{ path: "$.a.constructor", message: 'the key "constructor" is not allowed' }],
    ],
    [
      "a prototype key in an array element",
      { a: [{ ok: 1 }, { prototype: {} }] },
      16,
      [{ path: "$.a[1].prototype", message: 'the key "prototype" is not allowed' }],
    ],
    [
      "every forbidden key",
      JSON.parse('{"constructor": 1, "b": {"__proto__": 2, "prototype": 3}}') as Json,
      16,
      [
        { path: "$.constructor", message: 'the key "constructor" is not allowed' },
        { path: "$.b.__proto__", message: 'the key "__proto__" is not allowed' },
        { path: "$.b.prototype", message: 'the key "prototype" is not allowed' },
      ],
    ],
    ["depth exactly at the limit", { a: { b: { c: 1 } } }, 3, []],
    [
      "objects one level too deep",
      { a: { b: { c: {} } } },
      3,
      [{ path: "$.a.b.c", message: "nesting deeper than 3 levels" }],
    ],
    ["arrays one level too deep", { a: [[[1]]] }, 3, [{ path: "$.a[0][0]", message: "nesting deeper than 3 levels" }]],
    ["scalars do not add depth", { a: { b: "deep string" } }, 2, []],
    [
      "forbidden keys are reported however deep",
      { a: { b: { constructor: 1 } } },
      16,
      [{ path: "$.a.b.constructor", message: 'the key "constructor" is not allowed' }],
    ],
  ])("%s", (_name, doc, maxDepth, expected) => {
    expect(checkDocument(doc, limits(maxDepth))).toEqual(expected);
  });

  test("the default depth limit is 16", () => {
    let doc: Json = 1;
    for (let i = 0; i < 16; i++) doc = { d: doc };
    expect(checkDocument(doc, DEFAULT_LIMITS)).toEqual([]);
    expect(checkDocument({ d: doc }, DEFAULT_LIMITS)).toHaveLength(1);
  });
});

describe("checkDocument: order and maxProblems", () => {
  // Problems in four subtrees, one per subtree, listed in document order.
  const doc: Json = {
    a: { b: { c: {} } },
    x: [[[1]]],
    m: [{ n: { o: {} } }, 1, [[[2]]]],
    p: { constructor: 1 },
  };
  const all = [
    { path: "$.a.b.c", message: "nesting deeper than 3 levels" },
    { path: "$.x[0][0]", message: "nesting deeper than 3 levels" },
    { path: "$.m[0].n", message: "nesting deeper than 3 levels" },
    { path: "$.m[2][0]", message: "nesting deeper than 3 levels" },
    { path: "$.p.constructor", message: 'the key "constructor" is not allowed' },
  ];

  test("problems come in document order", () => {
    expect(checkDocument(doc, { maxDepth: 3 })).toEqual(all);
  });

  test.each([1, 2, 4, 5, 50])("maxProblems %d returns the first ones, no more", (maxProblems) => {
    expect(checkDocument(doc, { maxDepth: 3, maxProblems })).toEqual(all.slice(0, maxProblems));
  });

  test("a forbidden key is reported where the walk reaches it, after problems earlier in the document", () => {
    expect(checkDocument({ a: { b: { c: {} } }, constructor: 1 }, { maxDepth: 3 })).toEqual([
      { path: "$.a.b.c", message: "nesting deeper than 3 levels" },
      { path: "$.constructor", message: 'the key "constructor" is not allowed' },
    ]);
    expect(checkDocument({ a: { b: { c: {} } }, constructor: 1 }, { maxDepth: 3, maxProblems: 1 })).toEqual([
      { path: "$.a.b.c", message: "nesting deeper than 3 levels" },
    ]);
  });

  test("maxProblems holds when one object has several forbidden keys", () => {
    const doc = JSON.parse('{"constructor": 1, "prototype": 2, "__proto__": 3}') as Json;
    expect(checkDocument(doc, { maxDepth: 16, maxProblems: 1 })).toEqual([
      { path: "$.constructor", message: 'the key "constructor" is not allowed' },
    ]);
    expect(checkDocument(doc, { maxDepth: 16 })).toHaveLength(3);
  });

  test("a 100,000-deep nested array is checked without a stack overflow", () => {
    let deep: Json = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(checkDocument(deep, { maxDepth: 16 })).toEqual([
      { path: `$${"[0]".repeat(16)}`, message: "nesting deeper than 16 levels" },
    ]);
    // The deepest limit the walk takes: it goes that far down, and reports further nesting.
    expect(checkDocument({ bad: deep, constructor: 1 }, { maxDepth: MAX_CHECKED_DEPTH })).toEqual([
      {
        path: `$.bad${"[0]".repeat(MAX_CHECKED_DEPTH - 1)}`,
        message: `nesting deeper than ${MAX_CHECKED_DEPTH} levels`,
      },
      { path: "$.constructor", message: 'the key "constructor" is not allowed' },
    ]);
    let shallow: Json = [];
    for (let i = 1; i < MAX_CHECKED_DEPTH; i++) shallow = [shallow];
    expect(checkDocument(shallow, { maxDepth: MAX_CHECKED_DEPTH })).toEqual([]);
    // Asked for no problems, it reports none.
    expect(checkDocument(deep, { maxDepth: 16, maxProblems: 0 })).toEqual([]);
    // A deeper limit is a programming error, not a document's.
    expect(() => checkDocument([], { maxDepth: MAX_CHECKED_DEPTH + 1 })).toThrow(RangeError);
  });

  test("scalars and null at the top are fine", () => {
    for (const value of [null, 1, "s", true]) expect(checkDocument(value, { maxDepth: 1 })).toEqual([]);
  });
});

describe("memoryProblems", () => {
  const small: MemoryLimits = { ...DEFAULT_LIMITS, maxMemoryBytes: 20, maxDepth: 3 };

  test("memory within the limits has no problems", () => {
    const memory = { a: { b: 1 } };
    expect(bytes(memory)).toBeLessThanOrEqual(20);
    expect(memoryProblems(memory, small)).toEqual([]);
  });

  test("memory exactly at the size limit is accepted; one byte over is not", () => {
    const at = { s: "x".repeat(20 - bytes({ s: "" })) };
    expect(bytes(at)).toBe(20);
    expect(memoryProblems(at, small)).toEqual([]);
    const over = { s: `${at.s}y` };
    expect(memoryProblems(over, small)).toEqual([{ path: "$", message: "memory is 21 bytes; the limit is 20" }]);
  });

  test("size is counted in UTF-8 bytes, not characters", () => {
    const memory = { s: "é".repeat(8) }; // 8 characters, 16 bytes
    expect(memoryProblems(memory, small)).toEqual([
      { path: "$", message: `memory is ${bytes(memory)} bytes; the limit is 20` },
    ]);
  });

  test("forbidden keys, depth and size are all reported, size last", () => {
    const memory = JSON.parse('{"__proto__": {"x": 1}, "deep": {"a": {"b": {}}}, "pad": "0123456789"}') as JsonObject;
    expect(memoryProblems(memory, small)).toEqual([
      { path: "$.__proto__", message: 'the key "__proto__" is not allowed' },
      { path: "$.deep.a.b", message: "nesting deeper than 3 levels" },
      { path: "$", message: `memory is ${bytes(memory)} bytes; the limit is 20` },
    ]);
  });
});

describe("mergeChecked", () => {
  const limits: MemoryLimits = { maxMemoryBytes: 40, maxPatchBytes: 20, maxDepth: 3 };

  /** The MemoryLimitError a call throws (the test fails if it throws nothing or something else). */
  function limitError(fn: () => unknown): MemoryLimitError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(MemoryLimitError);
      return e as MemoryLimitError;
    }
    throw new Error("expected a MemoryLimitError, nothing was thrown");
  }
  test("a patch too deep to serialize is a MemoryLimitError, not a stack overflow", () => {
    let deep: Json = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = limitError(() => mergeChecked({}, { a: deep }, DEFAULT_LIMITS));
    expect(error.problems).toEqual([{ path: `$.a${"[0]".repeat(15)}`, message: "nesting deeper than 16 levels" }]);
    expect(memoryProblems({ a: deep }, DEFAULT_LIMITS)).toHaveLength(1);
  });

  test("a patch within the limits merges like applyMergePatch", () => {
    const memory = deepFreeze({ q: { depth: 1 }, keep: true });
    const result = mergeChecked(memory, deepFreeze({ q: { depth: 2 } }), limits);
    expect(result).toEqual({ memory: { q: { depth: 2 }, keep: true }, changed: ["$.q.depth"] });
  });

  test("a patch over maxPatchBytes is refused before it merges", () => {
    const patch = { s: "0123456789abcdef" };
    const e = limitError(() => mergeChecked({}, patch, limits));
    expect(e.problems).toEqual([{ path: "$", message: `patch is ${bytes(patch)} bytes; the limit is 20` }]);
  });

  test("a patch whose result would be over maxMemoryBytes is refused; memory is untouched", () => {
    const memory: JsonObject = { a: "0123456789", b: "0123456789" };
    const before = structuredClone(memory);
    const patch = { c: "0123456789" };
    const after = { ...memory, ...patch };
    const e = limitError(() => mergeChecked(memory, patch, limits));
    expect(e.problems).toEqual([{ path: "$", message: `memory would be ${bytes(after)} bytes; the limit is 40` }]);
    expect(memory).toEqual(before);
  });

  test("a patch that shrinks memory already over the limit back under it is accepted", () => {
    const memory: JsonObject = { big: "0123456789012345678901234567890123456789" };
    expect(bytes(memory)).toBeGreaterThan(40);
    expect(mergeChecked(memory, { big: null }, limits)).toEqual({ memory: {}, changed: ["$.big"] });
  });

  test("forbidden keys and depth in the patch are refused, every problem named", () => {
    const patch = JSON.parse('{"constructor": 1, "a": {"b": {"c": {}}}}') as JsonObject;
    const e = limitError(() => mergeChecked({}, patch, limits));
    expect(e.problems).toEqual([
      { path: "$.constructor", message: 'the key "constructor" is not allowed' },
      { path: "$.a.b.c", message: "nesting deeper than 3 levels" },
      { path: "$", message: `patch is ${bytes(patch)} bytes; the limit is 20` },
    ]);
  });
});

describe("MemoryLimitError", () => {
  test("carries its problems and names each in its message", () => {
    const problems = [
      { path: "$.a", message: "one" },
      { path: "$", message: "two" },
    ];
    const e = new MemoryLimitError(problems);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("MemoryLimitError");
    expect(e.problems).toEqual(problems);
    expect(e.message).toBe("$.a: one; $: two");
  });
});
