// olderThan and within under two value decorators (`someValue:everyValue:within`): each of
// someValue and everyValue goes through one list of the value, so the durations are a list of
// lists. A review found validation asking for one list: `["PT10M"]` was accepted, and
// json-rules-engine threw on every evaluation ("jsonValue.some is not a function"), while
// `[["PT10M"]]`, which runs, was refused. The JSON Schema said the same.

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
  name: "nested",
  version: "1",
  rules: [
    {
      name: "near",
      conditions: { all: [{ fact: "memory", path: "$.due", operator, value }] },
      event: { type: "wake" },
    },
  ],
});

describe("a time operator under two value decorators", () => {
  test.each(["someValue:everyValue:within", "everyValue:not:someValue:olderThan"])(
    "%s with one list of durations is refused at the value, by validation and by the schema",
    (operator) => {
      const doc = policy(operator, ["PT10M"]);
      const loaded = new PolicyRegistry().loadText(JSON.stringify(doc), "/policies/nested.json");
      expect(loaded.ok).toBe(false);
      expect(!loaded.ok && loaded.error.errors).toEqual([
        {
          path: "$.rules[0].conditions.all[0].value",
          message: expect.stringContaining("a list of lists of durations"),
        },
      ]);
      expect(schemaAccepts(doc)).toBe(false);
    },
  );

  test("with a list of lists of durations it is accepted, and evaluates without an error", async () => {
    const doc = policy("someValue:everyValue:within", [["PT10M", "PT1H"], ["P1D"]]);
    expect(schemaAccepts(doc), JSON.stringify(schemaAccepts.errors)).toBe(true);
    const registry = new PolicyRegistry();
    const loaded = registry.loadText(JSON.stringify(doc), "/policies/nested.json");
    if (!loaded.ok) expect.fail(JSON.stringify(loaded.error.errors));
    const fixture = {
      policy: "nested",
      start: "2026-03-01T09:00:00Z",
      steps: [
        // Two days off: within none of the lists.
        { facts: { due: "2026-03-03T09:00:00Z" }, expect: { fired: [] } },
        // Five hours off: within every duration of the second list, not of the first.
        { facts: { due: "2026-03-01T14:00:00Z" }, expect: { fired: ["near"], outcome: "wake" } },
      ],
    };
    const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
    expect(run.failures).toEqual([]);
  });
});
