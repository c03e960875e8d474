// The operator surface where it meets the substrate: an action's metric keeps the driver it was
// sent to, usage does not take a detached action's answer for the object's confirmation, and the
// OpenAPI document lists the 400 a malformed JSON body gets.

import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "../http/harness.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One sample's value from Prometheus text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) return Number(m[3]);
  }
  return 0;
}

test("vigil_actions_total: a suspend confirmed with VIGIL_HOT_OBJECTS=0 is counted under its driver, not 'unknown'", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  // VIGIL_HOT_OBJECTS=0 (README: "0: none"): dormant objects are not kept in memory.
  const governor = new Governor({ store, policies, drivers: [driver], clock, random: () => 0.5, hotObjects: 0 });
  await governor.start();
  const metrics = new Metrics(governor, { processMetrics: false });
  cleanups.push(
    () => governor.close(),
    () => metrics.close(),
  );
  const advance = (ms: number) => clock.advance(ms, () => governor.idle());

  await governor.putObject("d1", { policy: "on-demand" });
  await governor.postFacts("d1", { work: { pending: 1 } }); // wake: start
  await advance(60_000);
  await governor.postFacts("d1", { work: { pending: 0 } }); // dormancy: suspend
  await advance(60_000);
  expect((await governor.getObject("d1"))!.state).toBe("dormant");

  const text = await metrics.render();
  const count = (d: string, kind: string) =>
    sample(text, "vigil_actions_total", { driver: d, kind, result: "confirmed" });
  expect(count("simulated", "start")).toBe(1);
  // README: vigil_actions_total{driver,kind,result}. The object is bound to `simulated`.
  expect(count("unknown", "suspend")).toBe(0); // actual: 1
  expect(count("simulated", "suspend")).toBe(1); // actual: 0
});

test("usage: after a rebind while waking, the old binding's start (which 'moves nothing') is not taken as the move to active", async () => {
  const s: TestServices = await makeServices();
  cleanups.push(() => s.close());
  const g = s.governor;
  await g.putObject("w", { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 10_000 } } });
  await s.advance(60_000);
  await g.postFacts("w", { queue: { depth: 3 } }); // +60 s: waking; this start answers at +70 s
  await s.advance(2_000);
  // +62 s: rebound to another config: the old compute is stopped, the object re-evaluated -> waking again.
  await g.putObject("w", { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 30_000 } } });
  await s.advance(45_000); // +107 s
  const o = (await g.getObject("w"))!;
  expect(o.state).toBe("active");
  const activeSince = o.stateSince - START; // +100 s: the new binding's start confirmed
  expect(activeSince).toBe(100_000);

  const u = await g.objectUsage("w", { from: START, to: START + 107_000 });
  // README: "seconds in each state ... computed from the recorded decisions and the times their
  // actions were confirmed"; and an action still with the old binding "is closed when it
  // answers, and moves nothing". The object has been active for 7 s, waking for 40 s.
  expect(u.ms.active).toBe(7_000); // actual: 37000 (active from the old start's answer at +70 s)
  expect(u.ms.waking).toBe(40_000); // actual: 10000
  expect(u.ms.dormant).toBe(60_000);
});

test("usage: transitions inside a rebind window are not inflated by the old binding's confirmation", async () => {
  const s: TestServices = await makeServices();
  cleanups.push(() => s.close());
  const g = s.governor;
  await g.putObject("w", { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 10_000 } } });
  await s.advance(60_000);
  await g.postFacts("w", { queue: { depth: 3 } });
  await s.advance(2_000);
  await g.putObject("w", { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 30_000 } } });
  await s.advance(15_000); // +77 s: still waking on the new binding (since +62 s)
  expect((await g.getObject("w"))!.state).toBe("waking");
  const u = await g.objectUsage("w", { from: START, to: START + 77_000 });
  // dormant -> waking (+60), waking -> dormant (rebind, +62), dormant -> waking (+62): 3 changes.
  expect(u.transitions).toBe(3); // actual: 5 (a phantom waking -> active -> waking at +70 s)
});

test("OpenAPI: a malformed JSON body is answered 400, and the document lists it for the route", async () => {
  const h: Harness = await setup({ tokens: TOKEN_CONFIG });
  cleanups.push(() => h.close());
  const doc = (await h.call("GET", "/openapi.json")).body;
  const cases: [string, string, string][] = [
    ["PUT", "/v1/objects/a", "/v1/objects/{id}"],
    ["POST", "/v1/objects/a/facts", "/v1/objects/{id}/facts"],
    ["POST", "/v1/facts", "/v1/facts"],
    ["POST", "/v1/objects/a/evaluate", "/v1/objects/{id}/evaluate"],
    ["POST", "/v1/objects/a/replay", "/v1/objects/{id}/replay"],
    ["POST", "/v1/policies/validate", "/v1/policies/validate"],
  ];
  await h.call("PUT", "/v1/objects/a", { token: TOKENS.admin, json: { policy: "queue-worker" } });
  const undocumented: string[] = [];
  for (const [method, path, template] of cases) {
    const r = await h.call(method, path, {
      token: TOKENS.admin,
      raw: "{",
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    const listed = Object.keys(doc.paths[template][method.toLowerCase()].responses);
    if (!listed.includes("400")) undocumented.push(`${method} ${template} (lists ${listed.join(",")})`);
  }
  // README: "An OpenAPI 3.1 document ... every route with its problem replies." POST
  // /v1/cloudevents lists "400: the body is not JSON"; these routes do not.
  expect(undocumented).toEqual([]);
});
