// Objects: create or update, read, list, delete. PUT runs through `putObjectEndpoint`, the one
// implementation behind both this route and the server's fast path for it (fast-path.ts).

import type { Hono } from "hono";
import { deleteObjectQuery, listObjectsQuery, putObjectSchema } from "../../contracts/http.ts";
import { checkPrecondition } from "../../core/errors.ts";
import { isPlainObject } from "../../core/json.ts";
import { OBJECT_ID_PATTERN } from "../../core/object.ts";
import type { ObjectRecord } from "../../core/types.ts";
import type { GovernorApi, PoliciesApi, PutObjectInput, SubstrateRequest } from "../../governor/services.ts";
import { requestSeesSecrets } from "../auth.ts";
import type { RouteDeps } from "../deps.ts";
import type { Reply } from "../facts-endpoint.ts";
import { JsonPage } from "../json-page.ts";
import { HttpProblem } from "../problem.ts";
import { objectPage, objectReply } from "../../contracts/api-replies.ts";
import { operation } from "../openapi.ts";
import {
  bodyText,
  check,
  jsonMediaType,
  objectIdParam,
  parseJsonBody,
  preconditionOf,
  queryParams,
} from "../validation.ts";
import { decodeCursor, encodeCursor, objectView } from "../views.ts";

const notFound = (id: string) => new HttpProblem("not-found", `object "${id}" not found`);

export function objectRoutes(app: Hono, { governor, policies, auth, body }: RouteDeps): void {
  /** An object as clients see it, with the version of its policy loaded now. */
  const view = (o: ObjectRecord, secrets: boolean) => objectView(o, policies.get(o.policy)?.version ?? null, secrets);

  app.get(
    "/v1/objects",
    operation({
      summary: "List objects by id, filtered by state and policy",
      tag: "objects",
      scope: "read",
      query: listObjectsQuery,
      replies: { 200: { description: "A page of at most `limit` objects and 4 MiB", schema: objectPage } },
    }),
    auth("read"),
    async (c) => {
      const q = queryParams(c, listObjectsQuery);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const page = await governor.listObjects({ state: q.state, policy: q.policy, limit: q.limit, after });
      const secrets = requestSeesSecrets(c);
      // The page stops before the next item would pass its bytes (json-page.ts); the cursor
      // then goes on after the last item it holds.
      const items = new JsonPage();
      let lastId: string | undefined;
      for (const o of page.items) {
        if (!items.add(view(o, secrets))) break;
        lastId = o.id;
      }
      const cut = items.length < page.items.length;
      // A page that holds every item goes on after the last row read (an object left out, too).
      const next = cut ? lastId : (page.last ?? lastId);
      const cursor =
        (cut || page.more) && next !== undefined ? `,"nextCursor":${JSON.stringify(encodeCursor(next))}` : "";
      return c.body(items.body(cursor), 200, { "content-type": "application/json" });
    },
  );

  // The server answers this route on its fast path (fast-path.ts) when it can; the same
  // endpoint runs here for what the fast path hands over, and for tests through app.request().
  app.put(
    "/v1/objects/:id",
    operation({
      summary: "Create an object, or change its policy or substrate binding",
      tag: "objects",
      scope: "write:objects",
      params: { id: null },
      headers: CONDITIONAL,
      body: { schema: putObjectSchema },
      replies: {
        200: { description: "Updated", schema: objectReply },
        201: {
          description: "Created",
          schema: objectReply,
          headers: { Location: { description: "the object's path", schema: { type: "string" } } },
        },
      },
      problems: {
        409: "the memory differs from the stored memory (memory changes only through facts), or the deletion of an object of this id did not finish (send the DELETE again first)",
        412: "If-Match or If-None-Match does not hold: nothing changed",
        429: "too many requests wait for this object (VIGIL_MAILBOX_LIMIT); see Retry-After",
        503: "rebinding: the old substrate could not stop the compute (or its driver is not enabled), or this server lost its lease; nothing changed",
      },
    }),
    auth("write:objects"),
    body,
    async (c) => {
      const reply = await putObjectEndpoint(governor, policies, {
        id: c.req.param("id"),
        contentType: c.req.header("content-type"),
        ifMatch: c.req.header("if-match"),
        ifNoneMatch: c.req.header("if-none-match"),
        body: () => bodyText(c),
      });
      return c.body(reply.body, reply.status as 200 | 201, reply.headers);
    },
  );

  app.get(
    "/v1/objects/:id",
    operation({
      summary: "One object: state, memory, substrate, timers",
      tag: "objects",
      scope: "read",
      params: { id: null },
      replies: { 200: { description: "The object", schema: objectReply } },
      problems: { 404: "no such object" },
    }),
    auth("read"),
    async (c) => {
      const id = objectIdParam(c);
      const object = await governor.getObject(id);
      if (!object) throw notFound(id);
      return c.json(view(object, requestSeesSecrets(c)));
    },
  );

  app.delete(
    "/v1/objects/:id",
    operation({
      summary: "Delete an object; its compute is stopped first unless compute=keep",
      tag: "objects",
      scope: "write:objects",
      params: { id: null },
      query: deleteObjectQuery,
      headers: CONDITIONAL,
      replies: { 204: { description: "Deleted" } },
      problems: {
        404: "no such object (whatever If-Match or If-None-Match say)",
        412: "If-Match or If-None-Match does not hold: nothing changed",
        413: "a body over 64 KiB (a DELETE's body is read only to be thrown away: send none)",
        429: "too many requests wait for this object (VIGIL_MAILBOX_LIMIT); see Retry-After",
        503: "the substrate could not stop the compute (or its driver is not enabled), or this server lost its lease: nothing changed; or the deletion of a long history began and did not finish: the object is gone, send the DELETE again to delete the rest",
      },
    }),
    auth("write:objects"),
    async (c) => {
      const id = objectIdParam(c);
      const q = queryParams(c, deleteObjectQuery);
      const precondition = preconditionOf(c.req.header("if-match"), c.req.header("if-none-match"));
      if (!(await governor.deleteObject(id, q.compute, precondition))) throw notFound(id);
      return c.body(null, 204);
    },
  );
}

