// Decisions: an object's history newest first, and one decision with its explanation.

import type { Hono } from "hono";
import { listDecisionsQuery } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { HttpProblem } from "../problem.ts";
import { objectIdParam, queryParams } from "../validation.ts";
import { decisionView } from "../views.ts";
import { decisionPage, decisionReply } from "../../contracts/api-replies.ts";
import { operation } from "../openapi.ts";

export function decisionRoutes(app: Hono, { governor, auth }: RouteDeps): void {
  app.get(
    "/v1/objects/:id/decisions",
    operation({
      summary: "An object's decisions, newest first",
      tag: "decisions",
      scope: "read",
      params: { id: null },
      query: listDecisionsQuery,
      replies: { 200: { description: "A page of decisions; `before` the last id for the next", schema: decisionPage } },
      problems: { 404: "no such object" },
    }),
    auth("read"),
    async (c) => {
      const id = objectIdParam(c);
      const q = queryParams(c, listDecisionsQuery);
      return c.json({ items: (await governor.listDecisions(id, q.limit, q.before)).map(decisionView) });
    },
  );

  app.get(
    "/v1/decisions/:id",
    operation({
      summary: "One decision with its explanation",
      tag: "decisions",
      scope: "read",
      replies: { 200: { description: "The decision; its actions' status as it is now", schema: decisionReply } },
      problems: { 404: "no such decision (or retention deleted it)" },
    }),
    auth("read"),
    async (c) => {
      const id = c.req.param("id");
      // Ids are short; anything longer cannot exist and is not worth a lookup.
      const decision = id.length <= 128 ? await governor.getDecision(id) : null;
      if (!decision) throw new HttpProblem("not-found", `decision "${id.slice(0, 128)}" not found`);
      return c.json(decisionView(decision));
    },
  );
}
