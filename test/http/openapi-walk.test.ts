// The served OpenAPI document walked against the server it describes: every operation is sent,
// over real HTTP on a port of its own (both doors, as main.ts serves), a request as it should be
// and requests wrong in each way the document names (a query parameter of the wrong form, an id
// that is not one, a body of the wrong content type, not JSON, of the wrong shape, none); each
// reply's status must be one the operation lists, and its media type one listed for that status
// (none where it lists no content).

import { afterAll, beforeAll, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { required: boolean; content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>> };

let served: Awaited<ReturnType<typeof servedDoors>>;
let doc: Doc;
beforeAll(async () => {
  served = await servedDoors([], 1 << 20);
  doc = (await (await fetch(`http://127.0.0.1:${served.port}/openapi.json`)).json()) as Doc;
});
afterAll(() => served.close());

/** A path of the document with its parameters filled in; the object's id unless `id` says otherwise. */
function concrete(template: string, id: string): string {
  return template
    .replace("/v1/decisions/{id}", "/v1/decisions/dec_0000000000000")
    .replace("{name}", template.startsWith("/ui/assets") ? "api.js" : "queue-worker")
    .replace("{id}", id);
}

interface Case {
  what: string;
  path: string;
  body?: string;
  contentType?: string;
}

/** The requests each operation is sent. */
function cases(template: string, op: Operation, id: string): Case[] {
  const path = concrete(template, id);
  const out: Case[] = [{ what: "as it is", path }];
  const query = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
  if (query.length > 0)
    out.push({
      what: "each query parameter of the wrong form",
      path: `${path}?${query.map((q) => `${q}=%00`).join("&")}`,
    });
  if (template.includes("{id}") && !template.startsWith("/v1/decisions"))
    out.push({ what: "an id that is not one", path: concrete(template, "not%20an%20id") });
  if (op.requestBody) {
    for (const media of Object.keys(op.requestBody.content)) {
      out.push({ what: `${media}: {}`, path, body: "{}", contentType: media });
      out.push({ what: `${media}: []`, path, body: "[]", contentType: media });
      out.push({ what: `${media}: not JSON`, path, body: "{", contentType: media });
      out.push({ what: `${media}: no body`, path, body: "", contentType: media });
    }
    out.push({ what: "text/plain", path, body: "{}", contentType: "text/plain" });
  }
  return out;
}

const baseType = (value: string) => value.split(";")[0]!.trim().toLowerCase();

test("every operation answers only with the statuses and media types the document lists", async () => {
  const mismatches: string[] = [];
  let sent = 0;
  for (const [template, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      // Each operation on an object of its own (a DELETE deletes it; the others see it as it was made).
      const id = `walk-${sent}`;
      await served.services.governor.putObject(id, { policy: "queue-worker" });
      for (const c of cases(template, op, id)) {
        sent++;
        const res = await fetch(`http://127.0.0.1:${served.port}${c.path}`, {
          method: method.toUpperCase(),
          ...(c.contentType !== undefined ? { headers: { "content-type": c.contentType } } : {}),
          ...(c.body !== undefined ? { body: c.body } : {}),
        });
        const type = res.headers.get("content-type");
        // An event stream never ends: its head is what is checked.
        if (type === "text/event-stream") await res.body?.cancel();
        else await res.arrayBuffer();
        const where = `${method.toUpperCase()} ${c.path} (${c.what}): ${res.status} ${type}`;
        const listed = op.responses[String(res.status)];
        if (listed === undefined) {
          mismatches.push(`${where}: status not listed (${Object.keys(op.responses).join(", ")})`);
          continue;
        }
        const media = Object.keys(listed.content ?? {}).map(baseType);
        if (media.length === 0 ? type !== null : type === null || !media.includes(baseType(type)))
          mismatches.push(`${where}: media type not listed (${media.join(", ") || "none"})`);
      }
    }
  expect(mismatches).toEqual([]);
  // Every operation was sent at least once, and most in several ways.
  expect(sent).toBeGreaterThan(80);
});

// A path parameter sent as a dot segment (`%2E%2E`, which fetch would resolve away, so over a
// raw socket): on the routes under /v1/objects/{id} a 422 at $.id, elsewhere a 400 before any
// route; each must be a status the operation lists.
test("a path parameter that is a dot segment is answered with a status the operation lists", async () => {
  const mismatches: string[] = [];
  let sent = 0;
  for (const [template, ops] of Object.entries(doc.paths)) {
    const param = /\{(id|name)\}/.exec(template)?.[0];
    if (param === undefined) continue;
    for (const [method, op] of Object.entries(ops))
      for (const dots of ["%2E%2E", "%2e", ".."]) {
        sent++;
        const path = template.replace(param, dots);
        const reply = await rawRequest(served.port, { method: method.toUpperCase(), path });
        const where = `${method.toUpperCase()} ${path}: ${reply.status} ${reply.headers["content-type"]}`;
        const listed = op.responses[String(reply.status)];
        if (listed === undefined)
          mismatches.push(`${where}: status not listed (${Object.keys(op.responses).join(", ")})`);
        else if (!Object.keys(listed.content ?? {}).includes(String(reply.headers["content-type"])))
          mismatches.push(`${where}: media type not listed`);
      }
  }
  expect(mismatches).toEqual([]);
  expect(sent).toBeGreaterThan(30);
});
