// The HTTP API v1 as one hono app. Routes validate their input, call the governor, the policy
// registry and the what-if service (never the store), render views (views.ts), and every
// failure leaves through one error map as application/problem+json (problem.ts).

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { GovernorApi, PoliciesApi } from "../governor/services.ts";
import type { WhatIfApi } from "../what-if/service.ts";
import { authenticator, type TokenConfig } from "./auth.ts";
import type { RouteDeps } from "./deps.ts";
import { DryRunSlots, MAX_DRY_RUNS } from "./dry-run-slots.ts";
import { loopbackOnly } from "./loopback.ts";
import { openApiRoutes } from "./openapi.ts";
import { errorResponse, methodNotAllowedHandler, notFoundHandler, problemResponse } from "./problem.ts";
import { cloudEventRoutes } from "./routes/cloudevents.ts";
import { decisionRoutes } from "./routes/decisions.ts";
import { eventRoutes } from "./routes/events.ts";
import { factRoutes } from "./routes/facts.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes, type MetricsService } from "./routes/metrics.ts";
import { objectRoutes } from "./routes/objects.ts";
import { policyRoutes } from "./routes/policies.ts";
import { uiRoutes } from "./routes/ui.ts";
import { usageRoutes } from "./routes/usage.ts";
import { whatIfRoutes } from "./routes/what-if.ts";
import { MAX_STREAMS } from "./sse.ts";

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface AppServices {
  governor: GovernorApi;
  policies: PoliciesApi;
  whatIf: WhatIfApi;
  /**
   * Bearer tokens; an empty list turns auth off (main.ts then binds loopback only) and serves
   * only loopback `Host` names and origins (DNS-rebinding protection, loopback.ts).
   */
  tokens: TokenConfig[];
  /** Request body limit in bytes (default 1 MiB). */
  bodyLimitBytes?: number;
  /** Told about every error that became a 500 (the reply itself carries no detail). */
  onInternalError?: (error: unknown, method: string, path: string) => void;
  /** What `GET /metrics` renders (http/metrics.ts); without it there is no such route. */
  metrics?: MetricsService;
  /** `GET /metrics` without a token (VIGIL_METRICS_PUBLIC); by default it needs `read`. */
  metricsPublic?: boolean;
  /** The most event streams open at once (VIGIL_MAX_STREAMS; default MAX_STREAMS). */
  maxStreams?: number;
  /** The most dry runs, replays and validations taken at once, running or waiting (default MAX_DRY_RUNS). */
  maxDryRuns?: number;
  /** The slots themselves, when the caller watches them (the tests); default made of maxDryRuns. */
  dryRuns?: DryRunSlots;
}

/** Builds the app; `app.fetch` serves it, `app.request()` tests it without sockets. */
export function createApp(services: AppServices): Hono {
  const limit = services.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const app = new Hono();
  // Before any route (probes included): without tokens, a non-loopback Host or Origin
  // is a browser being driven by a DNS-rebinding page.
  if (services.tokens.length === 0) app.use(loopbackOnly());
  app.use(methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedHandler }));

  const report = (e: unknown, method: string, path: string) => services.onInternalError?.(e, method, path);
  const deps: RouteDeps = {
    governor: services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    report,
    auth: authenticator(services.tokens),
    dryRuns: services.dryRuns ?? new DryRunSlots(services.maxDryRuns ?? MAX_DRY_RUNS),
    // Per route and after auth, so a client without a token cannot make the server read 1 MiB.
    body: bodyLimit({
      maxSize: limit,
      onError: () => problemResponse("too-large", `request bodies are limited to ${limit} bytes`),
    }),
  };
  healthRoutes(app, deps);
  objectRoutes(app, deps);
  factRoutes(app, deps);
  cloudEventRoutes(app, deps);
  decisionRoutes(app, deps);
  eventRoutes(app, deps, services.maxStreams ?? MAX_STREAMS);
  usageRoutes(app, deps);
  whatIfRoutes(app, deps);
  policyRoutes(app, deps);
  uiRoutes(app, deps);
  if (services.metrics) metricsRoutes(app, deps, services.metrics, services.metricsPublic ?? false);
  // The document lists every route registered on `app` by the time it is first asked for.
  openApiRoutes(app);

  app.notFound(notFoundHandler);
  app.onError((error, c) => errorResponse(error, (e) => report(e, c.req.method, c.req.path), c.req.method));
  return app;
}
