// Liveness and readiness probes; no token needed.

import type { Hono } from "hono";
import type { RouteDeps } from "../deps.ts";
import { problemResponse } from "../problem.ts";

export function healthRoutes(app: Hono, { governor }: RouteDeps): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
    const ready = await governor.ready().catch(() => false);
    if (!ready)
      return problemResponse(
        "unavailable",
        "not ready: recovery at start is not finished, or the database does not answer",
      );
    return c.json({ status: "ready" });
  });
}
