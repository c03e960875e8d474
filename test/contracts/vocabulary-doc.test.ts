// docs/policy-authors.md names what a condition may use: its "Built-in facts" table holds every
// fact validation accepts and no other, and its "Operators" section names every operator and
// every decorator (it named four decorators of six, and `everyFact:` nowhere).

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { BUILTIN_FACTS, OPERATOR_DECORATORS, OPERATORS } from "../../src/core/vocabulary.ts";

const DOC = readFileSync("docs/policy-authors.md", "utf8");
/** The text of a `## ` section, its heading left out. */
const section = (heading: string) => {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  expect(start, `no section "${heading}"`).toBeGreaterThan(-1);
  const end = DOC.indexOf("\n## ", start + 1);
  return DOC.slice(start, end === -1 ? undefined : end);
};

test("the built-in facts table lists every fact validation accepts, and no other", () => {
  const rows = [...section("Built-in facts").matchAll(/^\| `([A-Za-z]+)` +\|/gm)].map((m) => m[1]);
  expect(rows).toEqual([...BUILTIN_FACTS]);
});

test("the operators section names every operator and every decorator", () => {
  const text = section("Operators");
  expect(OPERATORS.filter((op) => !text.includes(`\`${op}\``))).toEqual([]);
  expect(OPERATOR_DECORATORS.filter((d) => !text.includes(`\`${d}:\``))).toEqual([]);
});
