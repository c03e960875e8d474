// Times read from outside are held to the years 0000 to 9999 in UTC, so that every time a
// reply writes back is RFC 3339 (toISOString writes `+010000-01-01T...` past 9999, which breaks
// the reply's own schema). A date-time with an offset can name such an instant with a
// four-digit year: `9999-12-31T23:59:59-23:59` is 10000-01-01T23:58:59Z.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { dryRunReply } from "../../src/contracts/api-replies.ts";
import { policyUsageReply } from "../../src/http/routes/usage.ts";
import { expectProblem, queueWorkerPolicy, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(() => h.close());

const evaluate = (body: unknown) => h.call("POST", "/v1/objects/w1/evaluate", { json: body });

/** The one problem of a 422 at `path`. */
async function refusedAt(reply: Promise<Awaited<ReturnType<Harness["call"]>>>, path: string) {
  const problem = expectProblem(await reply, 422, "validation");
  expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([path]);
  return problem.errors[0].message as string;
}

/** The queue-worker policy with one more rule, always firing, whose event is `event`. */
function candidate(event: unknown) {
  const policy = queueWorkerPolicy();
  policy.rules.push({ name: "always", conditions: { all: [] }, event });
  return policy;
}

describe("a dry run's at", () => {
  test.each([
    ["past 9999 in UTC", "9999-12-31T23:59:59-23:59"],
    ["before 0000 in UTC", "0000-01-01T00:00:00+00:01"],
  ])("%s is a 422 at $.at", async (_label, at) => {
    expect(await refusedAt(evaluate({ at }), "$.at")).toMatch(/^must fall from 0000-01-01T00:00:00.000Z to /);
  });

  test("is at most 100 years before the end of 9999: the timers it sets are times too", async () => {
    // A hold lease of the longest duration (36,500 days) from the latest `at` ends at the last
    // millisecond of 9999; a millisecond later it would not.
    const policy = candidate({ type: "hold-active", params: { for: "P36500D" } });
    const reply = await evaluate({ at: "9900-01-24T23:59:59.999Z", policy });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.decision.timers).toEqual([
      { name: "hold", op: "set", dueAt: "9999-12-31T23:59:59.999Z", kind: "hold" },
    ]);
    expect(dryRunReply.safeParse(reply.body).success).toBe(true);
    expect(await refusedAt(evaluate({ at: "9900-01-25T00:00:00Z", policy }), "$.at")).toMatch(
      /to 9900-01-24T23:59:59.999Z in UTC: a timer the dry run sets/,
    );
  });

  test("the first instant of 0000 is taken", async () => {
    const reply = await evaluate({ at: "0000-01-01T00:00:00Z" });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.decision.at).toBe("0000-01-01T00:00:00.000Z");
    expect(dryRunReply.safeParse(reply.body).success).toBe(true);
  });

  test("a string that is no date-time gets the format's message alone", async () => {
    expect(await refusedAt(evaluate({ at: "yesterday" }), "$.at")).toMatch(/^must be an ISO 8601 date and time/);
  });
});

describe("a policy's at and wakeAt", () => {
  test.each([
    ["schedule", "at", "9999-12-31T23:59:59-23:59"],
    ["schedule", "at", "0000-01-01T00:00:00+00:01"],
    ["dormancy", "wakeAt", "9999-12-31T23:59:59-23:59"],
    ["dormancy", "wakeAt", "0000-01-01T00:00:00+00:01"],
  ])("a %s's %s of %s is refused at its path", async (type, key, time) => {
    const params = type === "schedule" ? { name: "far", [key]: time } : { [key]: time };
    const path = `$.policy.rules[3].event.params.${key}`;
    expect(await refusedAt(evaluate({ policy: candidate({ type, params }) }), path)).toMatch(/^must fall from/);
  });

  test("the last instant of 9999 is a timer's due time", async () => {
    const policy = candidate({ type: "schedule", params: { name: "far", at: "9999-12-31T23:59:59.999Z" } });
    const reply = await evaluate({ policy });
    expect(reply.body.decision.timers).toEqual([
      { name: "far", op: "set", dueAt: "9999-12-31T23:59:59.999Z", kind: "schedule" },
    ]);
  });
});

describe("a window's from and to", () => {
  test.each([
    ["/v1/usage?to=9999-12-31T23:59:59-23:59", "$.query.to"],
    ["/v1/usage?to=0000-01-01T00:00:00%2B00:01", "$.query.to"],
    ["/v1/objects/w1/usage?from=0000-01-01T00:00:00%2B00:01", "$.query.from"],
    ["/ui/objects/w1/timeline.svg?from=0000-01-01T00:00:00%2B00:01", "$.query.from"],
    ["/ui/objects/w1/timeline.svg?to=9999-12-31T23:59:59-23:59", "$.query.to"],
  ])("%s is a 422 at %s", async (url, path) => {
    expect(await refusedAt(h.call("GET", url), path)).toMatch(/^must fall from/);
  });

  test("a default from is not before 0000", async () => {
    const reply = await h.call("GET", "/v1/usage?to=0000-01-01T12:00:00Z");
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ from: "0000-01-01T00:00:00.000Z", to: "0000-01-01T12:00:00.000Z" });
    expect(policyUsageReply.safeParse(reply.body).success).toBe(true);
    expect(await refusedAt(h.call("GET", "/v1/usage?to=0000-01-01T00:00:00Z"), "$.query.from")).toMatch(
      /^must be before `to`/,
    );
  });
});
