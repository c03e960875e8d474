// The event stream: GET /v1/events, Server-Sent Events of stored decisions, action status
// changes and deletions as they commit, filtered by type and object, resumable from Last-Event-ID (the
// decisions after it are read from the store first). The machinery is in ../sse.ts.

import type { Context, Hono } from "hono";
import type { ServerResponse } from "node:http";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { addressableObjectIdSchema } from "../../contracts/http.ts";
import type { RouteDeps } from "../deps.ts";
import { SHUTDOWN_RETRY_AFTER, SHUTTING_DOWN } from "../gate.ts";
import { operation } from "../openapi.ts";
import { HttpProblem, validationProblem } from "../problem.ts";
import {
  EVENT_TYPES,
  EventStream,
  eventHub,
  HEARTBEAT_MS,
  QUEUE_BYTES,
  QUEUE_EVENTS,
  STREAMS_RETRY_AFTER,
  type EventType,
} from "../sse.ts";
import { fieldCount, incomingOf } from "../fields.ts";
import { check, queryParams, sentMoreThanOnce } from "../validation.ts";

/**
 * Decision and action ids (governor/ids.ts): a prefix, then 21 characters of lowercase base 36
 * and hex. A shorter one (13 at least, as `dec_0000000000000`, the id a stream opens with before
 * any decision) is a position too; a longer one no server mints. The bound of the decisions
 * listing's `before` (contracts/http.ts).
 */
export const eventIdSchema = z
  .string()
  .regex(
    /^(dec|act)_[0-9a-z]{13,21}$/,
    "must be the id of an event this server sent (dec_ or act_ followed by 13 to 21 lowercase letters and digits)",
  );

const TYPES_RULE = "a comma-separated list of: decision, action, deletion, each at most once";

export const eventsQuery = z.object({
  // `.` and `..` too are a 422: no object has either id.
  objectId: addressableObjectIdSchema.optional().describe("Only the events of this object"),
  // Each type once: a list is then 32 characters at most (`decision` 1,500 times over was taken).
  types: z
    .string()
    .regex(/^(decision|action|deletion)(,(decision|action|deletion))*$/, TYPES_RULE)
    .refine((list) => new Set(list.split(",")).size === list.split(",").length, {
      message: TYPES_RULE,
      // A list the pattern refused is told once.
      when: (payload) => payload.issues.length === 0,
    })
    .optional()
    .describe(
      "Which events, comma-separated, each at most once: `decision`, `action`, `deletion` (the default: all three)",
    ),
  lastEventId: eventIdSchema
    .optional()
    .describe("Resume after this event, as the Last-Event-ID header does (the header wins when both are sent)"),
});

/** Decisions read from the store at a time when a client resumes. */
const BACKLOG_PAGE = 200;

