// Decisions: an object's history newest first, and one decision with its explanation.

import type { Hono } from "hono";
import { listDecisionsQuery } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { HttpProblem } from "../problem.ts";
import { objectIdParam, queryParams } from "../validation.ts";
import { decisionView } from "../views.ts";

export function decisionRoutes(app: Hono, { governor, auth }: RouteDeps): void {
  app.get("/v1/objects/:id/decisions", auth("read"), async (c) => {
    const id = objectIdParam(c);
    const q = queryParams(c, listDecisionsQuery);
    return c.json({ items: (await governor.listDecisions(id, q.limit, q.before)).map(decisionView) });
  });

  app.get("/v1/decisions/:id", auth("read"), async (c) => {
    const id = c.req.param("id");
    // Ids are short; anything longer cannot exist and is not worth a lookup.
    const decision = id.length <= 128 ? await governor.getDecision(id) : null;
    if (!decision) throw new HttpProblem("not-found", `decision "${id.slice(0, 128)}" not found`);
    return c.json(decisionView(decision));
  });
}
