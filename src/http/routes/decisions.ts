// Decisions: the dry run (a decision that is not stored), replay of a candidate policy over
// an object's history, the history newest first, and one decision with its explanation.

import type { Hono } from "hono";
import { evaluateBodySchema, listDecisionsQuery, replayBodySchema } from "../../contracts/api.ts";
import type { RouteDeps } from "../app.ts";
import { HttpProblem } from "../problem.ts";
import { check, objectIdParam, queryParams, readJson } from "../validation.ts";

export function decisionRoutes(app: Hono, { governor, auth, body }: RouteDeps): void {
  // A dry run changes nothing, so `read` suffices. An empty body is a manual evaluation now.
  app.post("/v1/objects/:id/evaluate", auth("read"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(evaluateBodySchema, await readJson(c, { optional: true }), "dry run");
    return c.json({ decision: await governor.evaluate(id, input) });
  });

  // Replay reads history and stores nothing, so `read` suffices too.
  app.post("/v1/objects/:id/replay", auth("read"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(replayBodySchema, await readJson(c), "replay");
    return c.json(await governor.replay(id, input.policy));
  });

  app.get("/v1/objects/:id/decisions", auth("read"), async (c) => {
    const id = objectIdParam(c);
    const q = queryParams(c, listDecisionsQuery);
    return c.json({ items: await governor.listDecisions(id, q.limit, q.before) });
  });

  app.get("/v1/decisions/:id", auth("read"), async (c) => {
    const id = c.req.param("id");
    // Ids are short; anything longer cannot exist and is not worth a lookup.
    const decision = id.length <= 128 ? await governor.getDecision(id) : null;
    if (!decision) throw new HttpProblem("not-found", `decision "${id.slice(0, 128)}" not found`);
    return c.json(decision);
  });
}
