// docs/cli.md: a full page of `vigil objects list` or `vigil decisions list` ends with the
// command for the next page. It dropped --state, --policy and --limit (objects) and --limit
// (decisions): run as printed, it listed objects the filter left out, or pages of 50.

import { afterAll, beforeAll, expect, test } from "vitest";
import { runObjects } from "../../src/cli/objects.ts";
import { run, serveVigil, type Served } from "./harness.ts";

let served: Served;
beforeAll(async () => {
  served = await serveVigil();
  for (const [id, policy] of [
    ["a-queue", "queue-worker"],
    ["b-nightly", "nightly-report"],
    ["c-queue", "queue-worker"],
  ])
    expect((await run(runObjects, ["put", id!, "--policy", policy!], served.url)).code).toBe(0);
});
afterAll(async () => served.close());

test("the 'more:' command of a filtered list pages through the same filter", async () => {
  const first = await run(runObjects, ["list", "--policy", "queue-worker", "--limit", "1"], served.url);
  expect(first.out).toContain("a-queue");
  const more = /^more: vigil (objects .*)$/m.exec(first.out)?.[1];
  expect(more).toBeDefined();
  // Run exactly what was printed.
  const args = more!.split(" ").slice(1);
  const next = await run(runObjects, args, served.url);
  expect(next.code).toBe(0);
  // The next page of "objects of queue-worker" must not show a nightly-report object.
  expect(next.out).not.toContain("b-nightly");
  expect(next.out).toContain("c-queue");
});

test("the 'older:' command of `decisions list --limit 1` gives the next page of 1, not of 50", async () => {
  const { runFacts } = await import("../../src/cli/facts.ts");
  const { runDecisions } = await import("../../src/cli/decisions.ts");
  for (const n of [1, 2, 3])
    expect((await run(runFacts, ["post", "a-queue", JSON.stringify({ n })], served.url)).code).toBe(0);
  const first = await run(runDecisions, ["list", "a-queue", "--limit", "1"], served.url);
  const older = /^older: vigil (decisions .*)$/m.exec(first.out)?.[1];
  expect(older).toBeDefined();
  const next = await run(runDecisions, older!.split(" ").slice(1), served.url);
  const rows = next.out.split("\n").filter((l) => l.startsWith("dec_"));
  expect(rows).toHaveLength(1);
});
