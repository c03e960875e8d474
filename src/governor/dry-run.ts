// Dry runs: what the object's policy, or a candidate policy, would decide now or at a given
// time, for given facts or none. Nothing is stored or dispatched.

import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import type { Arrival } from "../core/decide.ts";
import { invalid, notFound, prefixProblems } from "../core/errors.ts";
import { checkObjectId } from "../core/object.ts";
import type { Decision } from "../core/types.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { ObjectTable } from "./object-table.ts";
import { loadCandidate } from "./policy-registry.ts";
import type { DryRunInput } from "./services.ts";

export interface DryRunDeps {
  table: ObjectTable;
  arrival: ArrivalPipeline;
  policy: (name: string, path: string) => CompiledPolicy;
  clock: Clock;
}

/** With `facts`, a `facts` arrival at `at` (default now); without, a `manual` evaluation. */
export async function dryRun(d: DryRunDeps, id: string, input: DryRunInput): Promise<Decision> {
  checkObjectId(id);
  const object = await d.table.load(id);
  if (!object) throw notFound(`object "${id}"`);
  let policy: CompiledPolicy;
  if (input.policy !== undefined) {
    const loaded = loadCandidate(input.policy, d.clock.now());
    if (!loaded.ok) throw invalid("the candidate policy is invalid", prefixProblems(loaded.error.errors, "$.policy"));
    policy = loaded.policy.compiled;
  } else policy = d.policy(object.policy, "$.policy");
  const at = input.at ?? d.clock.now();
  const arrival: Arrival = input.facts
    ? { trigger: { kind: "facts" }, at, patch: input.facts }
    : { trigger: { kind: "manual" }, at };
  return (await d.arrival.decide(policy, object, arrival, true)).decision;
}