export function eventRoutes(app: Hono, { governor, auth, report }: RouteDeps, maxStreams: number): void {
  app.get(
    "/v1/events",
    operation({
      summary: "Follow decisions, actions and deletions as they commit (Server-Sent Events)",
      description:
        "`event: decision` carries a stored decision without its explanation tree (dry runs and quiet timer ticks " +
        "are never sent); `event: action` carries `{id, objectId, decisionId, kind, status, attempts, error?}` " +
        "with status `dispatched`, `retrying`, `confirmed`, `failed` or `superseded` (replaced by a newer " +
        "decision before it reached the driver, sent to a binding the object was rebound from, or a start that " +
        "failed while its object moved on: it is not tried again for an object no longer waking); " +
        "`event: deletion` carries `{objectId, at}` when an object is " +
        "deleted. Each decision's and action's `id:` is its own id (a deletion has none, and is not replayed). " +
        "With `Last-Event-ID` the decisions stored after that event are sent first, in order, " +
        "then live events, with no gap and, from a decision's id, no duplicate (actions are not replayed: a " +
        "replayed decision shows their status now; an action's id resumes after the decision that issued it, " +
        "so decisions taken after that one come again). Without it, and with decisions among the types, the stream " +
        "opens with an `id:` line alone naming the newest decision so far (it dispatches no event, and sets the " +
        "client's last event id), so that a client dropped before a decision came resumes from there. " +
        `A comment line \`: heartbeat\` comes every ${HEARTBEAT_MS / 1000} s. A client that ` +
        `falls more than ${QUEUE_EVENTS} events (or ${QUEUE_BYTES / 1024 / 1024} MiB) behind gets a last ` +
        "`event: overflow` and the stream ends: reconnect with Last-Event-ID. The stream ends when the client " +
        `closes its end of the connection. At most ${maxStreams} streams are open at once (VIGIL_MAX_STREAMS): ` +
        "past that a 503 with Retry-After.",
      tag: "events",
      scope: "read",
      query: eventsQuery,
      headers: { "Last-Event-ID": "Resume after this event (the `id:` of the last event received)" },
      replies: { 200: { description: "An endless text/event-stream", media: "text/event-stream" } },
      problems: {
        503: "as many streams as VIGIL_MAX_STREAMS are open, or the server is shutting down (`Retry-After`)",
      },
    }),
    auth("read"),
    async (c) => {
      const q = queryParams(c, eventsQuery);
      const types = new Set<EventType>(q.types === undefined ? EVENT_TYPES : (q.types.split(",") as EventType[]));
      const resume = lastEventId(c) ?? q.lastEventId;
      const filter = { types, objectId: q.objectId };
      const hub = eventHub(governor);
      const full = () => {
        // At shutdown every stream was ended (main.ts): one that was reading its backlog's first
        // page then joins after, and would hold the drain until its timeout.
        if (hub.ended)
          throw new HttpProblem("unavailable", SHUTTING_DOWN, undefined, { "retry-after": SHUTDOWN_RETRY_AFTER });
        // A stream dropped with `overflow` is open until its client reads that or is cut off.
        if (hub.open >= maxStreams)
          throw new HttpProblem(
            "unavailable",
            `${hub.open} event streams are open, as many as this server serves (VIGIL_MAX_STREAMS); try again later`,
            undefined,
            { "retry-after": STREAMS_RETRY_AFTER },
          );
      };
      full();
      const head = c.req.method === "HEAD";
      // The backlog's first page is read before the stream begins, so that a database that cannot
      // be read is a problem reply (a 503 with Retry-After when it is not reached), not a stream
      // that ends at once. A HEAD reads it too (one decision of it), to answer as the GET would.
      const replay = resume !== undefined && types.has("decision");
      const first = replay ? await governor.decisionsSince(resume, head ? 1 : BACKLOG_PAGE, q.objectId) : [];
      // Again: streams resuming together all passed the first look during their reads, and a
      // shutdown may have begun. From here the stream joins the hub before anything else runs.
      if (replay) full();
      // hono answers HEAD through this handler and drops the body without cancelling it: a
      // stream started for it would stay subscribed with nobody reading. So HEAD is answered here,
      // after the checks a GET passes (the bound on streams, a shutdown, the backlog's read),
      // holding no slot.
      if (head) return c.body(null, 200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const response = streamSSE(c, async (sse) => {
        // Node's response, when served by Node (c.env of @hono/node-server); not in app.request().
        const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
        // Read as the stream joins the hub, with nothing published between: every decision after
        // it comes live.
        const cursor = resume === undefined && types.has("decision") ? governor.newestDecisionId() : null;
        const stream = new EventStream(sse, governor.clock, hub, filter, outgoing);
        // The server keeps a connection the client half-closed (node-server.ts), for replies still
        // due; a stream is never done, so the client's end of the connection ends it, at once
        // rather than at the first heartbeat that fails.
        const socket = outgoing?.socket;
        const hungUp = () => stream.end();
        socket?.once("end", hungUp);
        try {
          await stream.run(
            replay
              ? {
                  from: resume,
                  first,
                  size: BACKLOG_PAGE,
                  read: (after) => governor.decisionsSince(after, BACKLOG_PAGE, q.objectId),
                }
              : undefined,
            cursor,
          );
        } catch (e) {
          // The backlog could not be read: the stream ends, and the client retries from its last event.
          report(e, c.req.method, c.req.path);
        } finally {
          socket?.off("end", hungUp);
        }
      });
      // hono sets `transfer-encoding: chunked` and `connection: keep-alive` whatever the client
      // speaks: Node frames the body, in chunks for HTTP/1.1 and unchunked, ending with the
      // connection, for HTTP/1.0 (which has no chunks, RFC 9112 6.1), and says which itself.
      response.headers.delete("transfer-encoding");
      response.headers.delete("connection");
      return response;
    },
  );
}

/** The Last-Event-ID header, checked (empty: none). */
function lastEventId(c: Context): string | undefined {
  const header = c.req.header("last-event-id");
  if (header === undefined || header === "") return undefined;
  const fields = fieldCount(incomingOf(c), "last-event-id");
  const valid = (id: string) => eventIdSchema.safeParse(id).success;
  if (!valid(header) && sentMoreThanOnce(header, valid, fields))
    throw validationProblem("invalid Last-Event-ID header", [
      {
        path: "$.headers.Last-Event-ID",
        message: `sent more than once (the ids arrive joined as ${JSON.stringify(header.slice(0, 100))}): send one id, the last event's`,
      },
    ]);
  return check(eventIdSchema, header, "Last-Event-ID header", "$.headers.Last-Event-ID");
}
