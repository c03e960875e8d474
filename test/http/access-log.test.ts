// Request ids and access lines over a real socket, for both doors of the server: a listener
// composed as main.ts composes it (the fast path, then the hono app, behind withAccessLog), on
// a governor with a virtual clock; and the real server (startServer) for its wiring, where no
// token and no `env` value may ever reach a log line. The line of a request its client left
// before the reply was done says so, and names no status that was never sent.

import { getRequestListener } from "@hono/node-server";
import http, { type Server, type ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { requestId, tokenNamer, withAccessLog } from "../../src/http/access-log.ts";
import { createApp } from "../../src/http/app.ts";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { createLogger, type Level } from "../../src/log.ts";
import { startServer } from "../../src/main.ts";
import { rawRequest, type RawReply } from "../helpers/raw-http.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { TOKEN_CONFIG, TOKENS } from "./harness.ts";

type Line = Record<string, unknown>;

/** Log lines as they are written, and a wait for one (no sleeping: it resolves when written). */
class Lines {
  readonly all: Line[] = [];
  private waiting: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];

  write = (text: string): void => {
    const line = JSON.parse(text) as Line;
    this.all.push(line);
    for (const w of this.waiting.filter((x) => x.match(line))) w.resolve(line);
    this.waiting = this.waiting.filter((x) => !x.match(line));
  };

  /** The access line of the request with this id, once written. */
  request(id: string): Promise<Line> {
    const match = (l: Line) => l.msg === "request" && l.requestId === id;
    const seen = this.all.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiting.push({ match, resolve }));
  }

  get text(): string {
    return this.all.map((l) => JSON.stringify(l)).join("\n");
  }
}

