// vigil_timer_lag_seconds says how late each timer was fired: a due timer whose evaluation failed
// (a rule threw under the policy's new version), used up all the same, was left out of it.

import { afterEach, expect, test } from "vitest";
import { Metrics } from "../../src/http/metrics.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices;
let metrics: Metrics;
afterEach(async () => {
  metrics.close();
  await s.close();
});

const lagCount = async () => {
  const text = await metrics.render();
  return Number(/^vigil_timer_lag_seconds_count (\S+)$/m.exec(text)?.[1]);
};

test("a timer whose evaluation fails is counted in vigil_timer_lag_seconds", async () => {
  s = await makeServices();
  metrics = new Metrics(s.governor, { processMetrics: false });
  const policy = (version: string, rule: object) => JSON.stringify({ name: "fragile", version, rules: [rule] });
  const later = {
    name: "later",
    conditions: { all: [{ fact: "memory", path: "$.x", operator: "equal", value: 5 }] },
    event: { type: "schedule", params: { name: "later", after: "PT1M" } },
  };
  expect(s.policies.loadText(policy("1", later), "inline/fragile.json").ok).toBe(true);
  await s.governor.putObject("f", { policy: "fragile", memory: { x: 5 } });
  expect((await s.governor.getObject("f"))!.timers.map((t) => t.name)).toEqual(["later"]);
  // Its next version has a rule that throws on this memory.
  const boom = {
    name: "boom",
    conditions: { all: [{ fact: "memory", path: "$.x", operator: "swap:in", value: 5 }] },
    event: { type: "wake" },
  };
  expect(s.policies.loadText(policy("2", boom), "inline/fragile.json").ok).toBe(true);
  await s.advance(0);
  expect(await lagCount()).toBe(0);
  await s.advance(60_000);
  // Used up, not fired again every round.
  expect((await s.governor.getObject("f"))!.timers).toEqual([]);
  expect(await lagCount()).toBe(1);
});
