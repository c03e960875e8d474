// A `read` token may send a policy to validate, or a candidate to evaluate or replay. Each of
// its schedules' next tick may cost cron-parser tens of milliseconds (a tick years away), and
// 32 of them were worked out at once, the event loop held for seconds: three such requests at
// once cost a server its lease. They are now worked out a turn of the event loop apart, under
// the candidate deadline. The turns are counted, and cron-parser's date steps (luxon operations,
// as test/core/schedule-cost.test.ts counts them) between them, not timed.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_SCHEDULES } from "../../src/contracts/policy.ts";
import { cronSteps } from "../helpers/cron-steps.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup({ tokens: TOKEN_CONFIG });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

/** A policy of the most schedules, each ticking on a February's fifth Monday (2044), each its own minute. */
function slowSchedules(tag: number) {
  return {
    name: "queue-worker",
    version: `slow-${tag}`,
    schedules: Array.from({ length: MAX_SCHEDULES }, (_, i) => ({
      name: `s${i}`,
      cron: `${i} ${tag} * 2 1#5`,
      timezone: "Australia/Sydney",
    })),
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact: "memory", path: "$.x", operator: "equal", value: 1 }] },
        event: { type: "wake" },
      },
    ],
  };
}

/**
 * Runs `work`, counting the turns the event loop gave to others meanwhile, and the most of
 * cron-parser's steps taken between two of them, against all it took.
 */
async function turnsDuring(work: () => Promise<unknown>) {
  let turns = 0;
  let on = true;
  const start = cronSteps();
  let mark = start;
  let most = 0;
  const spin = () => {
    turns++;
    most = Math.max(most, cronSteps() - mark);
    mark = cronSteps();
    if (on) setImmediate(spin);
  };
  setImmediate(spin);
  try {
    await work();
  } finally {
    on = false;
  }
  most = Math.max(most, cronSteps() - mark);
  return { turns, most, all: cronSteps() - start };
}

describe("a document of slow schedules gives the event loop a turn before each", () => {
  test.each([
    [
      "POST /v1/policies/validate",
      1,
      (p: unknown) => h.call("POST", "/v1/policies/validate", { json: p, token: TOKENS.read }),
    ],
    [
      "POST /v1/objects/{id}/evaluate",
      2,
      (p: unknown) => h.call("POST", "/v1/objects/w1/evaluate", { json: { policy: p }, token: TOKENS.read }),
    ],
    [
      // The evaluation arms the timers from its own time, years before validation's now.
      "POST /v1/objects/{id}/evaluate at a time of its own",
      4,
      (p: unknown) =>
        h.call("POST", "/v1/objects/w1/evaluate", {
          json: { policy: p, at: "2001-03-01T00:00:00Z" },
          token: TOKENS.read,
        }),
    ],
    [
      "POST /v1/objects/{id}/replay",
      3,
      (p: unknown) => h.call("POST", "/v1/objects/w1/replay", { json: { policy: p }, token: TOKENS.read }),
    ],
  ])("%s", async (_, tag, send) => {
    let status = 0;
    const { turns, most, all } = await turnsDuring(async () => {
      status = (await send(slowSchedules(tag))).status;
    });
    expect(status).toBe(200);
    expect(turns).toBeGreaterThanOrEqual(MAX_SCHEDULES);
    // No turn took more than a few schedules' work (all at once was most of it).
    expect(all).toBeGreaterThan(0);
    expect(most).toBeLessThan(all / 8);
  });
});
