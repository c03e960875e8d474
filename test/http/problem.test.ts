// The one error map: every kind of failure becomes an RFC 9457 problem with a fixed status
// and type, and an unexpected error leaks nothing.

import { readFileSync } from "node:fs";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { HTTPException } from "hono/http-exception";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { VigilError } from "../../src/core/errors.ts";
import { errorResponse, HttpProblem, PROBLEM_BASE, problemResponse, PROBLEMS } from "../../src/http/problem.ts";

async function read(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { type: string; title: string; status: number; detail: string; errors?: unknown };
}

describe("problemResponse", () => {
  test("has every RFC 9457 member and the problem content type", async () => {
    const res = problemResponse("conflict", "it clashed", undefined, { "x-extra": "1" });
    expect(res.status).toBe(409);
    expect(res.headers.get("x-extra")).toBe("1");
    expect(await read(res)).toEqual({
      type: `${PROBLEM_BASE}conflict`,
      title: "Conflict",
      status: 409,
      detail: "it clashed",
    });
  });

  test("validation problems carry errors", async () => {
    const res = problemResponse("validation", "bad", [{ path: "$.a", message: "no" }]);
    expect((await read(res)).errors).toEqual([{ path: "$.a", message: "no" }]);
  });

  test("every slug has a distinct status", () => {
    const statuses = Object.values(PROBLEMS).map((p) => p.status);
    expect(new Set(statuses).size).toBe(statuses.length);
  });

  // A client branches on `type`: README's list is the only place a client reads the names.
  test("README names every type with its status, and no other", () => {
    const readme = readFileSync("README.md", "utf8").replace(/\s+/g, " ");
    const list = /\*\*Problems\*\*: (.*?) - \*\*/.exec(readme)?.[1] ?? "";
    expect(list).toContain(`\`type\` is \`${PROBLEM_BASE}\``);
    const listed = [...list.matchAll(/`([a-z-]+)` \((\d{3})\)/g)].map(([, slug, status]) => [slug, Number(status)]);
    expect(listed).toEqual(
      Object.entries(PROBLEMS)
        .map(([slug, p]) => [slug, p.status])
        .sort((a, b) => Number(a[1]) - Number(b[1])),
    );
  });
});

describe("errorResponse", () => {
  test.each([
    ["not-found", 404, "not-found"],
    ["invalid", 422, "validation"],
    ["conflict", 409, "conflict"],
  ] as const)("VigilError %s -> %i", async (kind, status, slug) => {
    const res = errorResponse(new VigilError(kind, `something ${kind}`));
    expect(res.status).toBe(status);
    const body = await read(res);
    expect(body).toMatchObject({ type: PROBLEM_BASE + slug, status, detail: `something ${kind}` });
  });

  test("an invalid VigilError lists its problems", async () => {
    const res = errorResponse(new VigilError("invalid", "bad facts", [{ path: "$.facts.a", message: "too deep" }]));
    expect((await read(res)).errors).toEqual([{ path: "$.facts.a", message: "too deep" }]);
  });

  test("an invalid VigilError without problems still has an errors array", async () => {
    expect((await read(errorResponse(new VigilError("invalid", "bad")))).errors).toEqual([]);
  });

  test("a ZodError is a 422 with JSON paths", async () => {
    const r = z.strictObject({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" }, c: 1 });
    const res = errorResponse(r.error);
    expect(res.status).toBe(422);
    const paths = ((await read(res)).errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(["$.a.b", "$.c"]);
  });

  test("an HttpProblem keeps its headers", async () => {
    const res = errorResponse(
      new HttpProblem("unauthorized", "who are you", undefined, { "www-authenticate": "Bearer" }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("a hono HTTPException keeps a status we describe", async () => {
    const res = errorResponse(new HTTPException(413, { message: "Payload Too Large" }));
    expect((await read(res)).type).toBe(`${PROBLEM_BASE}too-large`);
  });

  test.each([
    ["an Error", new Error("secret detail at /srv/app.ts:12")],
    ["a TypeError", new TypeError("cannot read properties of undefined (reading 'secret')")],
    ["a thrown string", "secret string"],
    ["an HTTPException we do not describe", new HTTPException(418, { message: "secret teapot" })],
  ])("%s is a bare 500, reported but not leaked", async (_label, error) => {
    const reported: unknown[] = [];
    const res = errorResponse(error, (e) => reported.push(e));
    expect(res.status).toBe(500);
    const text = await res.clone().text();
    expect(text).not.toMatch(/secret|\.ts:|at /);
    expect(await read(res)).toMatchObject({ type: `${PROBLEM_BASE}internal`, status: 500 });
    expect(reported).toEqual([error]);
  });

  test("a database error drizzle wrapped (a read the disk failed) is the 503 it is unwrapped, not a 500", async () => {
    const sqlite = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    const res = errorResponse(new DrizzleQueryError("select 1", [], sqlite));
    expect(res.status).toBe(503);
    expect(await read(res)).toMatchObject({ type: `${PROBLEM_BASE}unavailable`, status: 503 });
  });

  test("a read the database failed says it could not be read, not that a write was refused", async () => {
    const sqlite = () => Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    for (const method of ["GET", "HEAD"]) {
      const body = await read(errorResponse(new DrizzleQueryError("select 1", [], sqlite()), () => {}, method));
      expect(body.status).toBe(503);
      expect(body.detail).toMatch(/^the database could not be read for now \(/);
      expect(body.detail).not.toContain("write");
    }
    for (const method of ["POST", "PUT", "DELETE", undefined]) {
      const body = await read(errorResponse(sqlite(), () => {}, method));
      expect(body.detail).toMatch(/^the database refused the write for now \(.*\); nothing was changed/);
    }
  });
});
