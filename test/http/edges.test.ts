// The HTTP edges (node-server.ts): bytes that are not HTTP on a busy connection, bodies cut
// short, CONNECT, OPTIONS * and Expect, each over real sockets. Servers are built as fast-path.test.ts builds
// them: the fast path then hono ("lean"), or hono alone ("hono"), over one httpServer() each.

import type { Server, ServerResponse } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import { DISCARD_LIMIT } from "../../src/http/discard-body.ts";
import { httpServer } from "../../src/http/node-server.ts";
import { rawBytes } from "../helpers/raw-http.ts";
import type { TestServices } from "../helpers/services.ts";
import { doors } from "./harness.ts";

const LIMIT = 4096;

interface Side {
  name: string;
  services: TestServices;
  server: Server;
  port: number;
  reported: unknown[];
  /** Resolves once every response begun so far has closed. */
  responsesClosed(): Promise<void>;
  /** The server side of every connection. */
  sockets: Socket[];
}

async function side(name: string, tokens: TokenConfig[], withFastPath: boolean): Promise<Side> {
  const { services, reported, hono, fast } = await doors(tokens, LIMIT);
  const open = new Set<Promise<void>>();
  const server = httpServer((req, res: ServerResponse) => {
    const closed = new Promise<void>((resolve) => res.once("close", () => resolve()));
    open.add(closed);
    if (!(withFastPath && fast(req, res))) void hono(req, res);
  });
  const sockets: Socket[] = [];
  server.on("connection", (s: Socket) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const s: Side = {
    name,
    services,
    server,
    port: (server.address() as AddressInfo).port,
    reported,
    sockets,
    responsesClosed: async () => {
      await Promise.all(open);
      // let the rejections and reports queued behind a closed response run
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
  };
  return s;
}

let sides: Side[] = [];
afterEach(async () => {
  for (const s of sides) {
    s.server.closeAllConnections();
    for (const sock of s.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    await s.services.close();
  }
  sides = [];
});

async function both(tokens: TokenConfig[] = []): Promise<Side[]> {
  const made = [await side("lean", tokens, true), await side("hono", tokens, false)];
  sides.push(...made);
  return made;
}

const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe("bytes that are not HTTP on a connection that is busy", () => {
  test("behind a request: its reply answers it (a 201 for an applied PUT, not a 400), then the connection closes", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const put = JSON.stringify({ policy: "queue-worker" });
      const reply = await rawBytes(
        s.port,
        `PUT /v1/objects/w1 HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${put.length}\r\n\r\n${put}` +
          "GARBAGE\r\n\r\n",
      );
      const created = (await s.services.governor.getObject("w1")) !== null;
      seen[s.name] = { created, first: statusLines(reply)[0] };
    }
    // The first reply on a connection answers its first request: 201 when the object was created.
    expect(seen).toEqual({ lean: { created: true, first: 201 }, hono: { created: true, first: 201 } });
  });

  test("behind an event stream: nothing is written into the stream's body; the connection closes", async () => {
    const [lean] = await both();
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(lean!.port, "127.0.0.1", () =>
        socket.write("GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"),
      );
      let t = "";
      let sent = false;
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        t += d;
        // the stream's headers and its first event are out: now the next "request"
        if (!sent && t.includes(": connected")) {
          sent = true;
          socket.write("GARBAGE\r\n\r\n", () => {
            // something for the stream to carry next (a server that keeps the stream open sends it)
            void lean!.services.governor.putObject("w9", { policy: "queue-worker" });
          });
        }
        if (t.includes("event: decision")) socket.destroy();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(t));
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    // Whatever else happens, no HTTP status line may appear inside a response body.
    expect(body).not.toContain("HTTP/1.1 400");
  });
});

