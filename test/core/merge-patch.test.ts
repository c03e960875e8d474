// JSON Merge Patch (RFC 7396) with the paths a patch changes, and policy defaults under memory.

import { describe, expect, test } from "vitest";
import { applyMergePatch, withDefaults } from "../../src/core/merge-patch.ts";
import type { JsonObject } from "../../src/core/types.ts";
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

  test("the copy takes the memory's own keys only, as a spread would", () => {
    const memory = Object.assign(Object.create({ inherited: 1 }) as JsonObject, { a: 1 });
    const result = applyMergePatch(memory, { b: 2 });
    expect(Object.keys(result.memory)).toEqual(["a", "b"]);
    expect("inherited" in result.memory).toBe(false);
  });

  test("a `__proto__` key parsed from JSON stays a data key in the copy", () => {
    const memory = JSON.parse('{"__proto__": {"polluted": true}, "keep": 1}') as JsonObject;
    const result = applyMergePatch(memory, { a: 1 });
    expect(Object.getPrototypeOf(result.memory)).toBe(Object.prototype);
    expect(Object.keys(result.memory)).toEqual(["__proto__", "keep", "a"]);
    expect(Object.getOwnPropertyDescriptor(result.memory, "__proto__")?.value).toEqual({ polluted: true });
    expect((result.memory as { polluted?: unknown }).polluted).toBeUndefined();
  });

  test("a `__proto__` key in the patch is set as data, at the top and nested, never as the prototype", () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "q": {"__proto__": 7}}') as JsonObject;
    const result = applyMergePatch({ q: { depth: 1 } }, patch);
    expect(Object.getPrototypeOf(result.memory)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result.memory, "__proto__")?.value).toEqual({ polluted: true });
    const q = result.memory.q as JsonObject;
    expect(Object.getPrototypeOf(q)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(q, "__proto__")?.value).toBe(7);
    expect(result.changed).toEqual(["$.__proto__.polluted", "$.q.__proto__"]);
  });
});

describe("withDefaults", () => {
  test("a `__proto__` key in memory stays data and takes no defaults from the prototype", () => {
    const memory = JSON.parse('{"__proto__": {"a": 1}}') as JsonObject;
    const out = withDefaults({ queue: { depth: 0 } }, memory);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["queue", "__proto__"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toEqual({ a: 1 });
  });

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
