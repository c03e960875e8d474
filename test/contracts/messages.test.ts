// Messages a policy author reads: JSON syntax errors with line and column, operators and event
// types named with what to use instead, warnings that name the fact they are about.

import { describe, expect, test } from "vitest";
import { closest, unknownOperatorMessage } from "../../src/contracts/messages.ts";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { parseJsonText } from "../../src/core/json.ts";

describe("JSON syntax errors in a rule file give line and column", () => {
  test.each([
    ['{"a":1,}', 1, 8, "Expected double-quoted property name"],
    ['{\n  "a": 1\n', 3, 1, "Expected ',' or '}' after property value"],
    // V8 names no position for these two: the offset is found by bisection.
    ['{\n  "a": tru\n}', 2, 11, "Unexpected token"],
    ['{\n  "a": 1,\n  "b": nul,\n  "c": 2\n}', 3, 11, "Unexpected token ','"],
    ["", 1, 1, "Unexpected end of JSON input"],
    // Whitespace alone: where the text ends, not where it begins.
    ["\n  \n\t", 3, 2, "Unexpected end of JSON input"],
    ['{"a":\n\n', 1, 6, "Unexpected end of JSON input"],
    ["[1,2]]", 1, 6, "Unexpected non-whitespace character after JSON"],
  ])("%j", (text, line, column, reason) => {
    const r = parseJsonText(text);
    expect(r.ok).toBe(false);
    const message = r.ok ? "" : r.problem.message;
    expect(message).toContain(`not valid JSON (line ${line}, column ${column}): ${reason}`);
    // Never V8's quote of the whole text.
    expect(message).not.toContain("is not valid JSON");
  });
});

describe("operators", () => {
  test("a typo gets a suggestion; a stranger gets none", () => {
    expect(closest("greaterThn", ["greaterThan", "lessThan"])).toBe("greaterThan");
    expect(closest("gt", ["in", "equal"])).toBeUndefined();
    expect(unknownOperatorMessage("lesThan")).toContain('unknown operator "lesThan" (did you mean "lessThan"?)');
    expect(unknownOperatorMessage("no:equal")).toContain('unknown decorator "no" in "no:equal" (did you mean "not"?)');
  });
});

describe("warnings name the fact they are about", () => {
  const policy = (fact: string) => ({
    name: "p",
    version: "1",
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact, path: "$.name", operator: "notEqual", value: "x" }] },
        event: { type: "wake" },
      },
    ],
  });

  test.each([
    ["memory", '"notEqual" is true when $.name is missing from memory'],
    ["trigger", '"notEqual" is true when $.name is missing from the trigger fact'],
  ])("%s", (fact, message) => {
    const v = validatePolicy(policy(fact));
    expect(v.valid && v.warnings).toEqual([{ path: "$.rules[0].conditions.all[0].operator", message }]);
  });
});
