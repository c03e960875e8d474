// A value that is missing where a union is expected (a condition's `value`, which takes any JSON
// value) is reported as missing with every form it may take, not with the first branch's form
// alone: "expected a string" sent an author to write `"value": "0"`, which makes
// `greaterThan` coerce.

import { expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";

test("a condition without a value: required, and any JSON value will do", () => {
  const v = validatePolicy({
    name: "p",
    version: "1",
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan" }] },
        event: { type: "wake" },
      },
    ],
  });
  expect(v).toEqual({
    valid: false,
    errors: [
      {
        path: "$.rules[0].conditions.all[0].value",
        message: "required: expected a string, a number, true or false, null, an array or an object",
      },
    ],
  });
});

test("a missing event or conditions: required, once", () => {
  const rule = (r: object) => validatePolicy({ name: "p", version: "1", rules: [{ name: "r", ...r }] });
  expect(rule({ conditions: { all: [] } })).toEqual({
    valid: false,
    errors: [{ path: "$.rules[0].event", message: "required: expected an object" }],
  });
  expect(rule({ event: { type: "wake" } })).toEqual({
    valid: false,
    errors: [{ path: "$.rules[0].conditions", message: "required: expected an object" }],
  });
});

test("a value of the wrong shape still gets the closest branch's complaint", () => {
  const v = validatePolicy({
    name: "p",
    version: "1",
    rules: [{ name: "r", conditions: { all: [] }, event: { type: "schedule", params: { name: "t" } } }],
  });
  expect(v).toEqual({
    valid: false,
    errors: [{ path: "$.rules[0].event.params", message: "give exactly one of after or at" }],
  });
});
