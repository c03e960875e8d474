// The warning "… is true when … is missing" on negative operators holds for the operator as
// decorated: `not:notEqual` and `someFact:notEqual` are false on a missing path, and a review
// found them warned about as true there.

import { expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { composeOperator } from "../../src/core/operators.ts";

const policyWith = (operator: string, value: unknown) => ({
  name: "p",
  version: "1",
  rules: [
    {
      name: "r",
      conditions: { all: [{ fact: "memory", path: "$.q", operator, value }] },
      event: { type: "wake" },
    },
  ],
});

const missingWarnings = (operator: string, value: unknown) => {
  const r = validatePolicy(policyWith(operator, value));
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return r.warnings.filter((w) => w.message.includes("is true when"));
};

test.each<[string, unknown]>([
  ["not:notEqual", 1],
  ["someFact:notEqual", 1],
  ["everyFact:notEqual", 1],
  ["not:notIn", [1]],
  ["someFact:notIn", [1]],
  ["everyFact:notIn", [1]],
])("%s is false on a missing path, and is not warned about as true there", (operator, value) => {
  expect(composeOperator(operator)!(undefined, value, 0)).toBe(false);
  expect(missingWarnings(operator, value)).toEqual([]);
});

test.each<[string, unknown]>([
  ["notEqual", 1],
  ["notIn", [1]],
  ["swap:notEqual", 1],
])("%s is true on a missing path, and is warned about, by its whole name", (operator, value) => {
  expect(composeOperator(operator)!(undefined, value, 0)).toBe(true);
  expect(missingWarnings(operator, value)).toEqual([
    { path: "$.rules[0].conditions.all[0].operator", message: `"${operator}" is true when $.q is missing from memory` },
  ]);
});

// `swap:in` looks for its value in the fact: on a missing path json-rules-engine calls indexOf
// on undefined, and the whole evaluation fails (an object without the path cannot be created,
// and facts posted to it are refused). A review found it passed without a word.
const throwWarnings = (operator: string, value: unknown, defaults?: object) => {
  const r = validatePolicy({ ...policyWith(operator, value), ...(defaults ? { defaults } : {}) });
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return r.warnings.filter((w) => w.message.includes("throws when"));
};

test.each<[string, unknown]>([
  ["swap:in", 5],
  ["swap:notIn", "a"],
  ["not:swap:in", 5],
])("%s throws on a missing path, and is warned about", (operator, value) => {
  expect(() => composeOperator(operator)!(undefined, value, 0)).toThrow();
  expect(throwWarnings(operator, value)).toEqual([
    {
      path: "$.rules[0].conditions.all[0].operator",
      message: `"${operator}" throws when $.q is missing from memory, and the evaluation fails: give it a default, or guard it with a condition of higher priority in the same all`,
    },
  ]);
});

test.each<[string, unknown]>([
  ["in", [1]],
  ["swap:contains", [1]],
  ["someFact:swap:in", 5],
])("%s does not throw on a missing path, and is not warned about so", (operator, value) => {
  expect(() => composeOperator(operator)!(undefined, value, 0)).not.toThrow();
  expect(throwWarnings(operator, value)).toEqual([]);
});

test("a default that fills the path leaves swap:in unwarned", () => {
  expect(throwWarnings("swap:in", 5, { q: [] })).toEqual([]);
});

// The same throw when the value names another fact at a path that is missing: `in` looks in
// the value whatever the condition's own fact holds.
const refWarnings = (operator: string, path: string, defaults?: object) => {
  const doc = policyWith(operator, { fact: "memory", path });
  const r = validatePolicy({ ...doc, ...(defaults ? { defaults } : {}) });
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return r.warnings.filter((w) => w.message.includes("throws when"));
};

test.each(["in", "notIn", "someValue:equal"])(
  "%s with a value naming a missing memory path is warned about",
  (operator) => {
    expect(() => composeOperator(operator)!(1, undefined, 0)).toThrow();
    expect(refWarnings(operator, "$.allowed")).toEqual([
      {
        path: "$.rules[0].conditions.all[0].value.path",
        message: `"${operator}" throws when $.allowed is missing from memory, and the evaluation fails: give it a default, or guard it with a condition of higher priority in the same all`,
      },
    ]);
  },
);

test.each(["equal", "swap:in", "someFact:in", "olderThan"])(
  "%s with a value naming a missing memory path does not always throw, and is not warned about so",
  (operator) => {
    expect(refWarnings(operator, "$.allowed")).toEqual([]);
  },
);

test("a default that fills the value's path leaves in unwarned", () => {
  expect(refWarnings("in", "$.allowed", { allowed: [] })).toEqual([]);
});
