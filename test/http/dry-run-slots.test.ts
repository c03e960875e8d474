// Dry runs, replays and policy validations take the event loop for as long as their candidate
// asks, and a `read` token may ask for any number of them: at most MAX_DRY_RUNS run at once
// (README's bounds table), past it a 503 with Retry-After that ran nothing, while facts (the
// write path) are not bounded by them. Counted, not timed: replays held open by the test fill
// the slots.

import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { DRY_RUNS_RETRY_AFTER, MAX_DRY_RUNS } from "../../src/http/dry-run-slots.ts";
import type { WhatIfApi } from "../../src/what-if/service.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { expectProblem, queueWorkerPolicy, type Reply } from "./harness.ts";

let services: TestServices | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

async function heldReplays(maxDryRuns?: number) {
  services = await makeServices({ tokens: [] });
  const s = services;
  const held: (() => void)[] = [];
  // Replays wait for the test before they run: each holds its slot until released.
  const whatIf: WhatIfApi = {
    replay: async (id, policy) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return s.whatIf.replay(id, policy);
    },
  };
  const app = createApp({
    governor: s.governor,
    policies: s.policies,
    whatIf,
    tokens: [],
    ...(maxDryRuns !== undefined ? { maxDryRuns } : {}),
  });
  const call = async (method: string, path: string, json?: unknown): Promise<Reply> => {
    const res = await app.request(path, {
      method,
      headers: { host: "127.0.0.1", "content-type": "application/json" },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text), text };
  };
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 } });
  return { s, held, call };
}

test(`at most ${MAX_DRY_RUNS} dry runs, replays and validations run at once by default`, async () => {
  const { held, call } = await heldReplays();
  const policy = queueWorkerPolicy();
  const running = Array.from({ length: MAX_DRY_RUNS }, () => call("POST", "/v1/objects/w/replay", { policy }));
  await expect.poll(() => held.length).toBe(MAX_DRY_RUNS);
  // Answered, or let in to run (the defect: it waits for the test like the others).
  const reply = call("POST", "/v1/objects/w/replay", { policy });
  const letIn = async () => {
    while (held.length === MAX_DRY_RUNS) await new Promise((r) => setImmediate(r));
  };
  await Promise.race([reply, letIn()]);
  expect(held.length, "one replay more than the bound ran").toBe(MAX_DRY_RUNS);
  const refused = await reply;
  expectProblem(refused, 503, "unavailable");
  expect(refused.headers.get("retry-after")).toBe(DRY_RUNS_RETRY_AFTER);
  for (const release of held) release();
  for (const reply of await Promise.all(running)) expect(reply.status).toBe(200);
});

test("past the bound a dry run, a replay and a validation are each a 503, and facts still apply", async () => {
  const { s, held, call } = await heldReplays(2);
  const policy = queueWorkerPolicy();
  const running = [call("POST", "/v1/objects/w/replay", { policy }), call("POST", "/v1/objects/w/replay", { policy })];
  await expect.poll(() => held.length).toBe(2);
  for (const [path, body] of [
    ["/v1/objects/w/evaluate", { policy, facts: { queue: { depth: 2 } } }],
    ["/v1/objects/w/evaluate", {}],
    ["/v1/objects/w/replay", { policy }],
    ["/v1/policies/validate", policy],
  ] as const) {
    const reply = await call("POST", path, body);
    expectProblem(reply, 503, "unavailable");
    expect(reply.headers.get("retry-after"), path).toBe(DRY_RUNS_RETRY_AFTER);
    expect(reply.body.detail).toContain("dry runs, replays and validations are running");
  }
  const facts = await call("POST", "/v1/objects/w/facts", { facts: { queue: { depth: 7 } } });
  expect(facts.status).toBe(200);
  expect((await s.governor.getObject("w"))!.memory).toMatchObject({ queue: { depth: 7 } });
  for (const release of held) release();
  for (const reply of await Promise.all(running)) expect(reply.status).toBe(200);
  // The slots are free again.
  expect((await call("POST", "/v1/objects/w/evaluate", { policy })).status).toBe(200);
  expect((await call("POST", "/v1/policies/validate", policy)).status).toBe(200);
});
