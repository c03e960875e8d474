// JSON values as plain data: structural equality, canonical text and serialized size.

import { describe, expect, test } from "vitest";
import { canonicalJson, describeJson, isPlainObject, jsonBytes, jsonEqual, jsonText } from "../../src/core/json.ts";
import type { Json } from "../../src/core/types.ts";

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

describe("canonicalJson", () => {
  test.each<[string, unknown, string]>([
    ["a scalar", 1.5, "1.5"],
    ["a string is escaped as JSON", 'a "q"\n', JSON.stringify('a "q"\n')],
    ["null", null, "null"],
    ["an empty object", {}, "{}"],
    ["keys sorted", { b: 1, a: 2 }, '{"a":2,"b":1}'],
    [
      "keys sorted at every level",
      { z: { y: 1, x: [{ d: 1, c: 2 }] }, a: true },
      '{"a":true,"z":{"x":[{"c":2,"d":1}],"y":1}}',
    ],
    ["array order kept", [3, 1, 2], "[3,1,2]"],
    ["odd keys quoted", { "a b": 1, "": 2 }, '{"":2,"a b":1}'],
  ])("%s", (_name, value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  test("equal documents give equal text whatever their key order; the text parses back to them", () => {
    const a: Json = { queue: { depth: 3, name: "q" }, tags: ["x", "y"], n: null };
    const b: Json = { tags: ["x", "y"], n: null, queue: { name: "q", depth: 3 } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(jsonEqual(JSON.parse(canonicalJson(a)) as Json, a)).toBe(true);
  });

  test("different documents give different text", () => {
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: "1" }));
    expect(canonicalJson({ a: {} })).not.toBe(canonicalJson({ a: [] }));
  });
});

describe("isPlainObject", () => {
  test.each<[unknown, boolean]>([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ["{}", false],
    [1, false],
  ])("%j -> %s", (value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});

describe("jsonText", () => {
  /** A document that counts how often it is serialized. */
  function counted(): { doc: Json; serialized: () => number } {
    let n = 0;
    const doc = { toJSON: () => (n++, { a: 1 }) } as unknown as Json;
    return { doc, serialized: () => n };
  }

  test("serializes a document once while it is recent", () => {
    const { doc, serialized } = counted();
    expect(jsonText(doc)).toBe('{"a":1}');
    expect(jsonText(doc)).toBe('{"a":1}');
    expect(serialized()).toBe(1);
  });

  test("forgets a document after two generations of others, and serializes it again", () => {
    const { doc, serialized } = counted();
    jsonText(doc);
    for (let i = 0; i < 20_000; i++) jsonText({ i });
    expect(jsonText(doc)).toBe('{"a":1}');
    expect(serialized()).toBe(2);
  });
});

describe("describeJson", () => {
  // Zod's messages quote the value they got: NaN (a setting that is no number) is not "too large".
  test.each<[unknown, string]>([
    [Number.NaN, "not a number"],
    [Number.POSITIVE_INFINITY, "a number too large to represent"],
    [12, "the number 12"],
    ["x", 'the string "x"'],
    [[1], "an array"],
  ])("%s is %s", (value, words) => {
    expect(describeJson(value)).toBe(words);
  });
});
