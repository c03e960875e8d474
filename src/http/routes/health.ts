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
      servedWhileDraining: true,
      replies: { 200: { description: "Alive", schema: healthReply } },
    }),
    (c) => c.json({ status: "ok" }),
  );

  app.get(
    "/readyz",
    operation({
      summary: "Readiness: recovery is done, and the database takes writes and answers",
      tag: "operator",
      scope: null,
      replies: { 200: { description: "Ready", schema: healthReply } },
      problems: {
        503:
          "draining at shutdown, recovery not done, the governing lease lost, the database refusing writes (from a " +
          "refused write until a commit goes through, a request's or the probe's own), or the database not answering within 2 s",
      },
    }),
    async (c) => {
      // What failed inside is not for an unauthenticated probe to see.
      const why = await governor.notReady().catch(() => "the readiness check failed");
      if (why !== null) return problemResponse("unavailable", `not ready: ${why}`);
      return c.json({ status: "ready" });
    },
  );
}
