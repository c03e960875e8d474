// A comparison json-rules-engine throws on is refused, and the refusal says when it throws. One
// whose value's first item holds the fact is evaluated without a throw (`someValue:swap:swap:in`
// with [[5], 5] holds for 5, and throws on 5 only for another fact): validation said
// "json-rules-engine throws whenever it evaluates this condition" of it all the same.

import { Engine } from "json-rules-engine";
import { expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";

const condition = (operator: string, value: unknown) => ({ fact: "memory", path: "$.a", operator, value });
const doc = (operator: string, value: unknown) => ({
  name: "p",
  version: "1",
  rules: [{ name: "r", conditions: { all: [condition(operator, value)] }, event: { type: "wake" } }],
});
const refusal = (operator: string, value: unknown) => {
  const v = validatePolicy(doc(operator, value));
  return v.valid ? null : v.errors;
};
const runs = async (operator: string, value: unknown, a: unknown) => {
  const engine = new Engine([{ conditions: { all: [condition(operator, value)] }, event: { type: "wake" } }] as never);
  return engine.run({ memory: { a } }).then(
    (r) => `fired ${r.events.length}`,
    () => "threw",
  );
};
const at = "$.rules[0].conditions.all[0].value";

test.each<[string, unknown, number, number]>([
  ["someValue:swap:swap:in", [[5], 5], 5, 1],
  ["everyValue:swap:swap:notIn", [[5], 5], 5, 1],
])(
  "%s with %j runs on a fact in its first item, throws on another, and is refused saying so",
  async (op, value, fine, other) => {
    expect(await runs(op, value, fine)).toMatch(/^fired/);
    expect(await runs(op, value, other)).toBe("threw");
    expect(refusal(op, value)).toEqual([
      {
        path: at,
        message: `"${op}" cannot look in or go through an item of this value: json-rules-engine throws when it evaluates this condition on a fact found in none of the items before it`,
      },
    ]);
  },
);

test.each<[string, unknown]>([
  ["someValue:swap:swap:in", [5]],
  ["swap:swap:in", 5],
  ["swap:swap:someValue:equal", 1],
])("%s with %j throws whatever the fact, and is refused saying whenever", async (op, value) => {
  for (const a of [5, 1, "a", [5], undefined]) expect(await runs(op, value, a)).toBe("threw");
  expect(refusal(op, value)).toEqual([
    {
      path: at,
      message: `"${op}" cannot look in or go through this value: json-rules-engine throws whenever it evaluates this condition`,
    },
  ]);
});
