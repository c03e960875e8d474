// Facts: one object's merge patch (with an optional Idempotency-Key), and a batch across
// objects in which each item succeeds or fails on its own.

import type { Hono } from "hono";
import { batchFactsSchema, factsBodySchema, IDEMPOTENCY_KEY_RULE } from "../../contracts/http.ts";
import { requestSeesSecrets } from "../auth.ts";
import type { RouteDeps } from "../deps.ts";
import { fieldCount, incomingOf } from "../fields.ts";
import { postFacts, refuseConditionalHeaders, refuseIdempotencyKeyHeader } from "../facts-endpoint.ts";
import { bodyText, check, readJson } from "../validation.ts";
import { batchItemView } from "../views.ts";
import { prefixProblems, VigilError } from "../../core/errors.ts";
import type { BatchItemResult } from "../../governor/services.ts";
import { z } from "zod";
import { batchReply, factsReply, minimalFactsReply } from "../../contracts/api-replies.ts";
import { FACTS_REPLY_HEADERS, OBJECT_POLICY_NOT_LOADED, operation } from "../openapi.ts";

export function factRoutes(app: Hono, { governor, auth, body, report }: RouteDeps): void {
  // The server answers this route on its fast path (fast-path.ts) when it can; the same
  // endpoint runs here for what the fast path hands over, and for tests through app.request().
  app.post(
    "/v1/objects/:id/facts",
    operation({
      summary: "Send facts to one object: a JSON Merge Patch of its memory, then one evaluation",
      tag: "facts",
      scope: "write:facts",
      params: { id: null },
      headers: {
        "Idempotency-Key": `${IDEMPOTENCY_KEY_RULE}: a repeat with the same body applies nothing`,
        Prefer: "return=minimal: reply with the decision summary only",
        "If-Match":
          "`*`: the object exists, as it must anyway (objects carry no entity tags: any other value is a 412)",
        "If-None-Match":
          "`*`: only if no object has this id, so always a 412 or a 404 (`*` among other members too; entity tags alone are ignored)",
      },
      body: { schema: factsBodySchema },
      replies: {
        200: {
          description: "The object after the arrival and the decision it took (`{decision}` alone with return=minimal)",
          schema: z.union([factsReply, minimalFactsReply]),
          headers: FACTS_REPLY_HEADERS,
        },
      },
      problems: {
        404: "no such object",
        409: "the Idempotency-Key was used with another body",
        412: "If-Match or If-None-Match does not hold: nothing applied",
        429: "too many requests wait for this object (VIGIL_MAILBOX_LIMIT); see Retry-After",
        503: OBJECT_POLICY_NOT_LOADED,
      },
    }),
    auth("write:facts"),
    body,
    async (c) => {
      const reply = await postFacts(governor, {
        id: c.req.param("id"),
        contentType: c.req.header("content-type"),
        idempotencyKey: c.req.header("idempotency-key"),
        idempotencyKeyFields: fieldCount(incomingOf(c), "idempotency-key"),
        ifMatch: c.req.header("if-match"),
        ifNoneMatch: c.req.header("if-none-match"),
        prefer: c.req.header("prefer"),
        body: () => bodyText(c),
        secrets: requestSeesSecrets(c),
      });
      return c.body(reply.body, 200, reply.headers);
    },
  );

  app.post(
    "/v1/facts",
    operation({
      summary: "Send facts to many objects; each item succeeds or fails on its own",
      description:
        "Each item's idempotency key is its `idempotencyKey`: an `Idempotency-Key` header is refused (422 at " +
        "`$.headers.Idempotency-Key`, nothing applied). So are `If-Match` and `If-None-Match` (422 at " +
        "`$.headers.If-Match`, `$.headers.If-None-Match`): a batch names many objects.",
      tag: "facts",
      scope: "write:facts",
      body: { schema: batchFactsSchema },
      replies: {
        200: {
          description:
            "One result per item, in order; an item that failed carries its problem as `error`, its paths into the " +
            "body (`$.items[2].facts.a`)",
          schema: batchReply,
        },
      },
    }),
    auth("write:facts"),
    body,
    async (c) => {
      // Each item's facts are checked with its object (forbidden keys included): one fails alone.
      // A malformed key is a client bug in the request's shape, like a missing field: the schema
      // refuses the whole batch. What depends on the objects (unknown id, bad patch) fails per
      // item, inside `results`.
      refuseIdempotencyKeyHeader(c.req.header("idempotency-key"), BATCH_KEYS);
      refuseConditionalHeaders(c.req.header("if-match"), c.req.header("if-none-match"));
      const input = check(batchFactsSchema, await readJson(c, { keys: false }), "batch");
      const results = await governor.postFactsBatch(input.items);
      const view = (r: BatchItemResult, index: number) =>
        batchItemView(inBody(r, `$.items[${index}]`), (e) => report(e, c.req.method, c.req.path));
      return c.json({ results: results.map(view) });
    },
  );
}

/** Where a batch's keys go, said to a client that sent the header. */
const BATCH_KEYS = "give each item its own key in `idempotencyKey` (a repeat of that item applies nothing)";

/**
 * An item's problems as paths into the request body (`$.facts.a` of item 2 is `$.items[2].facts.a`),
 * as the batch's own 422 and a CloudEvents batch (`$[2].data.a`) name them.
 */
function inBody(r: BatchItemResult, itemPath: string): BatchItemResult {
  if (!("error" in r) || !(r.error instanceof VigilError) || r.error.problems.length === 0) return r;
  const error = new VigilError(r.error.kind, r.error.message, prefixProblems(r.error.problems, itemPath));
  if (r.error.cause !== undefined) error.cause = r.error.cause;
  return { objectId: r.objectId, error };
}
