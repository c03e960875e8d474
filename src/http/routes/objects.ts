// Objects: create or update, read, list, delete.

import type { Hono } from "hono";
import { deleteObjectQuery, listObjectsQuery, putObjectSchema } from "../../contracts/http.ts";
import type { ObjectRecord } from "../../core/types.ts";
import type { RouteDeps } from "../deps.ts";
import { HttpProblem } from "../problem.ts";
import { check, objectIdParam, queryParams, readJson } from "../validation.ts";
import { decodeCursor, encodeCursor, objectView } from "../views.ts";

const notFound = (id: string) => new HttpProblem("not-found", `object "${id}" not found`);

export function objectRoutes(app: Hono, { governor, policies, auth, body }: RouteDeps): void {
  /** An object as clients see it, with the version of its policy loaded now. */
  const view = (o: ObjectRecord) => objectView(o, policies.get(o.policy)?.version ?? null);

  app.get("/v1/objects", auth("read"), async (c) => {
    const q = queryParams(c, listObjectsQuery);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const page = await governor.listObjects({ state: q.state, policy: q.policy, limit: q.limit, after });
    const items = page.items.map(view);
    const last = items.at(-1);
    return c.json(page.more && last ? { items, nextCursor: encodeCursor(last.id) } : { items });
  });

  app.put("/v1/objects/:id", auth("write:objects"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(putObjectSchema, await readJson(c), "object");
    const { created, object } = await governor.putObject(id, input);
    if (!created) return c.json(view(object), 200);
    return c.json(view(object), 201, { location: `/v1/objects/${encodeURIComponent(id)}` });
  });

  app.get("/v1/objects/:id", auth("read"), async (c) => {
    const id = objectIdParam(c);
    const object = await governor.getObject(id);
    if (!object) throw notFound(id);
    return c.json(view(object));
  });

  app.delete("/v1/objects/:id", auth("write:objects"), async (c) => {
    const id = objectIdParam(c);
    const q = queryParams(c, deleteObjectQuery);
    if (!(await governor.deleteObject(id, q.compute))) throw notFound(id);
    return c.body(null, 204);
  });
}
