// What-if: a dry run of one arrival (a decision that is not stored), and replay of a
// candidate policy over an object's history. Both change nothing, so `read` suffices.

import type { Hono } from "hono";
import { evaluateBodySchema, replayBodySchema } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { SLOTS_UNAVAILABLE } from "../dry-run-slots.ts";
import { check, objectIdParam, readJson } from "../validation.ts";
import { decisionView } from "../views.ts";
import { dryRunReply, replayReply } from "../../contracts/api-replies.ts";
import { OBJECT_POLICY_NOT_LOADED, operation } from "../openapi.ts";

export function whatIfRoutes(app: Hono, { governor, whatIf, auth, body, dryRuns }: RouteDeps): void {
  // An empty body is a manual evaluation now.
  app.post(
    "/v1/objects/:id/evaluate",
    operation({
      summary: "Dry run: what the object would decide now, given facts, a moment or a candidate policy",
      tag: "what-if",
      scope: "read",
      params: { id: null },
      body: {
        schema: evaluateBodySchema,
        optional: true,
        description: "Optional: an empty body is a manual evaluation now",
      },
      replies: { 200: { description: "The decision, with `dryRun: true`; nothing is stored", schema: dryRunReply } },
      problems: {
        404: "no such object",
        503: `the candidate took longer than its deadline (5 s); ${SLOTS_UNAVAILABLE}; or, without a candidate, ${OBJECT_POLICY_NOT_LOADED}`,
      },
    }),
    auth("read"),
    body,
    dryRuns.slot,
    async (c) => {
      const id = objectIdParam(c);
      const input = check(
        evaluateBodySchema,
        await readJson(c, { optional: true, uniqueKeysIn: "$.policy" }),
        "dry run",
      );
      const decision = await governor.evaluate(id, {
        facts: input.facts,
        at: input.at === undefined ? undefined : Date.parse(input.at),
        policy: input.policy,
      });
      return c.json({ decision: decisionView(decision) });
    },
  );

  app.post(
    "/v1/objects/:id/replay",
    operation({
      summary: "Replay a candidate policy over the object's recorded history",
      tag: "what-if",
      scope: "read",
      params: { id: null },
      body: { schema: replayBodySchema },
      replies: { 200: { description: "The decisions that would differ, side by side", schema: replayReply } },
      problems: {
        404: "no such object",
        409: "retention folded the journal, or the object was deleted and created again, while the replay read it; send it again",
        503: `the replay took longer than its deadline (5 s); or ${SLOTS_UNAVAILABLE}`,
      },
    }),
    auth("read"),
    body,
    dryRuns.slot,
    async (c) => {
      const id = objectIdParam(c);
      const input = check(replayBodySchema, await readJson(c, { uniqueKeysIn: "$.policy" }), "replay");
      return c.json(await whatIf.replay(id, input.policy));
    },
  );
}
