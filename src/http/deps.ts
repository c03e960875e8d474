// What route modules get from the app: the services, auth per scope, the body limit, and the
// reporter of unexpected errors.

import type { MiddlewareHandler } from "hono";
import type { GovernorApi, PoliciesApi } from "../governor/services.ts";
import type { WhatIfApi } from "../what-if/service.ts";
import type { Scope } from "./auth.ts";

export interface RouteDeps {
  governor: GovernorApi;
  policies: PoliciesApi;
  whatIf: WhatIfApi;
  auth: (scope: Scope) => MiddlewareHandler;
  body: MiddlewareHandler;
  /** Told about an unexpected error that a reply reports only as "internal". */
  report: (error: unknown, method: string, path: string) => void;
}