describe("a body the client does not finish is not the server's failure (nothing reported)", () => {
  test("a body cut short by the client going away", async () => {
    const seen: Record<string, string[]> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("w1", { policy: "queue-worker" });
      await new Promise<void>((resolve) => {
        const socket = net.connect(s.port, "127.0.0.1", () =>
          socket.write(
            'POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"facts":',
          ),
        );
        // once the server has the request, go away
        s.server.once("request", () => setImmediate(() => socket.destroy()));
        socket.on("close", () => resolve());
      });
      await s.responsesClosed();
      seen[s.name] = s.reported.map(String);
    }
    expect(seen).toEqual({ lean: [], hono: [] });
  });

  test("a chunked body with a chunk size that is not hex (Node's parser refuses it mid-body): the connection closes with no reply, and nothing changed", async () => {
    // The parser's error comes after the request was handed over: a route that reads the body
    // fails, and a DELETE, which reads none, waits for its body's end before it acts.
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("w1", { policy: "queue-worker" });
      const facts = await rawBytes(
        s.port,
        'POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{"\r\nzz\r\n',
      );
      const remove = await rawBytes(
        s.port,
        "DELETE /v1/objects/w1?compute=keep HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      );
      await s.responsesClosed();
      const kept = (await s.services.governor.getObject("w1")) !== null;
      seen[s.name] = { facts, remove, kept, reported: s.reported.map(String) };
    }
    const none = { facts: "", remove: "", kept: true, reported: [] };
    expect(seen).toEqual({ lean: none, hono: none });
  });
});

/** A request id the server made: a UUID. */
const NEW_REQUEST_ID = /\r\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\r\n/i;

