// JSON Merge Patch (RFC 7396), the paths a patch changes, and the limits on memory documents.

import { describe, expect, test } from "vitest";
import { jsonBytes, jsonEqual } from "../../src/core/json.ts";
import { checkDocument, DEFAULT_LIMITS, type MemoryLimits } from "../../src/core/memory-limits.ts";
import { applyMergePatch, withDefaults } from "../../src/core/merge-patch.ts";
import type { Json, JsonObject } from "../../src/core/types.ts";
import { deepFreeze } from "../helpers/records.ts";

describe("applyMergePatch", () => {
  // RFC 7396 Appendix A, the rows where target and patch are objects: memory is always an
  // object and a patch must be one (the rows with an array, null or string target or patch
  // are outside that domain). The last column is what Vigil reports as changed.
  test.each<[JsonObject, JsonObject, JsonObject, string[]]>([
    [{ a: "b" }, { a: "c" }, { a: "c" }, ["$.a"]],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }, ["$.b"]],
    [{ a: "b" }, { a: null }, {}, ["$.a"]],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }, ["$.a"]],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }, ["$.a"]],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }, ["$.a"]],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }, ["$.a.b"]],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }, ["$.a"]],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }, ["$.a"]],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }, ["$.a.bb"]],
  ])("RFC 7396 A: %j + %j = %j", (target, patch, expected, changed) => {
    const result = applyMergePatch(deepFreeze(target), deepFreeze(patch));
    expect(result.memory).toEqual(expected);
    expect(result.changed).toEqual(changed);
  });

  test.each<[string, JsonObject, JsonObject, JsonObject, string[]]>([
    ["same scalar", { a: 1 }, { a: 1 }, { a: 1 }, []],
    ["same array", { a: [1, 2] }, { a: [1, 2] }, { a: [1, 2] }, []],
    ["same nested object", { q: { d: 1 } }, { q: { d: 1 } }, { q: { d: 1 } }, []],
    ["removing a missing key", { a: 1 }, { b: null }, { a: 1 }, []],
    [
      "nested leaf",
      { queue: { depth: 0, name: "q" } },
      { queue: { depth: 3 } },
      { queue: { depth: 3, name: "q" } },
      ["$.queue.depth"],
    ],
    ["two leaves", { a: 1, b: { c: 2 } }, { a: 2, b: { c: 3 } }, { a: 2, b: { c: 3 } }, ["$.a", "$.b.c"]],
    [
      "new subtree lists its leaves",
      {},
      { jobs: { inflight: 1, done: 0 } },
      { jobs: { inflight: 1, done: 0 } },
      ["$.jobs.inflight", "$.jobs.done"],
    ],
    ["new empty object", {}, { a: {} }, { a: {} }, ["$.a"]],
    ["scalar replaced by an object", { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }, ["$.a"]],
    ["object replaced by a scalar", { a: { b: 1 } }, { a: 2 }, { a: 2 }, ["$.a"]],
    ["null removes a nested key", { a: { b: 1 } }, { a: { b: null } }, { a: {} }, ["$.a.b"]],
    ["odd key", {}, { "odd key": 1 }, { "odd key": 1 }, ['$["odd key"]']],
    ["array element change is a change of the array", { a: [1, 2] }, { a: [1, 3] }, { a: [1, 3] }, ["$.a"]],
  ])("%s", (_name, target, patch, expected, changed) => {
    const result = applyMergePatch(deepFreeze(target), deepFreeze(patch));
    expect(result.memory).toEqual(expected);
    expect(result.changed).toEqual(changed);
  });

  test("does not mutate its inputs; untouched subtrees keep their identity", () => {
    const memory: JsonObject = { keep: { deep: [1, 2] }, change: { x: 1, y: 2 } };
    const patch: JsonObject = { change: { x: 5, z: null } };
    const memoryBefore = structuredClone(memory);
    const patchBefore = structuredClone(patch);
    const result = applyMergePatch(memory, patch);
    expect(memory).toEqual(memoryBefore);
    expect(patch).toEqual(patchBefore);
    expect(result.memory).toEqual({ keep: { deep: [1, 2] }, change: { x: 5, y: 2 } });
    expect(result.memory).not.toBe(memory);
    expect(result.memory.keep).toBe(memory.keep);
    expect(result.memory.change).not.toBe(memory.change);
  });

  test("a patched-in object is a copy, not the patch's own object", () => {
    const patch: JsonObject = { a: { b: 1 } };
    const result = applyMergePatch({}, patch);
    expect(result.memory.a).toEqual({ b: 1 });
    expect(result.memory.a).not.toBe(patch.a);
  });
});

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

describe("withDefaults", () => {
  test.each<[string, JsonObject, JsonObject, JsonObject]>([
    [
      "defaults fill missing paths",
      { queue: { depth: 0 }, jobs: { inflight: 0 } },
      { queue: { name: "q" } },
      { queue: { depth: 0, name: "q" }, jobs: { inflight: 0 } },
    ],
    ["memory wins", { queue: { depth: 0 } }, { queue: { depth: 5 } }, { queue: { depth: 5 } }],
    ["arrays replace", { tags: ["a", "b"] }, { tags: ["c"] }, { tags: ["c"] }],
    ["a scalar replaces an object", { a: { b: 1 } }, { a: 2 }, { a: 2 }],
    ["an object replaces a scalar", { a: 2 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ["null in memory wins", { a: 1 }, { a: null }, { a: null }],
    ["no defaults", {}, { a: 1 }, { a: 1 }],
    ["empty memory", { a: { b: [1] } }, {}, { a: { b: [1] } }],
    ["deep merge", { a: { b: { c: 1, d: 2 } } }, { a: { b: { d: 3 } } }, { a: { b: { c: 1, d: 3 } } }],
  ])("%s", (_name, defaults, memory, expected) => {
    expect(withDefaults(deepFreeze(defaults), deepFreeze(memory))).toEqual(expected);
  });
});

describe("jsonEqual", () => {
  test.each<[Json, Json, boolean]>([
    [1, 1, true],
    [1, "1", false],
    [0, false, false],
    ["", null, false],
    [null, null, true],
    [null, {}, false],
    [{}, null, false],
    [[], {}, false],
    [{}, [], false],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1, 2], [1, 2, 3], false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1, c: 2 }, false],
    [{ a: [{ b: null }] }, { a: [{ b: null }] }, true],
    [{ a: [{ b: null }] }, { a: [{ b: 0 }] }, false],
  ])("%j vs %j -> %s", (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});

describe("jsonBytes", () => {
  test.each<[Json, number]>([
    [{}, 2],
    [{ a: "é" }, 10],
    [[1, 2], 5],
    [null, 4],
  ])("%j is %d bytes", (value, bytes) => {
    expect(jsonBytes(value)).toBe(bytes);
  });
});
