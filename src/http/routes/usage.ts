// Usage: the time an object (or a policy's objects) spent in each state over a window, the
// wakes and the state changes, computed from the recorded decisions (governor/usage.ts).

import type { Hono } from "hono";
import { z } from "zod";
import { pageLimit, policyFilterSchema } from "../../contracts/http.ts";
import { LIFECYCLE_STATES } from "../../core/types.ts";
import { queryInstantSchema } from "../../contracts/instant.ts";
import type { RouteDeps } from "../deps.ts";
import { operation } from "../openapi.ts";
import { objectIdParam, queryParams } from "../validation.ts";
import { decodeCursor, policyUsageView, usageView } from "../views.ts";

const time = queryInstantSchema();

export const usageQuery = z.object({
  from: time.optional().describe("The window's start, ISO 8601 (default: 24 hours before `to`)"),
  to: time.optional().describe("The window's end, ISO 8601 (default, and at most: now)"),
});

/** Objects summed by one request at most; `nextCursor` goes on from there. */
export const USAGE_OBJECTS = 5000;

export const policyUsageQuery = usageQuery.extend({
  policy: policyFilterSchema.optional().describe("Only this policy's objects (default: all, per policy)"),
  limit: pageLimit(USAGE_OBJECTS, USAGE_OBJECTS).describe("The most objects summed by this request"),
  cursor: z.string().optional().describe("`nextCursor` of the previous reply: sum the objects after it"),
});

const seconds = z
  .object(Object.fromEntries(LIFECYCLE_STATES.map((s) => [s, z.number().min(0)])) as Record<string, z.ZodNumber>)
  .describe("Seconds in each state, to the millisecond; they add up to `to` minus `from`");
const isoTime = z.iso.datetime().describe("ISO 8601, UTC");

export const usageReply = z
  .object({
    objectId: z.string(),
    from: isoTime.describe("The window's start, or the object's creation when that is later"),
    to: isoTime,
    seconds,
    wakes: z.number().int().describe("Moves from dormant, sleeping or failed to waking or active"),
    transitions: z.number().int().describe("State changes within the window"),
  })
  .meta({ id: "Usage" });

export const policyUsageReply = z
  .object({
    from: isoTime,
    to: isoTime,
    items: z.array(
      z.object({
        policy: z.string(),
        objects: z.number().int().describe("Objects that exist now and existed within the window"),
        seconds,
        wakes: z.number().int(),
        transitions: z.number().int(),
      }),
    ),
    nextCursor: z.string().optional().describe("More objects follow: pass it as `cursor`"),
  })
  .meta({ id: "PolicyUsage" });

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

export function usageRoutes(app: Hono, { governor, auth }: RouteDeps): void {
  app.get(
    "/v1/objects/:id/usage",
    operation({
      summary: "Time per state, wakes and state changes of one object over a window",
      description:
        "Computed from the object's recorded decisions and its actions' confirmations. The window is clipped " +
        "to the object's life; when retention deleted the decisions before it, the state at its start is the " +
        "first kept decision's `fromState`.",
      tag: "usage",
      scope: "read",
      params: { id: null },
      query: usageQuery,
      replies: { 200: { description: "The object's usage", schema: usageReply } },
      problems: {
        404: "no such object",
        409: "the object was deleted and created again while its usage was read, more than once: ask again",
      },
    }),
    auth("read"),
    async (c) => {
      const id = objectIdParam(c);
      const q = queryParams(c, usageQuery);
      return c.json(usageView(await governor.objectUsage(id, { from: ms(q.from), to: ms(q.to) })));
    },
  );

  app.get(
    "/v1/usage",
    operation({
      summary: "Usage summed per policy",
      description:
        `Sums up to \`limit\` (at most ${USAGE_OBJECTS}) objects in id order, each as its own usage reply ` +
        "would; `nextCursor` says where the next request goes on. An object counts toward its current policy.",
      tag: "usage",
      scope: "read",
      query: policyUsageQuery,
      replies: { 200: { description: "Usage per policy", schema: policyUsageReply } },
    }),
    auth("read"),
    async (c) => {
      const q = queryParams(c, policyUsageQuery);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const page = await governor.policyUsage({
        policy: q.policy,
        from: ms(q.from),
        to: ms(q.to),
        after,
        limit: q.limit,
      });
      return c.json(policyUsageView(page));
    },
  );
}