describe("requests Node would answer (or drop) before either door sees them get a problem", () => {
  test("CONNECT: a 405 problem", async () => {
    const [lean] = await both();
    const reply = await rawBytes(lean!.port, "CONNECT 127.0.0.1:80 HTTP/1.1\r\nhost: 127.0.0.1:80\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
    expect(reply).toContain("application/problem+json");
    // RFC 9110: a 405 names the methods the target takes.
    expect(reply).toMatch(/\r\nallow: GET, HEAD, PUT, POST, DELETE, OPTIONS\r\n/);
    // Every reply has a request id (README, "Logs"): a new one here.
    expect(reply).toMatch(NEW_REQUEST_ID);
  });

  test("OPTIONS * (about the whole server, RFC 9112 3.2.4): a 405 problem naming the methods, not a malformed request", async () => {
    for (const side of await both()) {
      const reply = await rawBytes(side.port, "OPTIONS * HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
      expect(reply, side.name).toMatch(/^HTTP\/1\.1 405 /);
      expect(reply, side.name).toContain("application/problem+json");
      expect(reply, side.name).toMatch(/\r\nallow: GET, HEAD, PUT, POST, DELETE, OPTIONS\r\n/);
      // Without tokens, a Host that is not loopback is refused first, as on every route.
      const foreign = await rawBytes(
        side.port,
        "OPTIONS * HTTP/1.1\r\nhost: elsewhere.example\r\nconnection: close\r\n\r\n",
      );
      expect(foreign, side.name).toMatch(/^HTTP\/1\.1 403 /);
    }
  });

  test("an Expect other than 100-continue: a 417 problem", async () => {
    const [lean] = await both();
    const body = JSON.stringify({ facts: {} });
    const reply = await rawBytes(
      lean!.port,
      `POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\nexpect: something-else\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 417 /);
    expect(reply).toContain("application/problem+json");
    expect(reply).toMatch(NEW_REQUEST_ID);
    const given = await rawBytes(
      lean!.port,
      `POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\nexpect: something-else\r\nx-request-id: trace-417\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(given).toMatch(/\r\nx-request-id: trace-417\r\n/i);
  });
});

describe("after a raw problem the server closes the connection", () => {
  test("even when the client keeps its side open after the 400", async () => {
    const [lean] = await both();
    const client = net.connect({ port: lean!.port, host: "127.0.0.1", allowHalfOpen: true }, () =>
      client.write("GARBAGE\r\n\r\n"),
    );
    let text = "";
    client.setEncoding("utf8");
    client.on("data", (d: string) => (text += d));
    // the server has written its reply and ended its side
    await new Promise<void>((resolve) => client.once("end", () => resolve()));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    const open = await new Promise<number>((resolve) => lean!.server.getConnections((_e, n) => resolve(n)));
    client.destroy();
    expect({ serverSocketDestroyed: lean!.sockets[0]!.destroyed, open }).toEqual({
      serverSocketDestroyed: true,
      open: 0,
    });
  });
});

describe("bad bytes sent again and again behind a slow reply", () => {
  test("are handled once: one listener on the response however many come", async () => {
    // A GET whose read of the object waits until released: its reply stays on its way.
    let release!: () => void;
    const { services, hono } = await doors([], LIMIT, true, (g) => {
      const held = gated(g, "getObject", () => true, "before");
      release = held.release;
      return held.governor;
    });
    let response: ServerResponse | undefined;
    const server = httpServer((req, res) => {
      response = res;
      void hono(req, res);
    });
    let clientErrors = 0;
    server.on("clientError", () => clientErrors++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const socket = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.on("error", () => {});
    try {
      socket.write("GET /v1/objects/w1 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
      await until(() => response !== undefined);
      const before = response!.listenerCount("close");
      for (let i = 1; i <= 10; i++) {
        socket.write("GARBAGE\r\n\r\n");
        await until(() => clientErrors >= i);
      }
      expect(clientErrors).toBe(10);
      expect(response!.listenerCount("close")).toBe(before + 1);
    } finally {
      release();
      socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    }
  });
});

/** A PUT creating object `id`, as raw bytes. */
const put = (id: string) => {
  const body = JSON.stringify({ policy: "queue-worker" });
  return `PUT /v1/objects/${id} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
};

describe("pipelined valid requests, then bad bytes", () => {
  test("baseline: two pipelined PUTs both get their 201", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const reply = await rawBytes(s.port, put("w1") + put("w2").replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n"));
      seen[s.name] = statusLines(reply);
    }
    expect(seen).toEqual({ lean: [201, 201], hono: [201, 201] });
  });

  test("every applied request behind the first gets its reply before the connection closes", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const reply = await rawBytes(s.port, put("w1") + put("w2") + "GARBAGE\r\n\r\n");
      const created = [
        (await s.services.governor.getObject("w1")) !== null,
        (await s.services.governor.getObject("w2")) !== null,
      ];
      seen[s.name] = { created, statuses: statusLines(reply) };
    }
    // w2 was applied: its 201 must not be lost (the docs: "an applied PUT gets its 201").
    const want = { created: [true, true], statuses: [201, 201] };
    expect(seen).toEqual({ lean: want, hono: want });
  });
});

describe("pipelined: the second request's reply comes after the first's", () => {
  for (const withFast of [true, false])
    test(`${withFast ? "lean" : "hono"}: an applied PUT queued behind the first reply is answered before the connection closes`, async () => {
      // PUT w2 is applied at once; its reply is ready only after the first reply has gone out.
      let release!: () => void;
      const { services, hono, fast } = await doors([], LIMIT, true, (g) => {
        const held = gated(g, "putObject", (args) => args[0] === "w2", "after");
        release = held.release;
        return held.governor;
      });
      let first = true;
      const server = httpServer((req, res) => {
        if (first) {
          first = false;
          res.once("close", () => setImmediate(release));
        }
        if (!(withFast && fast(req, res))) void hono(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const reply = await rawBytes((server.address() as AddressInfo).port, put("w1") + put("w2") + "GARBAGE\r\n\r\n");
        const created = [
          (await services.governor.getObject("w1")) !== null,
          (await services.governor.getObject("w2")) !== null,
        ];
        expect({ created, statuses: statusLines(reply) }).toEqual({ created: [true, true], statuses: [201, 201] });
      } finally {
        release();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await services.close();
      }
    });
});

describe("bad bytes behind pipelined requests whose replies would not end", () => {
  /** Writes bytes; what came back once `first` matched, and whether the server then closed. */
  async function exchange(port: number, server: Server, bytes: string, first: RegExp) {
    const client = net.connect(port, "127.0.0.1", () => client.write(bytes));
    client.on("error", () => {});
    let text = "";
    let closed = false;
    client.setEncoding("utf8");
    client.on("data", (d: string) => (text += d));
    client.on("close", () => (closed = true));
    await until(() => first.test(text));
    await until(() => closed);
    const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    client.destroy();
    return { closed, open };
  }
  const closedNow = { closed: true, open: 0 };

  test("the second request's own body is broken: the connection closes after the first reply", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("w1", { policy: "queue-worker" });
      const facts =
        'POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{"\r\nzz\r\n';
      seen[s.name] = await exchange(s.port, s.server, put("w2") + facts, /HTTP\/1\.1 201 [\s\S]*\r\n\r\n\{.*\}/);
    }
    expect(seen).toEqual({ lean: closedNow, hono: closedNow });
  });

  test("the second is an event stream: the connection closes", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const events = "GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";
      seen[s.name] = await exchange(s.port, s.server, put("w2") + events + "GARBAGE\r\n\r\n", /HTTP\/1\.1 201 /);
    }
    expect(seen).toEqual({ lean: closedNow, hono: closedNow });
  });
});

describe("pipelined requests that may change something run in their order (RFC 9112 9.3.2)", () => {
  const del = (id: string, extra = "") =>
    `DELETE /v1/objects/${id}?compute=keep HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}\r\n`;
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
  const last = "connection: close\r\n\r\n";

  test("PUT, DELETE and GET of one object: created, deleted, then not found", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const reply = await rawBytes(
        s.port,
        put("p1") + del("p1") + get("/v1/objects/p1").replace("\r\n\r\n", `\r\n${last}`),
      );
      seen[s.name] = { statuses: statusLines(reply), gone: (await s.services.governor.getObject("p1")) === null };
    }
    const want = { statuses: [201, 204, 404], gone: true };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a GET behind a fact reads the memory the fact left", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("p2", { policy: "queue-worker" });
      const body = JSON.stringify({ facts: { queue: { depth: 7 } } });
      const facts = `POST /v1/objects/p2/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
      const reply = await rawBytes(s.port, facts + get("/v1/objects/p2").replace("\r\n\r\n", `\r\n${last}`));
      seen[s.name] = {
        statuses: statusLines(reply),
        depth: /"depth":(\d+)/.exec(reply.split("HTTP/1.1 200")[2] ?? "")?.[1],
      };
    }
    const want = { statuses: [200, 200], depth: "7" };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("requests waiting their turn on a connection the client reset are dropped, not run", async () => {
    let release!: () => void;
    const { services, hono } = await doors([], LIMIT, true, (g) => {
      const held = gated(g, "putObject", (args) => args[0] === "q1", "before");
      release = held.release;
      return held.governor;
    });
    const server = httpServer((req, res) => void hono(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = net.connect((server.address() as AddressInfo).port, "127.0.0.1", () =>
        client.write(put("q1") + put("q2")),
      );
      client.on("error", () => {});
      // q1 is in the governor (held), q2 waits for q1's reply; the client goes away meanwhile
      // (a reset: a FIN alone is a client that half-closes and still waits for its replies).
      await new Promise<void>((resolve) => server.once("request", () => setImmediate(resolve)));
      client.resetAndDestroy();
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      release();
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      expect((await services.governor.getObject("q2")) === null).toBe(true);
    } finally {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    }
  });

  test("behind a reply that closes the connection (a 417), nothing runs", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const expectation = get("/healthz").replace("\r\n\r\n", "\r\nexpect: x\r\n\r\n");
      const reply = await rawBytes(s.port, expectation + put("c2").replace("\r\n\r\n", `\r\n${last}`));
      await s.responsesClosed();
      seen[s.name] = { statuses: statusLines(reply), c2: (await s.services.governor.getObject("c2")) !== null };
    }
    const want = { statuses: [417], c2: false };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a 413 lets the rest of a body within the bound go and serves on; past the bound its reply still arrives, then the connection ends", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const tooLarge = (size: number) => {
        const big = "x".repeat(size);
        return `PUT /v1/objects/big HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${big.length}\r\n\r\n${big}`;
      };
      const closing = (id: string) => put(id).replace("\r\n\r\n", `\r\n${last}`);
      const within = await rawBytes(s.port, tooLarge(LIMIT + 100) + closing("c1"));
      const past = await rawBytes(s.port, tooLarge(LIMIT + DISCARD_LIMIT + 4096) + closing("c3"));
      await s.responsesClosed();
      const created = async (id: string) => (await s.services.governor.getObject(id)) !== null;
      seen[s.name] = {
        within: statusLines(within),
        // The 413 says nothing of closing: the connection served on.
        withinHead: /\r\nconnection: close\r\n/i.test(within.split("\r\n\r\n")[0]!),
        c1: await created("c1"),
        past: statusLines(past),
        c3: await created("c3"),
      };
    }
    const want = { within: [413, 201], withinHead: false, c1: true, past: [413], c3: false };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("requests before a reply that closes the connection (a 417, a Transfer-Encoding's 400) still run and get their replies", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const expectation = get("/healthz").replace("\r\n\r\n", "\r\nexpect: x\r\n\r\n");
      const encoding = get("/healthz").replace("\r\n\r\n", "\r\ntransfer-encoding: gzip\r\n\r\n");
      const first = await rawBytes(s.port, put("a1") + put("b1") + expectation + put("c1"));
      const second = await rawBytes(s.port, put("a2") + put("b2") + encoding);
      await s.responsesClosed();
      const created = async (ids: string[]) =>
        Promise.all(ids.map(async (id) => (await s.services.governor.getObject(id)) !== null));
      seen[s.name] = {
        statuses: [statusLines(first), statusLines(second)],
        created: await created(["a1", "b1", "c1", "a2", "b2"]),
      };
    }
    const want = {
      statuses: [
        [201, 201, 417],
        [201, 201, 400],
      ],
      created: [true, true, false, true, true],
    };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a client that half-closes after its requests gets every reply, in order, then the connection closes", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      const reply = await new Promise<string>((resolve, reject) => {
        const client = net.connect(s.port, "127.0.0.1", () =>
          client.end(put("h1") + put("h2") + del("h1") + get("/v1/objects/h2")),
        );
        let text = "";
        client.setEncoding("utf8");
        client.on("data", (d: string) => (text += d));
        client.on("error", reject);
        client.on("close", () => resolve(text));
      });
      const exists = async (id: string) => (await s.services.governor.getObject(id)) !== null;
      seen[s.name] = { statuses: statusLines(reply), h1: await exists("h1"), h2: await exists("h2") };
    }
    const want = { statuses: [201, 201, 204, 200], h1: false, h2: true };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a Transfer-Encoding that does not end in chunked is a 400 problem, and the request does nothing", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("p3", { policy: "queue-worker" });
      const remove = await rawBytes(s.port, del("p3", "transfer-encoding: gzip\r\n"));
      const health = await rawBytes(
        s.port,
        get("/healthz").replace("\r\n\r\n", "\r\ntransfer-encoding: identity\r\n\r\n"),
      );
      const kept = (await s.services.governor.getObject("p3")) !== null;
      const problem = (r: string) => [
        statusLines(r),
        /content-type: application\/problem\+json/i.test(r),
        /Transfer-Encoding must end in/.test(r),
      ];
      seen[s.name] = { remove: problem(remove), health: problem(health), kept };
    }
    const want = { remove: [[400], true, true], health: [[400], true, true], kept: true };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a transfer coding before chunked (gzip, chunked), which nothing undoes, is a 400 problem that changes nothing; the connection serves on", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("p6", { policy: "queue-worker" });
      const body = JSON.stringify({ facts: { queue: { depth: 5 } } });
      const facts =
        "POST /v1/objects/p6/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
        `transfer-encoding: gzip, chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const reply = await rawBytes(s.port, facts + get("/healthz").replace("\r\n\r\n", `\r\n${last}`));
      seen[s.name] = {
        statuses: statusLines(reply),
        problem: /content-type: application\/problem\+json[\s\S]*no transfer coding but chunked/i.test(reply),
        memory: (await s.services.governor.getObject("p6"))?.memory,
      };
    }
    const want = { statuses: [400, 200], problem: true, memory: {} };
    expect(seen).toEqual({ lean: want, hono: want });
  });

  test("a DELETE runs once its body is in; one over 64 KiB is a 413 that deletes nothing", async () => {
    const seen: Record<string, unknown> = {};
    for (const s of await both()) {
      await s.services.governor.putObject("p4", { policy: "queue-worker" });
      await s.services.governor.putObject("p5", { policy: "queue-worker" });
      const small = await rawBytes(
        s.port,
        del("p4", `transfer-encoding: chunked\r\n${last.slice(0, -2)}`) + "2\r\n{}\r\n0\r\n\r\n",
      );
      const big = "x".repeat(70_000);
      const large = await rawBytes(s.port, del("p5", `content-length: ${big.length}\r\n${last.slice(0, -2)}`) + big);
      seen[s.name] = {
        small: statusLines(small)[0],
        large: statusLines(large),
        deleted: (await s.services.governor.getObject("p4")) === null,
        kept: (await s.services.governor.getObject("p5")) !== null,
      };
    }
    const want = { small: 204, large: [413], deleted: true, kept: true };
    expect(seen).toEqual({ lean: want, hono: want });
  });
});

/**
 * The governor with its `method` held until `release()`, for the calls `when` picks: before the
 * call runs, or after it ran (applied, but its reply not yet ready).
 */
function gated(
  governor: TestServices["governor"],
  method: string,
  when: (args: unknown[]) => boolean,
  hold: "before" | "after",
) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const proxy = new Proxy(governor, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (key === method)
        return async (...args: unknown[]) => {
          const held = when(args);
          if (held && hold === "before") await gate;
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (held && hold === "after") await gate;
          return out;
        };
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { governor: proxy, release };
}

/** Lets I/O run until `done()` holds (a few thousand turns at most). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 5_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}
