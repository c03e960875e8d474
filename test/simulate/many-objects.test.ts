// A workload of more objects than a function call takes arguments: the simulation spread one
// argument per object into Math.min/Math.max, and `vigil simulate` with 125,000 objects or more
// failed with "Maximum call stack size exceeded" (exit 2, as if a usage error). Found by a
// review of the history tools.

import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { earliestCreation } from "../../src/simulate/model.ts";
import { simulate } from "../../src/simulate/simulate.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const MINUTE = 60_000;
const many = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `o${i}`, createdAt: START + (n - i), memory: {} }));

test("200,000 objects are simulated (the autostop baseline; a policy run takes its start the same way)", async () => {
  const objects = many(200_000);
  const facts = objects.map((o) => ({ at: START + 300_000, objectId: o.id, facts: {}, source: "t" }));
  const registry = new PolicyRegistry();
  registry.loadDirectory(RULES_DIR);
  const r = await simulate({
    registry,
    policies: [],
    workload: { objects, facts },
    latencies: { startMs: 2000, resumeMs: 2000 },
    autostopMs: 5 * MINUTE,
    until: START + 10 * MINUTE,
  });
  expect(r.objects).toBe(200_000);
});

test("the first creation of a million objects, as a policy run reads it", () => {
  expect(earliestCreation({ objects: many(1_000_000), facts: [] })).toBe(START + 1);
  expect(earliestCreation({ objects: [], facts: [] })).toBe(Infinity);
});
