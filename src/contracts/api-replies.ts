// What HTTP API v1 answers with, as zod schemas: the OpenAPI document (http/openapi.ts) is
// generated from these and from the request schemas in http.ts, and a test parses real replies
// with them, so the document cannot drift from what the server sends.

import { z } from "zod";
import { jsonValue } from "./json.ts";
import {
  ACTION_KINDS,
  ACTION_STATUSES,
  LIFECYCLE_STATES,
  OUTCOMES,
  TIMER_KINDS,
  TRIGGER_KINDS,
} from "../core/types.ts";
import { PROBLEM_TYPES, PROBLEMS } from "./problem-types.ts";

/**
 * The most bytes of JSON a list in a reply holds (4 MiB), besides its count limit: a page of
 * objects (500 of 256 KiB of memory each would be 128 MiB), a page of decisions, a replay
 * report's differences. A list holds at least one item, however large.
 */
export const PAGE_BYTES = 4 * 1024 * 1024;

const isoTime = z.iso.datetime().describe("ISO 8601, UTC");
const json = jsonValue();

export const problemReply = z
  .object({
    type: z.enum(PROBLEM_TYPES).describe(
      "A URI naming the kind of problem, the same on every route: " +
        Object.entries(PROBLEMS)
          .map(([slug, p]) => `${slug} (${p.status})`)
          .join(", "),
    ),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z
      .array(
        z.object({ path: z.string().describe("A JSON path into the request: $.facts.queue"), message: z.string() }),
      )
      .optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details (application/problem+json)" });

export const objectReply = z
  .object({
    id: z.string(),
    policy: z.object({ name: z.string(), version: z.string().nullable().describe("null: not loaded now") }),
    state: z.enum(LIFECYCLE_STATES),
    stateSince: isoTime,
    memory: z.record(z.string(), json),
    memoryVersion: z.number().int(),
    substrate: z.object({
      driver: z.string(),
      config: z.record(z.string(), json).describe('A process env\'s values are "***" without write:objects'),
      observed: z
        .looseObject({ status: z.enum(["running", "suspended", "stopped", "unknown"]), at: isoTime.nullable() })
        .nullable()
        .describe("What the driver last observed, with its own fields (pid, machine state, ...)"),
    }),
    holdUntil: isoTime.nullable(),
    timers: z.array(z.object({ name: z.string(), dueAt: isoTime.nullable(), kind: z.enum(TIMER_KINDS) })),
    lastDecisionId: z.string().nullable(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: "Object" });

const conditionExplanation = z
  .looseObject({
    kind: z.enum(["fact", "all", "any", "not", "reference"]),
    result: z.union([z.boolean(), z.literal("not-evaluated")]),
    fact: z.string().optional(),
    path: z.string().optional(),
    operator: z.string().optional(),
    value: json.optional(),
    factValue: json.optional(),
    condition: z.string().optional(),
    get conditions() {
      return z.array(conditionExplanation).optional();
    },
  })
  .meta({ id: "ConditionExplanation" });

const decisionFields = {
  id: z.string().nullable().describe("null for a dry run: it is not stored"),
  objectId: z.string(),
  at: isoTime,
  trigger: z.object({ kind: z.enum(TRIGGER_KINDS), name: z.string().optional(), late: z.boolean().optional() }),
  policy: z.object({ name: z.string(), version: z.string(), hash: z.string() }),
  memoryVersion: z.number().int(),
  fired: z.array(z.object({ rule: z.string(), event: z.string(), params: z.record(z.string(), json) })),
  outcome: z.enum(OUTCOMES),
  fromState: z.enum(LIFECYCLE_STATES),
  toState: z.enum(LIFECYCLE_STATES),
  actions: z.array(
    z.object({ id: z.string().nullable(), kind: z.enum(ACTION_KINDS), status: z.enum(ACTION_STATUSES) }),
  ),
  timers: z.array(
    z.object({ name: z.string(), op: z.enum(["set", "cancel"]), dueAt: isoTime.optional(), kind: z.enum(TIMER_KINDS) }),
  ),
  notes: z.array(z.string()),
  dryRun: z.boolean(),
  durationMs: z.number(),
};

export const decisionReply = z
  .object({
    ...decisionFields,
    explanation: z.object({
      summary: z.string(),
      rules: z.array(
        z.object({ rule: z.string(), event: z.string(), fired: z.boolean(), conditions: conditionExplanation }),
      ),
    }),
  })
  .meta({ id: "Decision" });

export const minimalDecisionReply = z
  .object({ ...decisionFields, summary: z.string() })
  .meta({ id: "DecisionSummary", description: "A decision without its explanation (Prefer: return=minimal)" });

export const factsReply = z.object({ object: objectReply, decision: decisionReply });
export const minimalFactsReply = z.object({ decision: minimalDecisionReply });

export const objectPage = z.object({
  items: z.array(objectReply),
  nextCursor: z.string().optional().describe("Pass as `cursor` for the next page; absent on the last"),
});
export const decisionPage = z.object({
  items: z
    .array(decisionReply)
    .describe("Newest first: at most `limit`, and fewer when 4 MiB of JSON is reached first"),
  nextBefore: z
    .string()
    .optional()
    .describe(
      "Pass as `before` for the next page: set when older decisions may follow (the page holds `limit` decisions, or stopped at 4 MiB); absent on the last",
    ),
});

export const batchReply = z.object({
  results: z.array(
    z.object({
      objectId: z.string(),
      decisionId: z.string().optional(),
      outcome: z.enum(OUTCOMES).optional(),
      error: problemReply
        .extend({
          retryAfter: z
            .number()
            .int()
            .optional()
            .describe(
              "Seconds to wait before sending the item again, where the one object's route would answer with " +
                "Retry-After: too many requests wait for the object (429), its policy is not loaded or the " +
                "database refused the write for now (503)",
            ),
        })
        .meta({ id: "BatchItemProblem", description: "An item's problem: RFC 9457 problem details, and retryAfter" })
        .optional(),
    }),
  ),
});

export const dryRunReply = z.object({ decision: decisionReply });

export const replayReply = z
  .looseObject({
    objectId: z.string(),
    candidate: z.object({ name: z.string(), version: z.string(), hash: z.string() }),
    from: isoTime.describe("Where the replay starts: the object's creation, or the snapshot retention left"),
    comparedFrom: isoTime.optional().describe("Set when older decisions were pruned: the comparison starts here"),
    until: isoTime.describe("The latest recorded decision"),
    actualDecisions: z.number().int(),
    candidateDecisions: z.number().int(),
    evaluations: z.number().int(),
    differences: z
      .array(z.record(z.string(), json))
      .describe("The earliest rows: at most 1,000 and 4 MiB of JSON (`truncated` says rows were left out)"),
    differenceCount: z.number().int(),
    skipped: z.array(z.string()).describe("Recorded evaluations that cannot be replayed: at most 1,000"),
    skippedCount: z.number().int(),
    truncated: z.boolean(),
  })
  .meta({ id: "ReplayReport" });

const policyInfo = z.looseObject({
  name: z.string(),
  version: z.string(),
  hash: z.string(),
  file: z.string(),
  loadedAt: isoTime,
  description: z.string().optional(),
  engine: z.object({ name: z.enum(["compiled", "json-rules-engine"]), reason: z.string().optional() }),
});
const policyError = z.looseObject({
  file: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const policyList = z.object({ items: z.array(policyInfo), errors: z.array(policyError) });
export const policyReply = policyInfo.extend({
  rules: z.array(z.string()).describe("The rules' names, in file order"),
  document: json,
  refused: policyError
    .optional()
    .describe("The file was edited into one that does not load: this version keeps serving, and these say why"),
});
export const validateReply = z.object({
  valid: z.literal(true),
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const healthReply = z.looseObject({ status: z.string() });
