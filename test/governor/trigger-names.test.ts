// docs/policy-authors.md, "trigger.name": what a rule sees as the trigger's name, by kind.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a substrate trigger is named by the status observed, with the state already following it", async () => {
  s = await makeServices();
  await s.governor.putObject("o", { policy: "queue-worker" });
  const [created] = await s.governor.listDecisions("o", 1);
  expect(created!.trigger).toEqual({ kind: "create" });
  s.driver.crash("o", "running"); // started elsewhere
  await s.advance(0);
  const [running] = await s.governor.listDecisions("o", 1);
  expect(running).toMatchObject({ trigger: { kind: "substrate", name: "running" }, fromState: "active" });
  s.driver.crash("o", "suspended"); // frozen elsewhere
  await s.advance(0);
  const [suspended] = await s.governor.listDecisions("o", 1);
  expect(suspended).toMatchObject({ trigger: { kind: "substrate", name: "suspended" }, fromState: "dormant" });
  const facts = await s.governor.postFacts("o", { queue: { depth: 0 } });
  expect(facts.decision.trigger).toEqual({ kind: "facts" });
  expect((await s.governor.evaluate("o", {})).trigger).toEqual({ kind: "manual" });
});
