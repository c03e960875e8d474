// docs/policy-authors.md's "Limits on a policy" table is what an author reads before a file is
// refused: each limit it gives is the one validation holds a policy to.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import {
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  MAX_OPERATOR_DECORATORS,
  MAX_OPERATOR_LENGTH,
  MAX_POLICY_CHARS,
  MAX_POLICY_DEPTH,
} from "../../src/contracts/policy-budget.ts";
import { MAX_SCHEDULES } from "../../src/contracts/policy.ts";
import { MAX_POLICY_TEXT } from "../../src/governor/policy-registry.ts";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";

const DOC = readFileSync("docs/policy-authors.md", "utf8");
const TABLE = DOC.slice(DOC.indexOf("## Limits on a policy"), DOC.indexOf("## Shipping a policy"));
/** The limit column of the row whose first cell begins with `what`. */
const limitOf = (what: string): string =>
  TABLE.split("\n")
    .find((line) => line.startsWith(`| ${what}`))
    ?.split("|")[2]
    ?.trim() ?? "";
const count = (n: number) => n.toLocaleString("en-US");

test.each([
  ["the document, as compact JSON", `${count(MAX_POLICY_CHARS)} characters`],
  ["a policy file, read at all", `${count(MAX_POLICY_TEXT)} bytes`],
  ["nesting of objects and arrays", count(MAX_POLICY_DEPTH)],
  ["conditions once shared", count(MAX_CONDITION_NODES)],
  ["nesting of conditions once expanded", count(MAX_CONDITION_DEPTH)],
  ["decorators on one operator", count(MAX_OPERATOR_DECORATORS)],
  ["an operator's name", `${count(MAX_OPERATOR_LENGTH)} characters`],
  ["`schedules`", count(MAX_SCHEDULES)],
])("the row %s gives the limit validation holds to", (what, limit) => {
  expect(limitOf(what)).toBe(limit);
});

// Two limits held by the policy schema alone, found by validation itself: the longest text it
// takes where a row gives one. A review found both missing from the table.
const withText = {
  version: (text: string) => ({ version: text, rules: [rule({ type: "wake" })] }),
  reason: (text: string) => ({ version: "1", rules: [rule({ type: "wake", params: { reason: text } })] }),
};
function rule(event: object) {
  return { name: "r", conditions: { all: [] }, event };
}
test.each([
  ["`version`", withText.version],
  ["an event's `reason`", withText.reason],
])("the row %s gives the longest text validation takes", (what, policy) => {
  const valid = (length: number) => validatePolicy({ name: "p", ...policy("x".repeat(length)) }).valid;
  const row = limitOf(what);
  expect(row).toMatch(/^[\d,]+ characters$/);
  const limit = Number(row.replace(/[^\d]/g, ""));
  expect(valid(limit)).toBe(true);
  expect(valid(limit + 1)).toBe(false);
});
