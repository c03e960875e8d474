// GET /metrics: the Prometheus text format (http/metrics.ts). A `read` token, or none when
// VIGIL_METRICS_PUBLIC=true lets a scraper in without one.

import type { Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { RouteDeps } from "../deps.ts";
import { operation } from "../openapi.ts";

/** What the route renders: http/metrics.ts `Metrics`. */
export interface MetricsService {
  readonly contentType: string;
  render(): Promise<string>;
}

const open: MiddlewareHandler = async (_c, next) => {
  await next();
};

export function metricsRoutes(app: Hono, deps: RouteDeps, metrics: MetricsService, isPublic: boolean): void {
  app.get(
    "/metrics",
    operation({
      summary: "Prometheus metrics",
      description:
        "Decisions, evaluations, actions, objects and the time they spent per state, timers, arrival and commit " +
        "figures, open event streams, and the process's own, in the Prometheus text format. Needs a `read` token unless " +
        "VIGIL_METRICS_PUBLIC=true.",
      tag: "operator",
      scope: isPublic ? null : "read",
      database: false,
      replies: { 200: { description: "The metrics", schema: z.string(), media: "text/plain; version=0.0.4" } },
    }),
    isPublic ? open : deps.auth("read"),
    async (c) => c.body(await metrics.render(), 200, { "content-type": metrics.contentType }),
  );
}