export interface PutObjectRequest {
  /** The path's id, as the router took it. */
  id: string;
  contentType: string | undefined;
  /** The conditional request headers (preconditionOf). */
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  /** Reads the body once the id and the content type passed (a 415 is answered without it). */
  body: () => Promise<string>;
}

/**
 * PUT /v1/objects/{id} once the request is authorized and within the body limit: 201 with
 * Location for a new object, 200 for an existing one. Throws HttpProblem or VigilError for the
 * one error map to answer.
 */
export async function putObjectEndpoint(
  governor: GovernorApi,
  policies: PoliciesApi,
  req: PutObjectRequest,
): Promise<Reply> {
  // The pattern first: zod is only needed to word the problem.
  const id = OBJECT_ID_PATTERN.test(req.id) ? req.id : objectIdParam(req.id);
  const type = jsonMediaType(req.contentType);
  const precondition = preconditionOf(req.ifMatch, req.ifNoneMatch);
  // One that cannot hold fails before the body is read (RFC 9110 13.2.1).
  if (precondition === "never") checkPrecondition(precondition, id, true);
  const input = putInputOf(parseJsonBody(type, await req.body()));
  const { created, object } = await governor.putObject(id, input, precondition);
  // Whoever may PUT (write:objects, admin, anyone without tokens) sees the config's secrets.
  const body = JSON.stringify(objectView(object, policies.get(object.policy)?.version ?? null, true));
  if (!created) return { status: 200, headers: { "content-type": "application/json" }, body };
  return {
    status: 201,
    headers: { "content-type": "application/json", location: `/v1/objects/${encodeURIComponent(id)}` },
    body,
  };
}

/** The conditional request headers PUT and DELETE take, as the API document lists them. */
const CONDITIONAL = {
  "If-Match": "`*`: only if the object exists (objects carry no entity tags: any other value is a 412)",
  "If-None-Match": "`*`: only if no object has this id (`*` among other members too; entity tags alone are ignored)",
};

const PUT_KEYS = new Set(["policy", "substrate", "memory"]);
const SUBSTRATE_KEYS = new Set(["driver", "config"]);

/** True when every own key of `o` is one of `keys`. */
function onlyKeys(o: object, keys: ReadonlySet<string>): boolean {
  for (const k in o) if (!keys.has(k)) return false;
  return true;
}

/**
 * `{policy, substrate?: {driver, config?}, memory?}` as putObjectSchema reads it, checked without
 * zod for the common shapes (the body already passed parseJsonBody's structural guard, so its
 * values are JSON); zod words what is wrong otherwise.
 */
function putInputOf(body: unknown): PutObjectInput {
  if (isPlainObject(body) && typeof body.policy === "string" && body.policy !== "" && onlyKeys(body, PUT_KEYS)) {
    const { substrate, memory } = body;
    const binding = substrate === undefined ? undefined : substrateOf(substrate);
    if ((memory === undefined || isPlainObject(memory)) && binding !== null) {
      const input: PutObjectInput = { policy: body.policy };
      if (binding) input.substrate = binding;
      if (memory !== undefined) input.memory = memory;
      return input;
    }
  }
  return check(putObjectSchema, body, "object");
}

/** `{driver, config?}` with config defaulting to `{}`, or null for any other shape. */
function substrateOf(s: unknown): SubstrateRequest | null {
  if (!isPlainObject(s) || typeof s.driver !== "string" || s.driver === "" || !onlyKeys(s, SUBSTRATE_KEYS)) return null;
  if (s.config === undefined) return { driver: s.driver, config: {} };
  return isPlainObject(s.config) ? { driver: s.driver, config: s.config } : null;
}
