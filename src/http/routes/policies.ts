// Policies: what is loaded (with version and content hash) and which files were refused,
// one policy, and validation of a candidate document.

import type { Hono } from "hono";
import type { RouteDeps } from "../deps.ts";
import { HttpProblem, validationProblem } from "../problem.ts";
import { readJson } from "../validation.ts";

export function policyRoutes(app: Hono, { policies, auth, body }: RouteDeps): void {
  app.get("/v1/policies", auth("read"), (c) => c.json(policies.list()));

  app.get("/v1/policies/:name", auth("read"), (c) => {
    const name = c.req.param("name");
    const policy = policies.get(name);
    if (!policy) throw new HttpProblem("not-found", `policy "${name.slice(0, 128)}" is not loaded`);
    return c.json(policy);
  });

  app.post("/v1/policies/validate", auth("read"), body, async (c) => {
    const result = policies.validate(await readJson(c));
    if (!result.valid) throw validationProblem("the policy is invalid", result.errors);
    return c.json({ valid: true, warnings: result.warnings });
  });
}
