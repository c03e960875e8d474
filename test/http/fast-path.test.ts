// The server's fast path (src/http/fast-path.ts) against the hono app it stands in front of:
// two real sockets, one served as main.ts serves (fast path, then hono), one by hono alone,
// each over its own governor on a virtual clock. The same request must get the same status,
// headers and body from both, and the fast path must be the one that answered it.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import { hostProblem, httpServer } from "../../src/http/node-server.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import { rawBytes, rawRequest, type RawReply, type RawRequest } from "../helpers/raw-http.ts";
import type { TestServices } from "../helpers/services.ts";
import { doors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

const LIMIT = 4096;

interface Side {
  services: TestServices;
  server: Server;
  port: number;
  /** Requests the fast path answered. */
  fast: number;
  reported: unknown[];
}

async function side(tokens: TokenConfig[], withFastPath: boolean, withPolicies = true): Promise<Side> {
  const { services, reported, hono, fast } = await doors(tokens, LIMIT, withPolicies);
  const server = httpServer((req, res) => {
    if (withFastPath && fast(req, res)) s.fast++;
    else void hono(req, res);
  });
  const s: Side = { services, server, port: 0, fast: 0, reported };
  await new Promise<void>((resolve) => s.server.listen(0, "127.0.0.1", resolve));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

async function close(s: Side): Promise<void> {
  s.server.closeAllConnections();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
  await s.services.close();
}

/** A request to one side: PUT unless it says otherwise. */
type Send = Omit<RawRequest, "method"> & { method?: string };

function send(s: Side, r: Send): Promise<RawReply> {
  return rawRequest(s.port, { ...r, method: r.method ?? "PUT" });
}

/**
 * What must be equal: status, the headers that carry meaning, and the body, but for what differs
 * between two governors (decision ids, evaluation times). Each side's Content-Length, if it sends
 * one, must be its body's length.
 */
function comparable(r: RawReply) {
  const pick = ["content-type", "location", "www-authenticate", "allow", "idempotent-replayed"];
  const headers = Object.fromEntries(pick.filter((h) => r.headers[h] !== undefined).map((h) => [h, r.headers[h]]));
  if (r.headers["content-length"] !== undefined)
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.text));
  let body: unknown = r.text;
  try {
    body = JSON.parse(r.text, (k, v) => {
      if (typeof v === "string" && v.startsWith("dec_")) return "dec_*";
      return k === "durationMs" ? 0 : v;
    });
  } catch {
    // not JSON: compared as text
  }
  return { status: r.status, headers, body };
}

let sides: Side[] = [];
afterEach(async () => {
  for (const s of sides) await close(s);
  sides = [];
});

/** A server as main.ts runs it, and hono alone. */
async function pair(tokens: TokenConfig[] = []): Promise<{ lean: Side; hono: Side }> {
  const lean = await side(tokens, true);
  const hono = await side(tokens, false);
  sides.push(lean, hono);
  return { lean, hono };
}

/** Sends the same request to both and expects the same reply; returns the lean side's. */
async function same(p: { lean: Side; hono: Side }, r: Send, answeredFast = true): Promise<RawReply> {
  const before = p.lean.fast;
  const lean = await send(p.lean, r);
  const hono = await send(p.hono, r);
  expect(comparable(lean)).toEqual(comparable(hono));
  expect(p.lean.fast - before).toBe(answeredFast ? 1 : 0);
  return lean;
}

const json = { "content-type": "application/json" };
const body = (v: unknown) => JSON.stringify(v);

