import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { duplicateKeyProblems } from "../../src/core/duplicate-keys.ts";

const paths = (text: string) => duplicateKeyProblems(text).map((p) => p.path);

describe("duplicateKeyProblems", () => {
  test("names each key written twice in one object, at its path", () => {
    expect(paths('{"rules": [], "name": "p", "rules": [1]}')).toEqual(["$.rules"]);
    expect(paths('{"steps": [{"facts": {}, "expect": {"outcome": "wake"}, "expect": {}}]}')).toEqual([
      "$.steps[0].expect",
    ]);
    expect(paths('{"a": {"x": 1, "y": {"x": 2}}, "b": [{"k": 1}, {"k": 2, "k": 3}]}')).toEqual(["$.b[1].k"]);
    expect(duplicateKeyProblems('{"a": 1, "a": 2}')[0]!.message).toContain("JSON keeps only the last");
  });

  test("reads keys as JSON does: escapes are the key they spell, and strings as values are not keys", () => {
    expect(paths('{"a": 1, "\\u0061": 2}')).toEqual(["$.a"]);
    expect(paths('{"a\\"": 1, "a": 2, "v": "a", "w": ["a", {"\\\\": 1, "\\\\": 2}]}')).toEqual(['$.w[1]["\\\\"]']);
    expect(paths('{"a": "{\\"a\\": 1, \\"a\\": 2}", "b": "]}", "c": 1}')).toEqual([]);
    expect(paths('[{"a": 1}, {"a": 1}]')).toEqual([]);
  });

  test("finds nothing in any text JSON.stringify writes, and the repeat made by writing one key again", () => {
    const key = fc.string({ maxLength: 4 });
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(key, tie("value"), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), value, (doc, extra) => {
        const text = JSON.stringify(doc);
        expect(duplicateKeyProblems(text)).toEqual([]);
        const first = Object.keys(doc)[0]!;
        const repeated = `${text.slice(0, -1)},${JSON.stringify(first)}:${JSON.stringify(extra)}}`;
        expect(duplicateKeyProblems(repeated).map((p) => p.path)).toEqual(
          paths(`{${JSON.stringify(first)}: 1, ${JSON.stringify(first)}: 2}`),
        );
      }),
      { numRuns: 300, seed: 4242 },
    );
  });
});
