// What route modules get from the app: the services, auth per scope, the body limit, and the
// reporter of unexpected errors.

import type { MiddlewareHandler } from "hono";
import type { GovernorApi, PoliciesApi } from "../governor/services.ts";
import type { WhatIfApi } from "../what-if/service.ts";
import type { Scope } from "./auth.ts";
import type { DryRunSlots } from "./dry-run-slots.ts";

export interface RouteDeps {
  governor: GovernorApi;
  policies: PoliciesApi;
  whatIf: WhatIfApi;
  auth: (scope: Scope) => MiddlewareHandler;
  body: MiddlewareHandler;
  /** The slots dry runs, replays and validations run in (dry-run-slots.ts). */
  dryRuns: DryRunSlots;
  /** Told about an unexpected error that a reply reports only as "internal". */
  report: (error: unknown, method: string, path: string) => void;
}
