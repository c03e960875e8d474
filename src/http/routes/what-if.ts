// What-if: a dry run of one arrival (a decision that is not stored), and replay of a
// candidate policy over an object's history. Both change nothing, so `read` suffices.

import type { Hono } from "hono";
import { evaluateBodySchema, replayBodySchema } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { check, objectIdParam, readJson } from "../validation.ts";
import { decisionView } from "../views.ts";

export function whatIfRoutes(app: Hono, { governor, whatIf, auth, body }: RouteDeps): void {
  // An empty body is a manual evaluation now.
  app.post("/v1/objects/:id/evaluate", auth("read"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(evaluateBodySchema, await readJson(c, { optional: true }), "dry run");
    const decision = await governor.evaluate(id, {
      facts: input.facts,
      at: input.at === undefined ? undefined : Date.parse(input.at),
      policy: input.policy,
    });
    return c.json({ decision: decisionView(decision) });
  });

  app.post("/v1/objects/:id/replay", auth("read"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(replayBodySchema, await readJson(c), "replay");
    return c.json(await whatIf.replay(id, input.policy));
  });
}
