// Policies: what is loaded (with version and content hash) and which files were refused,
// one policy, and validation of a candidate document.

import type { Hono } from "hono";
import type { RouteDeps } from "../deps.ts";
import { SLOTS_UNAVAILABLE } from "../dry-run-slots.ts";
import { HttpProblem, validationProblem } from "../problem.ts";
import { readJson } from "../validation.ts";
import { z } from "zod";
import { policyList, policyReply, validateReply } from "../../contracts/api-replies.ts";
import { policySchema } from "../../contracts/policy.ts";
import { DOT_SEGMENT_PARAM, operation } from "../openapi.ts";
import { CANDIDATE_DEADLINE_MS, Deadline, settleSchedules } from "../../governor/dry-run.ts";

export function policyRoutes(app: Hono, { governor, policies, auth, body, dryRuns }: RouteDeps): void {
  app.get(
    "/v1/policies",
    operation({
      summary: "The loaded policies, and the files refused",
      tag: "policies",
      scope: "read",
      database: false,
      replies: {
        200: { description: "Each policy's version, hash and engine; `errors` per refused file", schema: policyList },
      },
    }),
    auth("read"),
    (c) => c.json(policies.list()),
  );

  app.get(
    "/v1/policies/:name",
    operation({
      summary: "One loaded policy, with its document",
      tag: "policies",
      scope: "read",
      database: false,
      params: { name: z.string().describe("The policy's name") },
      replies: {
        200: {
          description: "The policy; `refused` when its file was edited into one that does not load",
          schema: policyReply,
        },
      },
      problems: {
        400: DOT_SEGMENT_PARAM,
        404: "no policy of that name is loaded (`errors` say why when its file was refused)",
      },
    }),
    auth("read"),
    (c) => {
      const name = c.req.param("name");
      const policy = policies.get(name);
      const refusal = policies.refusal(name);
      if (!policy) {
        const detail = refusal
          ? `policy "${name.slice(0, 128)}" is not loaded: ${refusal.file} was refused`
          : `policy "${name.slice(0, 128)}" is not loaded`;
        throw new HttpProblem("not-found", detail, refusal?.errors);
      }
      return c.json(refusal ? { ...policy, refused: refusal } : policy);
    },
  );

  app.post(
    "/v1/policies/validate",
    operation({
      summary: "Check a policy document",
      tag: "policies",
      scope: "read",
      database: false,
      body: { schema: policySchema, description: "A policy document, as in a rule file" },
      replies: { 200: { description: "Valid, with warnings about likely mistakes", schema: validateReply } },
      problems: {
        503: SLOTS_UNAVAILABLE,
      },
    }),
    auth("read"),
    body,
    dryRuns.slot,
    async (c) => {
      const doc = await readJson(c, { uniqueKeysIn: "$" });
      // Each schedule's next tick first, a turn of the event loop apart (settleSchedules), under
      // the deadline of a dry run, on the same clock.
      const deadline = new Deadline("the validation", CANDIDATE_DEADLINE_MS, () => governor.clock.now());
      await settleSchedules(doc, Date.now(), () => deadline.check());
      const result = policies.validate(doc);
      if (!result.valid) throw validationProblem("the policy is invalid", result.errors);
      return c.json({ valid: true, warnings: result.warnings });
    },
  );
}