/** A request to the server on `port`; a body is sent as JSON. */
function send(
  port: number,
  r: { method: string; path: string; headers?: Record<string, string>; body?: unknown },
): Promise<RawReply> {
  if (r.body === undefined) return rawRequest(port, { method: r.method, path: r.path, headers: r.headers });
  const headers = { ...r.headers, "content-type": "application/json" };
  return rawRequest(port, { method: r.method, path: r.path, headers, body: JSON.stringify(r.body) });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Composed {
  services: TestServices;
  server: Server;
  port: number;
  lines: Lines;
  /** Requests the fast path answered. */
  fast: number;
  close(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** The listener main.ts builds, over test services: the fast path, else hono, behind the access log. */
async function composed(level: Level = "info"): Promise<Composed> {
  const services = await makeServices({ tokens: TOKEN_CONFIG });
  const lines = new Lines();
  const log = createLogger(level, lines.write);
  const app = createApp({
    governor: services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens: TOKEN_CONFIG,
  });
  const hono = getRequestListener(app.fetch);
  const fast = factsFastPath({
    governor: services.governor,
    policies: services.policies,
    tokens: TOKEN_CONFIG,
    bodyLimitBytes: 1 << 20,
    report: () => {},
  });
  const c = { services, lines, fast: 0 } as Composed;
  c.server = http.createServer(
    withAccessLog(
      (req, res) => {
        if (fast(req, res)) c.fast++;
        else void hono(req, res);
      },
      { log, tokens: TOKEN_CONFIG },
    ),
  );
  await new Promise<void>((resolve) => c.server.listen(0, "127.0.0.1", resolve));
  c.port = (c.server.address() as AddressInfo).port;
  let closed = false;
  // Closing waits for every connection, so every reply's access line has been written.
  c.close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => c.server.close(() => resolve()));
    await services.close();
  };
  closers.push(() => c.close());
  return c;
}

describe("request ids", () => {
  test.each([
    ["client-7f3a", true],
    ["a".repeat(128), true],
    ["with spaces and punctuation: ~!@#$%^&*()", true],
    ["a".repeat(129), false],
    ["caf\u00e9", false],
    ["", false],
  ])("%j is kept: %s", (given, kept) => {
    const id = requestId(given);
    if (kept) expect(id).toBe(given);
    else expect(id).toMatch(UUID);
  });

  test("a repeated header (an array) is not kept; none gives a new id each time", () => {
    expect(requestId(["a", "b"])).toMatch(UUID);
    expect(requestId(undefined)).not.toBe(requestId(undefined));
  });

  test("a token is known by its name; an unknown or malformed header by none", () => {
    const nameOf = tokenNamer(TOKEN_CONFIG);
    expect(nameOf(`Bearer ${TOKENS.read}`)).toBe("reader");
    expect(nameOf(`bearer  ${TOKENS.admin} `)).toBe("ops");
    expect(nameOf("Bearer not-a-configured-token")).toBeUndefined();
    expect(nameOf(TOKENS.read)).toBeUndefined();
    expect(nameOf(undefined)).toBeUndefined();
    expect(tokenNamer([])(`Bearer ${TOKENS.read}`)).toBeUndefined();
  });
});

describe("access lines, over a socket, on both doors", () => {
  test("the fast path: the client's id is echoed, and one line names the token, never shows it", async () => {
    const c = await composed();
    const put = await send(c.port, {
      method: "PUT",
      path: "/v1/objects/w1",
      headers: { ...bearer(TOKENS.objects), "x-request-id": "deploy-42" },
      body: { policy: "queue-worker" },
    });
    expect(put.status).toBe(201);
    expect(put.headers["x-request-id"]).toBe("deploy-42");
    const post = await send(c.port, {
      method: "POST",
      path: "/v1/objects/w1/facts?x=1",
      headers: { ...bearer(TOKENS.facts), "x-request-id": "ingest-43" },
      body: { facts: { queue: { depth: 2 } } },
    });
    expect(post.status).toBe(200);
    expect(post.headers["x-request-id"]).toBe("ingest-43");
    expect(c.fast).toBe(2);
    expect(await c.lines.request("deploy-42")).toMatchObject({
      level: "info",
      method: "PUT",
      path: "/v1/objects/w1",
      status: 201,
      tokenName: "deployer",
    });
    const line = await c.lines.request("ingest-43");
    expect(line).toMatchObject({ level: "info", method: "POST", path: "/v1/objects/w1/facts", status: 200 });
    expect(line.tokenName).toBe("ingest");
    expect(typeof line.ms).toBe("number");
    expect(typeof line.time).toBe("string");
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    await c.close();
    expect(c.lines.text).not.toContain(TOKENS.facts);
    expect(c.lines.text).not.toContain(TOKENS.objects);
  });

  test("the hono app: an id is made when the client sends none or one not sane", async () => {
    const c = await composed();
    const get = await send(c.port, { method: "GET", path: "/v1/objects", headers: bearer(TOKENS.read) });
    expect(get.status).toBe(200);
    const id = get.headers["x-request-id"] as string;
    expect(id).toMatch(UUID);
    expect(await c.lines.request(id)).toMatchObject({
      method: "GET",
      path: "/v1/objects",
      status: 200,
      tokenName: "reader",
    });
    const long = await send(c.port, {
      method: "GET",
      path: "/v1/objects/nope",
      headers: { ...bearer(TOKENS.read), "x-request-id": "x".repeat(200) },
    });
    expect(long.status).toBe(404);
    expect(long.headers["x-request-id"]).toMatch(UUID);
    expect(await c.lines.request(long.headers["x-request-id"] as string)).toMatchObject({ status: 404 });
    expect(c.fast).toBe(0);
  });

  test("refusals are logged too: no token, a bad one, one without the scope", async () => {
    const c = await composed();
    const cases: [string, Record<string, string>, number, string | undefined][] = [
      ["none", {}, 401, undefined],
      ["bad", bearer("not-a-token-0123456789"), 401, undefined],
      ["scope", bearer(TOKENS.read), 403, "reader"],
    ];
    for (const [id, headers, status, name] of cases) {
      // Facts go to the fast path; the same checks on a hono route.
      for (const [door, path] of [
        ["fast", "/v1/objects/w1/facts"],
        ["hono", "/v1/facts"],
      ] as const) {
        const r = await send(c.port, {
          method: "POST",
          path,
          headers: { ...headers, "x-request-id": `${id}-${door}` },
          body: { facts: {} },
        });
        expect(r.status).toBe(status);
        expect(r.headers["x-request-id"]).toBe(`${id}-${door}`);
        const line = await c.lines.request(`${id}-${door}`);
        expect(line.status).toBe(status);
        expect(line.tokenName).toBe(name);
      }
    }
    expect(c.fast).toBe(3);
  });

  test("probes and /metrics are logged at debug, so at info they are not", async () => {
    const quiet = await composed("info");
    const loud = await composed("debug");
    for (const c of [quiet, loud]) {
      for (const path of ["/healthz", "/readyz", "/metrics?x=1"])
        await send(c.port, { method: "GET", path, headers: { ...bearer(TOKENS.read), "x-request-id": path } });
      await send(c.port, {
        method: "GET",
        path: "/v1/policies",
        headers: { ...bearer(TOKENS.read), "x-request-id": "p" },
      });
      await c.close();
    }
    const paths = (c: Composed, level: string) =>
      c.lines.all.filter((l) => l.msg === "request" && l.level === level).map((l) => l.path);
    expect(paths(quiet, "debug")).toEqual([]);
    expect(paths(quiet, "info")).toEqual(["/v1/policies"]);
    // Without a metrics service there is no /metrics route: its 404 is still a debug line.
    expect(paths(loud, "debug")).toEqual(["/healthz", "/readyz", "/metrics"]);
    expect(paths(loud, "info")).toEqual(["/v1/policies"]);
  });
});

describe("a request target in absolute form (RFC 9112 3.2.2)", () => {
  test("a probe sent so is still a debug line, and every line names the path alone", async () => {
    const quiet = await composed("info");
    const loud = await composed("debug");
    for (const c of [quiet, loud]) {
      const absolute = (path: string) => `http://127.0.0.1:${c.port}${path}`;
      for (const path of ["/healthz", "/readyz?full=1", "/metrics", "/v1/policies", "/v1/policies?x=1"]) {
        const reply = await send(c.port, { method: "GET", path: absolute(path), headers: bearer(TOKENS.read) });
        // Served as the origin form is: the probes answer (no metrics service here: a 404).
        expect(reply.status).toBe(path === "/metrics" ? 404 : 200);
      }
      await send(c.port, { method: "GET", path: "HTTP://127.0.0.1/readyz", headers: bearer(TOKENS.read) });
      await c.close();
    }
    const paths = (c: Composed, level: string) =>
      c.lines.all.filter((l) => l.msg === "request" && l.level === level).map((l) => l.path);
    expect(paths(quiet, "debug")).toEqual([]);
    expect(paths(quiet, "info")).toEqual(["/v1/policies", "/v1/policies"]);
    expect(paths(loud, "debug")).toEqual(["/healthz", "/readyz", "/metrics", "/readyz"]);
    expect(paths(loud, "info")).toEqual(["/v1/policies", "/v1/policies"]);
  });
});

describe("a request the client leaves before its reply is done", () => {
  /**
   * A server whose listener answers nothing by itself, behind the access log, and a client that
   * has sent it one GET with the request id `id`: resolves once the listener has the request,
   * with the client's socket, the server's reply and the request's access line to come.
   */
  async function arrived(id: string) {
    const lines = new Lines();
    let handed!: (res: ServerResponse) => void;
    const request = new Promise<ServerResponse>((resolve) => (handed = resolve));
    const log = createLogger("info", lines.write);
    const server = http.createServer(withAccessLog((_req, res) => handed(res), { log, tokens: [] }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const socket = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.write(`GET /v1/objects HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: ${id}\r\n\r\n`);
    return { socket, res: await request, line: lines.request(id) };
  }

  test("before any reply went out: the status is null, not Node's default 200", async () => {
    const { socket, line } = await arrived("gone");
    socket.destroy();
    expect(await line).toMatchObject({ method: "GET", path: "/v1/objects", status: null, aborted: true });
  });

  test("in the middle of a reply: the status sent, and aborted", async () => {
    const { socket, res, line } = await arrived("cut");
    res.writeHead(206, { "content-type": "text/plain" });
    res.write("the first part");
    // The head has reached the client: it leaves before the rest.
    await new Promise((resolve) => socket.once("data", resolve));
    socket.destroy();
    expect(await line).toMatchObject({ status: 206, aborted: true });
  });
});

describe("the real server (main.ts)", () => {
  test("every reply has an id and a line; no token and no env value reaches the log", async () => {
    const lines = new Lines();
    const tokens = "reader:read-secret-0123456789abcdef:read,ops:admin-secret-0123456789abcdef:admin";
    const config = loadConfig({
      VIGIL_DB_URL: ":memory:",
      VIGIL_PORT: "0",
      VIGIL_HOST: "127.0.0.1",
      VIGIL_TOKENS: tokens,
      VIGIL_DRIVERS: "simulated,process",
      VIGIL_RECONCILE_INTERVAL: "off",
    });
    const server = await startServer(config, createLogger("debug", lines.write));
    let closed = false;
    closers.push(async () => {
      if (!closed) await server.close();
    });
    const port = Number(new URL(server.url).port);
    const admin = bearer("admin-secret-0123456789abcdef");
    const SECRET = "env-value-that-must-not-be-logged";
    const requests = [
      {
        method: "PUT",
        path: "/v1/objects/p1",
        headers: admin,
        body: {
          policy: "queue-worker",
          substrate: { driver: "process", config: { command: "/bin/true", env: { API_KEY: SECRET } } },
        },
      },
      { method: "POST", path: "/v1/objects/p1/facts", headers: admin, body: { facts: { note: SECRET } } },
      { method: "GET", path: "/v1/objects/p1", headers: bearer("read-secret-0123456789abcdef") },
      { method: "GET", path: "/v1/objects/p1", headers: bearer("wrong-secret-0123456789abcdef") },
      { method: "GET", path: "/metrics", headers: bearer("read-secret-0123456789abcdef") },
      { method: "GET", path: "/healthz" },
    ];
    const ids: string[] = [];
    for (const r of requests) {
      const reply = await send(port, r);
      expect(reply.status).toBeLessThan(500);
      ids.push(reply.headers["x-request-id"] as string);
    }
    expect(ids.every((id) => UUID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    closed = true;
    await server.close();
    const access = ids.map((id) => lines.all.find((l) => l.msg === "request" && l.requestId === id));
    expect(access.map((l) => [l?.method, l?.path, l?.status, l?.tokenName])).toEqual([
      ["PUT", "/v1/objects/p1", 201, "ops"],
      ["POST", "/v1/objects/p1/facts", 200, "ops"],
      ["GET", "/v1/objects/p1", 200, "reader"],
      ["GET", "/v1/objects/p1", 401, undefined],
      ["GET", "/metrics", 200, "reader"],
      ["GET", "/healthz", 200, undefined],
    ]);
    for (const secret of ["read-secret-0123456789abcdef", "admin-secret-0123456789abcdef", "wrong-secret", SECRET])
      expect(lines.text).not.toContain(secret);
  });

  test("requests refused before their turn (a Transfer-Encoding not read, an Expect not met, a DELETE's body too large) get their line", async () => {
    const lines = new Lines();
    const config = loadConfig({ VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0", VIGIL_RECONCILE_INTERVAL: "off" });
    const server = await startServer(config, createLogger("info", lines.write));
    let closed = false;
    closers.push(async () => {
      if (!closed) await server.close();
    });
    const port = Number(new URL(server.url).port);
    const te = await rawRequest(port, {
      method: "GET",
      path: "/v1/objects",
      headers: { "transfer-encoding": "identity", "x-request-id": "te-identity" },
    });
    const expectation = await rawRequest(port, {
      method: "GET",
      path: "/v1/objects",
      headers: { expect: "x", "x-request-id": "expect-x" },
    });
    const big = await rawRequest(port, {
      method: "DELETE",
      path: "/v1/objects/nope",
      headers: { "x-request-id": "del-big" },
      body: "x".repeat(70_000),
    });
    closed = true;
    await server.close();
    const line = (id: string) => lines.all.find((l) => l.msg === "request" && l.requestId === id);
    const replies = [te, expectation, big].map((r) => [r.status, r.headers["x-request-id"]]);
    expect(replies).toEqual([
      [400, "te-identity"],
      [417, "expect-x"],
      [413, "del-big"],
    ]);
    expect(["te-identity", "expect-x", "del-big"].map((id) => line(id)?.status)).toEqual([400, 417, 413]);
  });
});
