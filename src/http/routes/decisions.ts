// Decisions: an object's history newest first, and one decision with its explanation.

import type { Hono } from "hono";
import { listDecisionsQuery } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { JsonPage } from "../json-page.ts";
import { HttpProblem } from "../problem.ts";
import { objectIdParam, queryParams } from "../validation.ts";
import { decisionView } from "../views.ts";
import { decisionPage, decisionReply } from "../../contracts/api-replies.ts";
import { DOT_SEGMENT_PARAM, operation } from "../openapi.ts";

/**
 * Decisions read first for a page. Later reads take what is left of the limit, or about what the
 * byte budget still has room for at the size of those read so far, whichever is less: each
 * decision carries its explanation, with every condition's fact value, and 500 of 120 KB each
 * read at once held 60 MB for a page that keeps 4 MiB.
 */
const FIRST_READ = 10;

export function decisionRoutes(app: Hono, { governor, auth }: RouteDeps): void {
  app.get(
    "/v1/objects/:id/decisions",
    operation({
      summary: "An object's decisions, newest first",
      tag: "decisions",
      scope: "read",
      params: { id: null },
      query: listDecisionsQuery,
      replies: {
        200: {
          description: "A page of at most `limit` decisions and 4 MiB, newest first; `nextBefore` for the next",
          schema: decisionPage,
        },
      },
      problems: { 404: "no such object" },
    }),
    auth("read"),
    async (c) => {
      const id = objectIdParam(c);
      const q = queryParams(c, listDecisionsQuery);
      // As GET /v1/objects, the page stops before the next decision would pass its bytes
      // (json-page.ts). Decisions are read a few at a time, so that what is held stays near what
      // the page keeps.
      const items = new JsonPage();
      let before = q.before;
      let cut = false;
      for (let want = Math.min(FIRST_READ, q.limit); want > 0 && !cut;) {
        const read = await governor.listDecisions(id, want, before);
        for (const d of read) {
          if (!items.add(decisionView(d))) {
            cut = true;
            break;
          }
          before = d.id;
        }
        // Fewer than asked for: there are no older decisions.
        if (read.length < want) break;
        want = Math.min(q.limit - items.length, items.room());
      }
      // Older decisions may follow a page that is full or cut: it says where to go on.
      const next = cut || items.length === q.limit ? before : undefined;
      const more = next === undefined ? "" : `,"nextBefore":${JSON.stringify(next)}`;
      return c.body(items.body(more), 200, { "content-type": "application/json" });
    },
  );

  app.get(
    "/v1/decisions/:id",
    operation({
      summary: "One decision with its explanation",
      tag: "decisions",
      scope: "read",
      replies: { 200: { description: "The decision; its actions' status as it is now", schema: decisionReply } },
      problems: { 400: DOT_SEGMENT_PARAM, 404: "no such decision (or retention deleted it)" },
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
