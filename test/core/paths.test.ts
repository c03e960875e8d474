// The condition path grammar and its resolver. The resolver stands in for json-rules-engine's
// default (jsonpath-plus), so where both understand a path they must read the same value.

import { Almanac } from "json-rules-engine";
import { describe, expect, test } from "vitest";
import { formatPath, parsePath, readPath, resolvePath, type PathSegment } from "../../src/core/paths.ts";

describe("parsePath", () => {
  test.each<[string, PathSegment[]]>([
    ["$", []],
    ["$.a", ["a"]],
    ["$.a.b", ["a", "b"]],
    ["$.a[0].b", ["a", 0, "b"]],
    ["$.jobs[12]", ["jobs", 12]],
    ['$["odd key"]', ["odd key"]],
    ['$.a["b.c"][1]', ["a", "b.c", 1]],
    ['$["say \\"hi\\""]', ['say "hi"']],
    ["$.a-b._c$", ["a-b", "_c$"]],
    ["$[0]", [0]],
    // Digits that are not a number's own spelling stay the key they spell, as in jsonpath-plus.
    ["$.a[01]", ["a", "01"]],
    ["$.a[12345678901234567890]", ["a", "12345678901234567890"]],
  ])("%s -> %j", (path, segments) => {
    expect(parsePath(path)).toEqual(segments);
  });

  test.each([
    ["$..a", "recursive descent"],
    ["a.b", "no root"],
    ["$.", "empty name"],
    ["$[x]", "unquoted name in brackets"],
    ["$.a[", "unterminated bracket"],
    ["", "empty"],
    ["$.0a", "name starting with a digit"],
    ["$[-1]", "negative index"],
    ["$.a[*]", "wildcard"],
    ["$ .a", "space"],
    ["$['a']", "single quotes"],
  ])("%j is outside the grammar (%s)", (path) => {
    expect(parsePath(path)).toBeNull();
  });
});

describe("formatPath", () => {
  test.each<[PathSegment[], string]>([
    [[], "$"],
    [["a", "b"], "$.a.b"],
    [["a", 0, "b"], "$.a[0].b"],
    [["odd key"], '$["odd key"]'],
    [["0"], '$["0"]'],
    [['say "hi"'], '$["say \\"hi\\""]'],
    [["a-b", "$x"], "$.a-b.$x"],
  ])("%j -> %s, and back", (segments, text) => {
    expect(formatPath(segments)).toBe(text);
    expect(parsePath(text)).toEqual(segments);
  });
});

const doc = {
  a: { b: 1, n: null, zero: 0, empty: "" },
  list: [{ b: "first" }, { b: "second" }],
  obj: { "0": "zero-key", "odd key": 5, "01": "leading zero", "12345678901234567890": "twenty digits" },
  s: "abc",
};

describe("readPath", () => {
  test.each<[string, unknown]>([
    ["$", doc],
    ["$.a.b", 1],
    ["$.a.n", null],
    ["$.a.zero", 0],
    ["$.a.empty", ""],
    ["$.list[1].b", "second"],
    ["$.list[0]", { b: "first" }],
    ['$.obj["odd key"]', 5],
    // Missing steps.
    ["$.missing", undefined],
    ["$.a.missing.deeper", undefined],
    ["$.a.n.x", undefined],
    ["$.a.b.c", undefined],
    ["$.list[2]", undefined],
    ["$.list[2].b", undefined],
    // Arrays and objects: every step is a property name, as in jsonpath-plus.
    ["$.list.length", 2],
    ["$.obj[0]", "zero-key"],
    ['$.list["1"].b', "second"],
    ["$.list.b", undefined],
    ["$.a[0]", undefined],
    // An index step reads the key it spells: not the number's (1, or 12345678901234567000).
    ["$.obj[01]", "leading zero"],
    ["$.obj[00]", undefined],
    ["$.list[01]", undefined],
    ["$.obj[12345678901234567890]", "twenty digits"],
    // Strings have a length and characters; empty strings and numbers have nothing.
    ["$.s.length", 3],
    ["$.s[1]", "b"],
    ["$.a.empty.length", undefined],
    ["$.a.b.toFixed", undefined],
    // Never the prototype chain.
    ["$.constructor", undefined],
    ["$.a.toString", undefined],
    ["$.a.__proto__", undefined],
    ["$.list.map", undefined],
    ["$.s.toUpperCase", undefined],
  ])("%s", async (path, expected) => {
    const segments = parsePath(path);
    expect(segments).not.toBeNull();
    expect(readPath(doc, segments!)).toEqual(expected);
    expect(resolvePath(doc, path)).toEqual(expected);
    // The reference: a json-rules-engine Almanac with its default path resolver.
    const almanac = new Almanac();
    almanac.addRuntimeFact("doc", doc);
    expect(await almanac.factValue("doc", {}, path)).toEqual(expected);
  });

  test("$.constructor on {} is undefined, not Object", () => {
    expect(readPath({}, ["constructor"])).toBeUndefined();
    expect(resolvePath({}, "$.constructor")).toBeUndefined();
  });

  test("an own __proto__ key (from JSON.parse) is read like any other key", () => {
    const parsed = JSON.parse('{"__proto__": {"x": 1}}') as object;
    expect(resolvePath(parsed, "$.__proto__.x")).toBe(1);
    expect(resolvePath({}, "$.__proto__")).toBeUndefined();
  });

  test.each([null, 5, true, undefined])("reading into %j yields undefined", (value) => {
    expect(readPath(value, ["a"])).toBeUndefined();
    expect(readPath(value, [])).toBe(value);
  });

  test("a path outside the grammar resolves to undefined", () => {
    expect(resolvePath({ a: { b: 1 } }, "$..b")).toBeUndefined();
    expect(resolvePath({ a: 1 }, "a")).toBeUndefined();
  });
});
