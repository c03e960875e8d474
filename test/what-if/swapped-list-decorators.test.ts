// someValue and everyValue after a swap go through the fact, not the value:
// `swap:someValue:equal` with `"value": 1` is true when the fact is a list holding 1. A review
// found validation (and the JSON Schema) asking for a list value wherever someValue appeared, so
// that this valid condition was refused ("needs a list value").

import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { POLICY_SCHEMA_FILE } from "../../src/contracts/json-schema.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const ajv = new Ajv2020({ allErrors: true, strict: false });
formats.default(ajv);
const schemaAccepts = ajv.compile(JSON.parse(readFileSync(POLICY_SCHEMA_FILE, "utf8")) as object);

const policy = (operator: string, value: unknown) => ({
  name: "swapped",
  version: "1",
  rules: [
    { name: "has", conditions: { all: [{ fact: "memory", path: "$.ids", operator, value }] }, event: { type: "wake" } },
  ],
});

describe("someValue and everyValue after a swap", () => {
  test.each([
    ["swap:someValue:equal", 1],
    ["not:swap:everyValue:notEqual", "a"],
    ["someFact:swap:someValue:equal", 1],
  ])("%s with %j (no list) is accepted by validation and by the schema", (operator, value) => {
    const doc = policy(operator, value);
    const loaded = new PolicyRegistry().loadText(JSON.stringify(doc), "/policies/swapped.json");
    if (!loaded.ok) expect.fail(JSON.stringify(loaded.error.errors));
    expect(schemaAccepts(doc), JSON.stringify(schemaAccepts.errors)).toBe(true);
  });

  test("before a swap they still need a list value", () => {
    const doc = policy("someValue:swap:equal", 1);
    const loaded = new PolicyRegistry().loadText(JSON.stringify(doc), "/policies/swapped.json");
    expect(!loaded.ok && loaded.error.errors.map((e) => e.path)).toEqual(["$.rules[0].conditions.all[0].value"]);
    expect(schemaAccepts(doc)).toBe(false);
  });

  test("swap:someValue:equal is true when the fact's list holds the value", async () => {
    const registry = new PolicyRegistry();
    const loaded = registry.loadText(JSON.stringify(policy("swap:someValue:equal", 2)), "/policies/swapped.json");
    if (!loaded.ok) expect.fail(JSON.stringify(loaded.error.errors));
    const fixture = {
      policy: "swapped",
      start: "2026-03-01T09:00:00Z",
      steps: [
        { facts: { ids: [1, 3] }, expect: { fired: [], state: "dormant" } },
        { facts: { ids: [1, 2, 3] }, expect: { fired: ["has"], outcome: "wake", state: "active" } },
      ],
    };
    const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
    expect(run.failures).toEqual([]);
  });
});
