// Facts: one object's merge patch (with an optional Idempotency-Key), and a batch across
// objects in which each item succeeds or fails on its own.

import type { Context, Hono } from "hono";
import { batchFactsSchema, factsBodySchema, IDEMPOTENCY_KEY_PATTERN } from "../../contracts/http.ts";
import type { Problem } from "../../core/errors.ts";
import type { RouteDeps } from "../deps.ts";
import { validationProblem } from "../problem.ts";
import { check, objectIdParam, readJson } from "../validation.ts";
import { batchItemView, factsView } from "../views.ts";

const KEY_RULE = "1-200 printable ASCII characters, no spaces";

export function factRoutes(app: Hono, { governor, auth, body, report }: RouteDeps): void {
  app.post("/v1/objects/:id/facts", auth("write:facts"), body, async (c) => {
    const id = objectIdParam(c);
    const key = idempotencyKey(c);
    const input = check(factsBodySchema, await readJson(c), "facts");
    const result = await governor.postFacts(id, input.facts, key);
    // A replay answers with the first reply, byte for byte the same body; the header tells.
    if (result.replayed) c.header("idempotent-replayed", "true");
    return c.json(factsView(result));
  });

  app.post("/v1/facts", auth("write:facts"), body, async (c) => {
    const input = check(batchFactsSchema, await readJson(c), "batch");
    // A malformed key is a client bug in the request's shape, like a missing field: the
    // whole batch is refused. What depends on the objects (unknown id, bad patch) fails
    // per item, inside `results`.
    const problems: Problem[] = [];
    input.items.forEach((item, i) => {
      if (item.idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(item.idempotencyKey))
        problems.push({ path: `$.items[${i}].idempotencyKey`, message: KEY_RULE });
    });
    if (problems.length > 0) throw validationProblem("invalid batch", problems);
    const results = await governor.postFactsBatch(input.items);
    return c.json({ results: results.map((r) => batchItemView(r, (e) => report(e, c.req.method, c.req.path))) });
  });
}

function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined || IDEMPOTENCY_KEY_PATTERN.test(key)) return key;
  throw validationProblem("invalid Idempotency-Key header", [{ path: "$.headers.Idempotency-Key", message: KEY_RULE }]);
}
