// Liveness and readiness probes; no token needed.

import type { Hono } from "hono";
import type { RouteDeps } from "../deps.ts";
import { problemResponse } from "../problem.ts";
import { healthReply } from "../../contracts/api-replies.ts";
import { operation } from "../openapi.ts";

export function healthRoutes(app: Hono, { governor }: RouteDeps): void {
  app.get(
    "/healthz",
    operation({
      summary: "Liveness: the process answers",
      tag: "operator",
      scope: null,
      replies: { 200: { description: "Alive", schema: healthReply } },
    }),
    (c) => c.json({ status: "ok" }),
  );

  app.get(
    "/readyz",
    operation({
      summary: "Readiness: recovery is done and the database answers",
      tag: "operator",
      scope: null,
      replies: { 200: { description: "Ready", schema: healthReply } },
      problems: { 503: "draining at shutdown, or the database does not answer" },
    }),
    async (c) => {
      const ready = await governor.ready().catch(() => false);
      if (!ready) return problemResponse("unavailable", "not ready: the database does not answer");
      return c.json({ status: "ready" });
    },
  );
}