describe("PUT /v1/objects/{id} on the fast path answers as hono does", () => {
  test("201 with Location for a new object, 200 for an existing one", async () => {
    const p = await pair();
    const created = await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "queue-worker" }) });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe("/v1/objects/w1");
    expect(JSON.parse(created.text)).toMatchObject({ id: "w1", policy: { name: "queue-worker", version: "1" } });
    const updated = await same(p, {
      path: "/v1/objects/w1?ignored=1",
      headers: json,
      body: body({ policy: "queue-worker", substrate: { driver: "simulated", config: {} } }),
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.location).toBeUndefined();
    // A policy change re-evaluates the object; the same memory is no conflict.
    await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "on-demand", memory: {} }) });
  });

  test("takes memory and a binding; the media type may carry parameters; the body may come in chunks", async () => {
    const p = await pair();
    const created = await same(p, {
      path: "/v1/objects/Az09._:-",
      headers: { "content-type": "Application/JSON; charset=utf-8" },
      body: body({
        memory: { queue: { depth: 0 }, tags: ["a"] },
        substrate: { driver: "simulated" },
        policy: "queue-worker",
      }),
    });
    expect(JSON.parse(created.text)).toMatchObject({ memory: { queue: { depth: 0 } }, substrate: { config: {} } });
    await same(p, {
      path: "/v1/objects/w2",
      headers: { "content-type": "application/merge-patch+json" },
      body: ['{"policy":', '"on-demand"}'],
    });
  });

  test("400: an empty body, a body that is not JSON", async () => {
    const p = await pair();
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: "" })).status).toBe(400);
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: "{policy" })).status).toBe(400);
    expect((await same(p, { path: "/v1/objects/w1", headers: json })).status).toBe(400);
  });

  test("404 and 405 for what is not this route are left to hono", async () => {
    const p = await pair();
    for (const path of ["/v1/objects/a/b", "/v1/objects/", "/v1/objects/a%20b", "/v1/objects/a/"])
      await same(p, { path, headers: json, body: body({ policy: "queue-worker" }) }, false);
    expect((await same(p, { path: "/v1/objects/a/b", headers: json, body: "{}" }, false)).status).toBe(404);
    expect((await same(p, { method: "PATCH", path: "/v1/objects/a", headers: json, body: "{}" }, false)).status).toBe(
      405,
    );
  });

  test("409: the memory of an existing object changes only through facts", async () => {
    const p = await pair();
    await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "queue-worker" }) });
    const conflict = await same(p, {
      path: "/v1/objects/w1",
      headers: json,
      body: body({ policy: "queue-worker", memory: { other: 1 } }),
    });
    expect(conflict.status).toBe(409);
  });

  test("412: If-None-Match: * on an existing object, If-Match: * on a missing one, If-Match with tags", async () => {
    const p = await pair();
    const w1 = { path: "/v1/objects/w1", body: body({ policy: "queue-worker" }) };
    expect((await same(p, { ...w1, headers: { ...json, "if-match": "*" } })).status).toBe(412);
    expect((await same(p, { ...w1, headers: { ...json, "if-none-match": "*" } })).status).toBe(201);
    expect((await same(p, { ...w1, headers: { ...json, "if-none-match": "*" } })).status).toBe(412);
    expect((await same(p, { ...w1, headers: { ...json, "if-match": '"v1"' } })).status).toBe(412);
    expect((await same(p, { ...w1, headers: { ...json, "if-match": "*" } })).status).toBe(200);
  });

  test("413: over the limit by Content-Length or as it comes, before any other check", async () => {
    const p = await pair();
    const big = body({ policy: "queue-worker", memory: { pad: "x".repeat(LIMIT) } });
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: big })).status).toBe(413);
    const chunks = [big.slice(0, 1000), big.slice(1000, 3000), big.slice(3000)];
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: chunks })).status).toBe(413);
    const text = { "content-type": "text/plain" };
    expect((await same(p, { path: "/v1/objects/w1", headers: text, body: big })).status).toBe(413);
    expect((await same(p, { path: "/v1/objects/w1", headers: text, body: chunks })).status).toBe(413);
    // The connection serves the next request.
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "on-demand" }) })).status).toBe(
      201,
    );
  });

  test("415: a body that is not sent as JSON", async () => {
    const p = await pair();
    const b = body({ policy: "queue-worker" });
    expect((await same(p, { path: "/v1/objects/w1", headers: { "content-type": "text/plain" }, body: b })).status).toBe(
      415,
    );
    expect((await same(p, { path: "/v1/objects/w1", body: b })).status).toBe(415);
  });

  test.each([
    ["a missing policy", {}],
    ["an empty policy", { policy: "" }],
    ["a policy that is not a string", { policy: 7 }],
    ["a policy that is not loaded", { policy: "no-such-policy" }],
    ["an unknown property", { policy: "queue-worker", color: "red" }],
    ["memory that is an array", { policy: "queue-worker", memory: [1] }],
    ["memory that is null", { policy: "queue-worker", memory: null }],
    ["a forbidden key in memory", { policy: "queue-worker", memory: { a: { constructor: 1 } } }],
    [
      "memory nested too deep",
      { policy: "queue-worker", memory: JSON.parse(`${'{"a":'.repeat(20)}1${"}".repeat(20)}`) },
    ],
    ["an unknown driver", { policy: "queue-worker", substrate: { driver: "warp", config: {} } }],
    ["a binding without a driver", { policy: "queue-worker", substrate: { config: {} } }],
    ["a binding with an empty driver", { policy: "queue-worker", substrate: { driver: "" } }],
    ["a config that is not an object", { policy: "queue-worker", substrate: { driver: "simulated", config: 3 } }],
    ["an unknown binding property", { policy: "queue-worker", substrate: { driver: "simulated", x: 1 } }],
    ["an invalid process config", { policy: "queue-worker", substrate: { driver: "simulated", config: { a: 1 } } }],
    ["a body that is an array", [{ policy: "queue-worker" }]],
    ["a body that is null", null],
    ["a body that is a string", "queue-worker"],
  ])("422: %s", async (_label, value) => {
    const p = await pair();
    const reply = await same(p, { path: "/v1/objects/w1", headers: json, body: body(value) });
    // A binding's config is the driver's to judge: the simulated one takes any object.
    if (_label !== "an invalid process config") expect(reply.status).toBe(422);
    expect(await p.lean.services.governor.getObject("w1")).toEqual(await p.hono.services.governor.getObject("w1"));
  });

  test("422: an id out of the alphabet or too long is left to hono", async () => {
    const p = await pair();
    const b = body({ policy: "queue-worker" });
    expect((await same(p, { path: `/v1/objects/${"x".repeat(129)}`, headers: json, body: b }, false)).status).toBe(422);
    expect((await same(p, { path: "/v1/objects/%C3%A9", headers: json, body: b }, false)).status).toBe(422);
  });

  test("without tokens: only loopback hosts and origins", async () => {
    const p = await pair();
    const b = body({ policy: "queue-worker" });
    const evil = await same(p, { path: "/v1/objects/w1", headers: json, body: b, host: "evil.example" });
    expect(evil.status).toBe(403);
    const origin = { ...json, origin: "http://evil.example" };
    expect((await same(p, { path: "/v1/objects/w1", headers: origin, body: b })).status).toBe(403);
    // A Host the fast path does not parse goes to hono, which refuses it the same way.
    expect(
      (await same(p, { path: "/v1/objects/w1", headers: json, body: b, host: "EVIL.example" }, false)).status,
    ).toBe(403);
    const local = { ...json, origin: "http://localhost:3000" };
    expect((await same(p, { path: "/v1/objects/w1", headers: local, body: b, host: "localhost:8080" })).status).toBe(
      201,
    );
    // A loopback Host seen before does not let a foreign one, or a foreign origin, through.
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: b })).status).toBe(200);
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: b, host: "evil.example" })).status).toBe(403);
    expect((await same(p, { path: "/v1/objects/w1", headers: origin, body: b })).status).toBe(403);
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: b })).status).toBe(200);
  });

  test("with tokens: 401 without or with an unknown token, 403 without write:objects, else served", async () => {
    const p = await pair(TOKEN_CONFIG);
    const b = body({ policy: "queue-worker" });
    const as = (token: string) => ({ ...json, authorization: `Bearer ${token}` });
    expect((await same(p, { path: "/v1/objects/w1", headers: json, body: b })).status).toBe(401);
    expect((await same(p, { path: "/v1/objects/w1", headers: as("not-a-token-0123456789"), body: b })).status).toBe(
      401,
    );
    expect((await same(p, { path: "/v1/objects/w1", headers: as(TOKENS.facts), body: b })).status).toBe(403);
    expect((await same(p, { path: "/v1/objects/w1", headers: as(TOKENS.read), body: b })).status).toBe(403);
    expect((await same(p, { path: "/v1/objects/w1", headers: as(TOKENS.objects), body: b })).status).toBe(201);
    expect((await same(p, { path: "/v1/objects/w1", headers: as(TOKENS.admin), body: b })).status).toBe(200);
    // With tokens, any Host is served.
    const other = await same(p, { path: "/v1/objects/w2", headers: as(TOKENS.admin), body: b, host: "vigil.internal" });
    expect(other.status).toBe(201);
  });

  test("an unexpected error is a bare 500, reported", async () => {
    const p = await pair();
    const boom = () => Promise.reject(new Error("disk on fire"));
    p.lean.services.governor.putObject = boom;
    p.hono.services.governor.putObject = boom;
    const reply = await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "queue-worker" }) });
    expect(reply.status).toBe(500);
    expect(reply.text).not.toContain("disk on fire");
    expect(p.lean.reported).toHaveLength(1);
    expect(p.hono.reported).toHaveLength(1);
  });

  test("without the policy registry the fast path leaves PUT to hono", async () => {
    const lean = await side([], true, false);
    sides.push(lean);
    const reply = await send(lean, { path: "/v1/objects/w1", headers: json, body: body({ policy: "queue-worker" }) });
    expect(reply.status).toBe(201);
    expect(lean.fast).toBe(0);
  });
});

