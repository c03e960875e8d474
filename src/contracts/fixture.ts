// The fixture file format: a policy, a start time, an optional object, and steps that post
// facts or advance the virtual clock, each with expectations. One loader feeds the CLI, the
// vitest suite and the HTTP end-to-end test.

import { z } from "zod";
import { DURATION_HELP, DURATION_PATTERN, parseDuration } from "../core/durations.ts";
import { ACTION_KINDS, LIFECYCLE_STATES, OUTCOMES } from "../core/types.ts";
import { jsonObject } from "./json.ts";

export const expectSchema = z.strictObject({
  state: z.enum(LIFECYCLE_STATES).optional().describe("The object's state after the step"),
  outcome: z.enum(OUTCOMES).optional().describe("Outcome of the step's last evaluation"),
  fired: z.array(z.string()).optional().describe("Exact set of rules fired by the step's last evaluation"),
  actions: z.array(z.enum(ACTION_KINDS)).optional().describe("Kinds of the actions issued during the step, in order"),
  timers: z.array(z.string()).optional().describe("Exact set of pending timer names after the step"),
  memory: jsonObject.optional().describe("A deep subset of memory after the step"),
});

export const stepSchema = z
  .strictObject({
    description: z.string().optional(),
    facts: jsonObject.optional().describe("A merge patch posted at the current virtual time"),
    advance: z
      .string()
      .regex(DURATION_PATTERN, { message: `must be ${DURATION_HELP}` })
      // The pattern takes any size; a duration past the limit (100 years) is malformed too.
      .refine((s) => parseDuration(s) !== null, { message: `must be ${DURATION_HELP}` })
      .optional()
      .describe("Moves the clock, firing every timer due up to and including the new time"),
    expect: expectSchema.optional(),
  })
  .refine((s) => (s.facts === undefined) !== (s.advance === undefined), {
    message: "a step has exactly one of facts or advance",
  });

export const fixtureSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  policy: z.string().min(1),
  // Decision and action ids begin with the time they are minted at, counted from 1970: before
  // it every id is taken for one ahead of the clock, and each timer step fails on it.
  start: z.iso
    .datetime({ offset: true })
    .refine((s) => Date.parse(s) >= 0, { message: "must be 1970-01-01T00:00:00Z or later" }),
  object: z
    .strictObject({
      // A settled state: nothing in a fixture would carry an object out of `waking` or
      // `sleeping` (no action is pending for it), so it would stay there.
      state: z
        .enum(["dormant", "active", "failed"], {
          error:
            "must be dormant, active or failed (a fixture cannot start an object in motion: nothing would carry it on)",
        })
        .optional()
        .describe("The state to start from: dormant (default), active or failed"),
      memory: jsonObject.optional(),
    })
    .optional(),
  steps: z.array(stepSchema).min(1),
});

export type Fixture = z.infer<typeof fixtureSchema>;
export type FixtureExpect = z.infer<typeof expectSchema>;
