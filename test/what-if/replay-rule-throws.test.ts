// A candidate whose rule throws during a replay is named where it came from: the candidate's
// rule, at its path in the request (`$.policy.rules[N]`; in `vigil replay`, in the FILE). The
// replay named instead "rules[N] of NAME.json", the policy file of the candidate's name in the
// rules directory, which is not the candidate and may hold no such rule.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { VigilError } from "../../src/core/errors.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a rule of the candidate that throws is named at its path in the request", async () => {
  s = await makeServices();
  await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
  await s.advance(60_000);
  await s.governor.postFacts("w", { queue: { depth: 2 } });
  const candidate = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as {
    rules: { conditions: { all: unknown[] } }[];
  };
  // swap:in looks for 5 in $.missing, which memory never holds: json-rules-engine throws.
  candidate.rules[1]!.conditions.all = [{ fact: "memory", path: "$.missing", operator: "swap:in", value: 5 }];
  const refusal = await s.whatIf.replay("w", candidate).then(
    () => null,
    (e: unknown) => e,
  );
  expect(refusal).toBeInstanceOf(VigilError);
  expect((refusal as VigilError).message).toMatch(/failed to evaluate: rule "job-in-flight": /);
  expect((refusal as VigilError).problems).toEqual([
    { path: "$.policy.rules[1]", message: "an operator of this rule received a value of the wrong type" },
  ]);
});
