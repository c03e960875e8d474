// parsePath is total: whatever text a policy or a request gives, it returns segments or null,
// and never throws (a throw inside a zod refinement was a 500, and a crash on hot reload).

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parsePath, resolvePath } from "../../src/core/paths.ts";

describe("parsePath is total", () => {
  test.each(['$["\\x"]', '$["\\u12"]', '$["\\u12zz"]', '$.a["\\q"][0]', '$["\\'])("%j is null", (path) => {
    expect(parsePath(path)).toBeNull();
    expect(resolvePath({ a: 1 }, path)).toBeUndefined();
  });

  test("any text inside a quoted segment is either a key or null, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("\\", '"', "u", "x", "0", "a", "n", "]", "[") }), (inner) => {
        const path = `$["${inner}"]`;
        const segments = parsePath(path); // never throws
        // Where the text is one JSON string, the segment is what JSON reads (a `"][""` inside
        // makes two segments, which JSON cannot read as one string).
        let asJson: unknown;
        try {
          asJson = JSON.parse(`"${inner}"`);
        } catch {
          asJson = undefined;
        }
        if (asJson !== undefined) expect(segments).toEqual([asJson]);
      }),
      { numRuns: 2000 },
    );
  });

  test("valid escapes still read as JSON reads them", () => {
    expect(parsePath('$["a\\u0041\\n\\"b"]')).toEqual(['aA\n"b']);
  });
});