describe("requests hono's adapter reads its own way", () => {
  test("an id of `.` or `..` is a dot segment: left to hono's side, which refuses it as an id", async () => {
    const p = await pair();
    for (const path of ["/v1/objects/.", "/v1/objects/.."])
      await same(p, { path, headers: json, body: body({ policy: "queue-worker" }) }, false);
    for (const path of ["/v1/objects/./facts", "/v1/objects/../facts"])
      await same(p, { method: "POST", path, headers: json, body: body({ facts: {} }) }, false);
    expect((await send(p.lean, { path: "/v1/objects/..", headers: json, body: "{}" })).status).toBe(422);
  });

  test("a header sent twice is left to hono, which joins the values", async () => {
    const p = await pair();
    const twice = { "content-type": ["application/json", "text/plain"] };
    expect(
      (await same(p, { path: "/v1/objects/w1", headers: twice, body: body({ policy: "queue-worker" }) }, false)).status,
    ).toBe(415);
  });

  test("a port past 65535 in Host is left to hono", async () => {
    const p = await pair();
    await same(p, { path: "/v1/objects/w1", host: "localhost:99999", headers: json, body: "{}" }, false);
  });

  test("a Host no URL can be made of (a malformed IPv4 address) is a 400 problem from both, on every route", async () => {
    for (const tokens of [[], TOKEN_CONFIG]) {
      const p = await pair(tokens);
      const auth: Record<string, string> = tokens.length > 0 ? { authorization: `Bearer ${TOKENS.admin}` } : {};
      // `0x7f.1` and `LOCALHOST.` stand for what a URL reads another way (127.0.0.1): refused
      // on every port, as the adapter refuses them on some.
      for (const host of [
        "1.2.3.4.5",
        "256.0.0.1",
        "localhost.99999",
        "xn--a",
        "a.xn--",
        "0x7f.1:443",
        "0x7f.1:8080",
        "2130706433",
      ]) {
        const put = await same(p, { path: "/v1/objects/w1", host, headers: { ...json, ...auth }, body: "{}" }, false);
        expect(put.status).toBe(400);
        expect(put.headers["content-type"]).toBe("application/problem+json");
        for (const path of ["/healthz", "/v1/objects"]) {
          const get = await send(p.lean, { method: "GET", path, host, headers: auth });
          expect({ host, path, status: get.status }).toEqual({ host, path, status: 400 });
        }
      }
      expect(p.lean.reported).toEqual([]);
      expect(p.hono.reported).toEqual([]);
    }
  });

  test("a loopback address written otherwise than a URL writes it is refused, saying how to write it", async () => {
    const p = await pair();
    for (const [host, written] of [
      ["[0:0:0:0:0:0:0:1]", "[::1]"],
      ["[::ffff:127.0.0.1]:8080", "[::ffff:7f00:1]:8080"],
      ["0x7f.1", "127.0.0.1"],
      ["0x7f.0.0.1:8080", "127.0.0.1:8080"],
      ["2130706433", "127.0.0.1"],
    ]) {
      const put = await same(p, { path: "/v1/objects/w1", host: host!, headers: json, body: "{}" }, false);
      expect(put.status).toBe(400);
      expect(JSON.parse(put.text).detail).toBe(
        `the Host header ${JSON.stringify(host)} is not written as a URL writes it: send ${JSON.stringify(written)}`,
      );
    }
    // Nor a host's name with a user, a path or a fragment: no host of its own is named.
    for (const host of ["good.com:80@evil.com", "example.com/admin", "user@example.com", "a.com#b"])
      expect(hostProblem(host)).toBe(`the Host header ${JSON.stringify(host)} is not a host name or address`);
  });

  test("a Host the adapter cannot take (a space, a %, an open bracket) or none on HTTP/1.1 is a 400 problem, on every route", async () => {
    const p = await pair();
    for (const host of ["a b", "a%b", "[::1", "127.0.0.1:80 x"]) {
      const put = await same(p, { path: "/v1/objects/w1", host, headers: json, body: "{}" }, false);
      const get = await send(p.lean, { method: "GET", path: "/v1/objects", host });
      for (const reply of [put, get]) {
        expect({ host, status: reply.status, type: reply.headers["content-type"] }).toEqual({
          host,
          status: 400,
          type: "application/problem+json",
        });
        expect(JSON.parse(reply.text)).toMatchObject({ type: `${PROBLEM_BASE}malformed-request`, status: 400 });
      }
    }
    // (HTTP/1.0 may have no Host: test/http/http10-no-host.test.ts.)
    const reply = await rawBytes(p.lean.port, `POST /v1/objects/w1/facts HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}`);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain("application/problem+json");
    expect(reply).toContain("the request has no Host header");
    expect(await p.lean.services.governor.getObject("w1")).toBeNull();
    expect(p.lean.reported).toEqual([]);
  });

  test("bytes Node's parser refuses get a problem too: 400 for a broken request line, 431 for headers or a URL too large", async () => {
    const p = await pair();
    const broken = await rawBytes(p.lean.port, "GET /v1/objects HTTP/1.1 extra\r\nhost: 127.0.0.1\r\n\r\n");
    expect(broken).toMatch(/^HTTP\/1\.1 400 Malformed request\r\n/);
    expect(JSON.parse(broken.slice(broken.indexOf("\r\n\r\n") + 4))).toMatchObject({
      type: `${PROBLEM_BASE}malformed-request`,
      status: 400,
    });
    const big = await rawBytes(
      p.lean.port,
      `GET /v1/objects HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    // Every reply has a request id (README, "Logs"), a new one for bytes no header was read from.
    for (const reply of [broken, big]) expect(reply).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    expect(JSON.parse(big.slice(big.indexOf("\r\n\r\n") + 4))).toMatchObject({
      type: `${PROBLEM_BASE}headers-too-large`,
      status: 431,
    });
    // A 20 KB URL overflows the same limit (it counts the request line): the detail said
    // "headers" alone, which a client with a few short headers could not make sense of.
    const long = await rawBytes(
      p.lean.port,
      `GET /v1/objects/${"a".repeat(20_000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`,
    );
    expect(long).toMatch(/^HTTP\/1\.1 431 /);
    expect(long).toContain("\r\ncontent-type: application/problem+json\r\n");
    expect(JSON.parse(long.slice(long.indexOf("\r\n\r\n") + 4))).toEqual({
      type: `${PROBLEM_BASE}headers-too-large`,
      title: "Request header fields too large",
      status: 431,
      detail: "the request's line and headers are larger than the server reads: 16 KiB together, the URL included",
    });
  });

  test("a body that is not UTF-8 is a 400 from both (after the content type), and changes nothing", async () => {
    const p = await pair();
    await same(p, { path: "/v1/objects/w1", headers: json, body: body({ policy: "queue-worker" }) });
    for (const door of [p.lean, p.hono]) await door.services.governor.postFacts("w1", { s: "before" });
    const bad = Buffer.concat([Buffer.from('{"facts":{"s":"'), Buffer.from([0xff]), Buffer.from('"}}')]);
    const reply = await same(p, { method: "POST", path: "/v1/objects/w1/facts", headers: json, body: bad });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).detail).toContain("not valid UTF-8");
    const wrongType = await same(p, {
      method: "POST",
      path: "/v1/objects/w1/facts",
      headers: { "content-type": "text/plain" },
      body: bad,
    });
    expect(wrongType.status).toBe(415);
    for (const door of [p.lean, p.hono])
      expect((await door.services.governor.getObject("w1"))!.memory).toEqual({ s: "before" });
  });

  test("a body that starts with two byte order marks: only the first is taken off, by both", async () => {
    const p = await pair();
    const put = await same(p, {
      path: "/v1/objects/w1",
      headers: json,
      body: `\uFEFF\uFEFF${body({ policy: "queue-worker" })}`,
    });
    expect(put.status).toBe(400);
  });

  test("a body that starts with a byte order mark is read without it, as hono reads it", async () => {
    const p = await pair();
    const put = await same(p, {
      path: "/v1/objects/w1",
      headers: json,
      body: `\uFEFF${body({ policy: "queue-worker" })}`,
    });
    expect(put.status).toBe(201);
    const facts = { method: "POST", path: "/v1/objects/w1/facts", headers: json };
    expect((await same(p, { ...facts, body: ["\uFEFF", body({ facts: { queue: { depth: 0 } } })] })).status).toBe(200);
  });
});

describe("POST /v1/objects/{id}/facts on the fast path answers as hono does", () => {
  test("200, and the problems of its checks", async () => {
    const p = await pair();
    for (const s of [p.lean, p.hono]) await s.services.governor.putObject("w1", { policy: "queue-worker" });
    const facts = (v: unknown, headers: Record<string, string> = json) => ({
      method: "POST",
      path: "/v1/objects/w1/facts",
      headers,
      body: body(v),
    });
    expect((await same(p, facts({ facts: { queue: { depth: 0 } } }))).status).toBe(200);
    expect((await same(p, { ...facts({ facts: {} }), path: "/v1/objects/ghost/facts" })).status).toBe(404);
    expect((await same(p, facts({ facts: 1 }))).status).toBe(422);
    expect((await same(p, facts({ facts: {} }, { "content-type": "text/plain" }))).status).toBe(415);
    expect((await same(p, facts({ facts: { pad: "x".repeat(LIMIT) } }))).status).toBe(413);
    const key = (k: string) => ({ ...json, "idempotency-key": k });
    expect((await same(p, facts({ facts: { n: 1 } }, key("k1")))).status).toBe(200);
    expect((await same(p, facts({ facts: { n: 1 } }, key("k1")))).headers["idempotent-replayed"]).toBe("true");
    expect((await same(p, facts({ facts: { n: 2 } }, key("k1")))).status).toBe(409);
    expect((await same(p, facts({ facts: { n: 1 } }, key("a key")))).status).toBe(422);
    const minimal = await same(p, facts({ facts: { n: 3 } }, { ...json, prefer: "return=minimal" }));
    expect(minimal.headers["preference-applied"]).toBe("return=minimal");
  });

  test("a body over the limit is a 413 before the content type, the key or the id are looked at", async () => {
    const p = await pair();
    const big = body({ facts: { pad: "x".repeat(LIMIT) } });
    const chunks = [big.slice(0, 2000), big.slice(2000)];
    const post = (headers: Record<string, string>, b: string | string[], path = "/v1/objects/w1/facts") => ({
      method: "POST",
      path,
      headers,
      body: b,
    });
    for (const b of [big, chunks]) {
      expect((await same(p, post({ "content-type": "text/plain" }, b))).status).toBe(413);
      expect((await same(p, post({ ...json, "idempotency-key": "a key" }, b))).status).toBe(413);
      expect((await same(p, post(json, b, "/v1/objects/ghost/facts"))).status).toBe(413);
    }
  });
});
