// The OpenAPI document: valid OpenAPI 3.1, every route the app serves is in it with its
// problem replies, and the reply schemas it is generated from accept what the server really
// sends (so the document cannot drift from the code).

import { Validator } from "@seriousme/openapi-schema-validator";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { z } from "zod";
import * as replies from "../../src/contracts/api-replies.ts";
import { PROBLEM_BASE, problemBody, PROBLEMS } from "../../src/http/problem.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

type Operation = { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

const document = async () => (await h.call("GET", "/openapi.json")).body as Doc;

/** Every method and path the app routes, as the document spells paths (`{id}`). */
function servedRoutes(app: Harness["app"]): string[] {
  const seen = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path === "/*" || r.path === "/docs") continue;
    seen.add(`${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  }
  return [...seen].sort();
}

const documented = (doc: Doc) =>
  Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))
    .sort();

describe("the document", () => {
  test("is valid OpenAPI 3.1", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test("lists every route the app serves, and nothing else", async () => {
    const doc = await document();
    expect(servedRoutes(h.app).length).toBeGreaterThan(10);
    expect(documented(doc)).toEqual(servedRoutes(h.app));
  });

  // README's Decision paragraph gives the three ways an action ends superseded; the event stream
  // sends an action event for each (substrate-sync.ts), so its description names them all.
  test("the event stream's description gives every way an action is superseded", async () => {
    const doc = (await h.call("GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const text = doc.paths["/v1/events"]!.get!.description ?? "";
    const superseded = /`superseded` \(([^)]*)\)/.exec(text)?.[1] ?? "";
    for (const way of ["a newer decision", "rebound", "no longer waking"]) expect(superseded).toContain(way);
  });

  test("gives every route that takes a token its 401 and 403, as problem details", async () => {
    const doc = await document();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security || op.security.length === 0) continue;
        for (const status of ["401", "403"])
          expect(Object.keys(op.responses[status]?.content ?? {}), `${method} ${path} ${status}`).toEqual([
            "application/problem+json",
          ]);
      }
  });

  test("gives every success reply with a body its media type (text ones too)", async () => {
    const doc = await document();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, reply] of Object.entries(op.responses)) {
          // An OPTIONS reply (the CloudEvents handshake) says everything in its headers.
          if (!status.startsWith("2") || status === "204" || method === "options") continue;
          expect(Object.keys(reply.content ?? {}).length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        }
    const media = (path: string) => Object.keys(doc.paths[path]!.get!.responses["200"]!.content ?? {});
    expect(media("/v1/events")).toEqual(["text/event-stream"]);
    expect(media("/ui")).toEqual(["text/html"]);
    expect(media("/ui/objects/{id}/timeline.svg")).toEqual(["image/svg+xml"]);
    expect(media("/ui/assets/{name}")).toEqual(["text/javascript", "text/css"]);
    expect(media("/openapi.json")).toEqual(["application/json"]);
  });

  test("is served by /docs as an HTML reference that reads /openapi.json", async () => {
    const res = await h.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });

  test("names its icon, as the dashboard's pages do: a browser asks for no /favicon.ico, a 404", async () => {
    const res = await h.app.request("/docs");
    expect(await res.text()).toContain('<link rel="icon" href="data:," />');
    // The page's CSP admits the icon's data: URL.
    expect(res.headers.get("content-security-policy")).toMatch(/img-src [^;]*data:/);
    expect((await h.app.request("/favicon.ico")).status).toBe(404);
  });

  // A client generated from the document branches on `type`: it must know every one the error
  // map can answer with (each reply's type is one of PROBLEMS', problemBody takes only those).
  test("lists every problem type the server can reply with, and no other", async () => {
    const doc = (await document()) as unknown as {
      components: { schemas: { Problem: { properties: { type: { enum?: string[]; description?: string } } } } };
    };
    const type = doc.components.schemas.Problem.properties.type;
    expect(type.enum).toEqual(Object.keys(PROBLEMS).map((slug) => PROBLEM_BASE + slug));
    for (const [slug, { status }] of Object.entries(PROBLEMS))
      expect(type.description).toContain(`${slug} (${status})`);
    expect(replies.problemReply.safeParse(problemBody("headers-too-large", "x")).success).toBe(true);
    expect(replies.problemReply.safeParse({ ...problemBody("internal", "x"), type: "about:blank" }).success).toBe(
      false,
    );
  });

  test("needs no token where the API does", async () => {
    const guarded = await setup({ tokens: TOKEN_CONFIG });
    try {
      expect((await guarded.call("GET", "/openapi.json")).status).toBe(200);
      expect((await guarded.call("GET", "/v1/objects")).status).toBe(401);
      expect((await guarded.call("GET", "/v1/objects", { token: TOKENS.read })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe("the reply schemas accept what the server sends", () => {
  const accepts = (schema: z.ZodType, body: unknown) => {
    const result = schema.safeParse(body);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  };

  test("objects, facts, decisions, what-if, policies, probes and problems", async () => {
    const put = await h.call("PUT", "/v1/objects/w1", { json: { policy: "queue-worker" } });
    expect(put.status).toBe(201);
    accepts(replies.objectReply, put.body);
    const facts = await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { queue: { depth: 3 } } } });
    accepts(replies.factsReply, facts.body);
    const minimal = await h.call("POST", "/v1/objects/w1/facts", {
      json: { facts: { queue: { depth: 0 } } },
      headers: { prefer: "return=minimal" },
    });
    accepts(replies.minimalFactsReply, minimal.body);
    await h.services.advance(5_000);
    accepts(replies.objectReply, (await h.call("GET", "/v1/objects/w1")).body);
    accepts(replies.objectPage, (await h.call("GET", "/v1/objects")).body);
    const decisions = await h.call("GET", "/v1/objects/w1/decisions");
    accepts(replies.decisionPage, decisions.body);
    accepts(replies.decisionReply, (await h.call("GET", `/v1/decisions/${decisions.body.items[0].id}`)).body);
    accepts(
      replies.batchReply,
      (
        await h.call("POST", "/v1/facts", {
          json: {
            items: [
              { objectId: "w1", facts: {} },
              { objectId: "nope", facts: {} },
            ],
          },
        })
      ).body,
    );
    accepts(replies.dryRunReply, (await h.call("POST", "/v1/objects/w1/evaluate", { json: {} })).body);
    const policy = (await h.call("GET", "/v1/policies/queue-worker")).body;
    accepts(replies.policyReply, policy);
    accepts(replies.policyList, (await h.call("GET", "/v1/policies")).body);
    accepts(replies.validateReply, (await h.call("POST", "/v1/policies/validate", { json: policy.document })).body);
    accepts(
      replies.replayReply,
      (await h.call("POST", "/v1/objects/w1/replay", { json: { policy: policy.document } })).body,
    );
    accepts(replies.healthReply, (await h.call("GET", "/healthz")).body);
    accepts(replies.healthReply, (await h.call("GET", "/readyz")).body);
    accepts(replies.problemReply, (await h.call("GET", "/v1/objects/nope")).body);
    accepts(replies.problemReply, (await h.call("POST", "/v1/objects/w1/facts", { json: { facts: [] } })).body);
  });

  test("and refuse what it does not send", () => {
    expect(replies.objectReply.safeParse({ id: "w1" }).success).toBe(false);
    expect(replies.decisionReply.safeParse({ id: "d", outcome: "explode" }).success).toBe(false);
  });
});
