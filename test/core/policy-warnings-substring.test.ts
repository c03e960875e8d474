// `in` and `notIn` look in their value, and a string there is a substring test: validation warns
// of it. Under swaps they may look in the value still (two swaps put it back: `swap:swap:in`),
// and under list decorators in each item of it, one list deeper for each that goes through the
// value; a review found `swap:swap:in` with "abc" passed without the warning `in` gets.

import { expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { composeOperator } from "../../src/core/operators.ts";

const substringWarnings = (operator: string, value: unknown) => {
  const r = validatePolicy({
    name: "p",
    version: "1",
    defaults: { q: "x" },
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact: "memory", path: "$.q", operator, value }] },
        event: { type: "wake" },
      },
    ],
  });
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return r.warnings.filter((w) => w.message.includes("substring test"));
};

const at = "$.rules[0].conditions.all[0].value";

test.each<[string, unknown, string]>([
  ["swap:swap:in", "abc", at],
  ["swap:not:swap:in", "abc", at],
  ["not:swap:swap:notIn", "abc", at],
  ["someValue:swap:swap:in", [["x"], "abc"], `${at}[1]`],
  ["swap:swap:someValue:in", ["abc"], `${at}[0]`],
  // Behind one swap someFact goes through the value, and a second swap looks in its items.
  ["swap:someFact:swap:in", ["abc"], `${at}[0]`],
])("%s with %j holds for a substring, and is warned about at its string", (operator, value, path) => {
  // "b" is in no list of the value, only inside its string: a substring test finds it (true,
  // unless not and notIn turn it an odd number of times).
  const negations = operator.split(":").filter((part) => part === "not" || part === "notIn").length;
  expect(composeOperator(operator)!("b", value, 0)).toBe(negations % 2 === 0);
  const [warning, ...more] = substringWarnings(operator, value);
  expect(more).toEqual([]);
  expect(warning?.path).toBe(path);
  expect(warning?.message).toMatch(new RegExp(`^"${operator}" (with a string value|looks in each item)`));
});

test.each<[string, unknown]>([
  // One swap looks in the fact: the value is what is looked for.
  ["swap:in", "abc"],
  ["swap:swap:swap:in", "abc"],
  // someValue behind one swap goes through the fact; the second swap looks in the value, a list.
  ["swap:someValue:swap:in", ["abc"]],
  ["swap:swap:in", ["abc"]],
])("%s with %j is no substring test of the value, and is not warned about so", (operator, value) => {
  expect(substringWarnings(operator, value)).toEqual([]);
});
