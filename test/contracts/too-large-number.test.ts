// A number JSON parses as Infinity (1e400) where any JSON value is taken is refused for its
// size, with the advice to send a string, not with the JSON union's first branch ("expected a
// string"). Where only a number or no number is taken, zod's plain words stand: advising a
// string there would be wrong.

import { expect, test } from "vitest";
import { z } from "zod";
import { zodProblems } from "../../src/contracts/problems.ts";

const problems = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error("expected the value to be refused");
  return zodProblems(result.error);
};

const ADVICE = "the number is too large to store (it would become null): send a smaller one, or a string";

test("any JSON value: the size is the problem, at the number's own path", () => {
  expect(problems(z.json(), Infinity)).toEqual([{ path: "$", message: ADVICE }]);
  expect(problems(z.record(z.string(), z.json()), { a: { b: [1, -Infinity] } })).toEqual([
    { path: "$.a.b[1]", message: ADVICE },
  ]);
});

test("only a number taken, or no number, or no string: zod's plain words, no advice to send a string", () => {
  expect(problems(z.number(), Infinity)).toEqual([
    { path: "$", message: "expected a number, got a number too large to represent" },
  ]);
  expect(problems(z.string(), Infinity)).toEqual([
    { path: "$", message: "expected a string, got a number too large to represent" },
  ]);
  expect(problems(z.union([z.number(), z.boolean()]), Infinity)).toEqual([
    { path: "$", message: "expected a number, got a number too large to represent" },
  ]);
});

test("other values refused by the JSON union keep the closest branch's words", () => {
  expect(problems(z.json(), undefined)[0]!.message).toMatch(/^required: expected a string, a number/);
  expect(problems(z.json(), () => 1)).toEqual([{ path: "$", message: "expected a string, got function" }]);
});
