// The timeline picture (GET /ui/objects/{id}/timeline.svg) of an object busier than the 2,000
// decisions one picture reads, none of which changed its state: it has been active since its
// start's confirmation, and the picture drew nothing before the oldest decision it read.

import { readFileSync } from "node:fs";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { MAX_DECISIONS } from "../../src/http/ui/timeline.ts";
import { MINUTE, SECOND } from "../helpers/records.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

const iso = (ms: number) => new Date(ms).toISOString();

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a busy object's picture shows its state from when it began, past the decisions it reads", async () => {
  s = await makeServices();
  const g = s.governor;
  const app = createApp({ governor: g, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  // Created dormant at START, woken at +1 min, active at +1 min 10 s.
  await g.putObject("w", { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 10_000 } } });
  await s.advance(MINUTE);
  await g.postFacts("w", { queue: { depth: 3 } });
  await s.advance(30 * SECOND);
  // Half an hour later, more decisions than a picture reads, a second apart, none changing the state.
  await s.advance(30 * MINUTE);
  for (let i = 0; i <= MAX_DECISIONS; i++) {
    await g.postFacts("w", { queue: { depth: 3 + (i % 2) } });
    await s.advance(SECOND);
  }
  const object = await g.getObject("w");
  expect(object).toMatchObject({ state: "active", stateSince: START + MINUTE + 10 * SECOND });

  const now = s.clock.now();
  const res = await app.request(`/ui/objects/w/timeline.svg?from=${iso(START)}&to=${iso(now)}`);
  expect(res.status).toBe(200);
  const svg = await res.text();
  const bands = [...svg.matchAll(/<title>w: (\w+) (\S+) to (\S+) \(/g)].map((m) => ({
    state: m[1],
    from: Date.parse(m[2]!),
    to: Date.parse(m[3]!),
  }));
  // Active from its confirmation to the window's end, whole: the decisions read begin 30 min later.
  // (What came before it is in decisions the picture did not read: it is left blank.)
  expect(bands.filter((b) => b.state === "active")).toEqual([
    { state: "active", from: START + MINUTE + 10 * SECOND, to: now },
  ]);
  expect(bands.reduce((sum, b) => sum + (b.to - b.from), 0)).toBe(now - (START + MINUTE + 10 * SECOND));
});

test("README gives the bound a picture reads", () => {
  const readme = readFileSync("README.md", "utf8").replace(/\s+/g, " ");
  const bound = /one picture reads the newest ([\d,]+) decisions at most/.exec(readme)?.[1];
  expect(bound).toBe(MAX_DECISIONS.toLocaleString("en"));
});
