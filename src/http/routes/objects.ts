// Objects: create or update, read, list, delete.

import type { Hono } from "hono";
import { listObjectsQuery, putObjectSchema } from "../../contracts/api.ts";
import type { RouteDeps } from "../app.ts";
import { HttpProblem } from "../problem.ts";
import { check, objectIdParam, queryParams, readJson } from "../validation.ts";

const notFound = (id: string) => new HttpProblem("not-found", `object "${id}" not found`);

export function objectRoutes(app: Hono, { governor, auth, body }: RouteDeps): void {
  app.get("/v1/objects", auth("read"), async (c) => {
    const q = queryParams(c, listObjectsQuery);
    return c.json(await governor.listObjects(q));
  });

  app.put("/v1/objects/:id", auth("write:objects"), body, async (c) => {
    const id = objectIdParam(c);
    const input = check(putObjectSchema, await readJson(c), "object");
    const { created, object } = await governor.putObject(id, input);
    if (!created) return c.json(object, 200);
    return c.json(object, 201, { location: `/v1/objects/${encodeURIComponent(id)}` });
  });

  app.get("/v1/objects/:id", auth("read"), (c) => {
    const id = objectIdParam(c);
    const object = governor.getObject(id);
    if (!object) throw notFound(id);
    return c.json(object);
  });

  app.delete("/v1/objects/:id", auth("write:objects"), async (c) => {
    const id = objectIdParam(c);
    if (!(await governor.deleteObject(id))) throw notFound(id);
    return c.body(null, 204);
  });
}
