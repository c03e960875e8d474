// HTTP/1.0 does not require a Host header, and health checkers that speak it send none
// (HAProxy's `option httpchk GET /readyz`): such a request is served at the address it reached,
// probes and API alike, through either door, and the loopback-only rule of a server without
// tokens still holds. HTTP/1.1 without Host is still a 400 (RFC 9112). Real sockets, as
// main.ts serves: the fast path, then hono.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import { httpServer } from "../../src/http/node-server.ts";
import { rawBytes } from "../helpers/raw-http.ts";
import type { TestServices } from "../helpers/services.ts";
import { doors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

interface Running {
  services: TestServices;
  server: Server;
  port: number;
  /** Requests the fast path answered. */
  fast: number;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.server.closeAllConnections();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
    await r.services.close();
  }
});

async function serve(tokens: TokenConfig[]): Promise<Running> {
  const { services, hono, fast } = await doors(tokens, 4096);
  const server = httpServer((req, res) => {
    if (fast(req, res)) r.fast++;
    else void hono(req, res);
  });
  const r: Running = { services, server, port: 0, fast: 0 };
  running.push(r);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.port = (server.address() as AddressInfo).port;
  return r;
}

/** Status line and body of a request sent as written (HTTP/1.0 closes after its reply). */
async function raw(r: Running, head: string, body = ""): Promise<{ status: string; body: string }> {
  const reply = await rawBytes(r.port, `${head}\r\n\r\n${body}`);
  return { status: reply.slice(0, reply.indexOf("\r\n")), body: reply.slice(reply.indexOf("\r\n\r\n") + 4) };
}

describe("HTTP/1.0 without Host", () => {
  test.each([
    ["without tokens", [] as TokenConfig[], {}],
    ["with tokens", TOKEN_CONFIG, { authorization: `Bearer ${TOKENS.read}` }],
  ])("%s: the probes and the API answer", async (_label, tokens, auth) => {
    const r = await serve(tokens);
    await r.services.governor.putObject("w1", { policy: "queue-worker" });
    const healthz = await raw(r, "GET /healthz HTTP/1.0");
    expect(healthz.status).toBe("HTTP/1.1 200 OK");
    expect(JSON.parse(healthz.body)).toMatchObject({ status: "ok" });
    const readyz = await raw(r, "GET /readyz HTTP/1.0");
    expect(readyz.status).toBe("HTTP/1.1 200 OK");
    const headers = Object.entries(auth).map(([k, v]) => `\r\n${k}: ${v}`);
    const object = await raw(r, `GET /v1/objects/w1 HTTP/1.0${headers.join("")}`);
    expect(object.status).toBe("HTTP/1.1 200 OK");
    expect(JSON.parse(object.body)).toMatchObject({ id: "w1" });
  });

  test("facts are applied on the fast path, as with a Host", async () => {
    const r = await serve([]);
    await r.services.governor.putObject("w1", { policy: "queue-worker" });
    const body = JSON.stringify({ facts: { queue: { depth: 3 } } });
    const head = `POST /v1/objects/w1/facts HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${body.length}`;
    const reply = await raw(r, head, body);
    expect(reply.status).toBe("HTTP/1.1 200 OK");
    expect(r.fast).toBe(1);
    expect((await r.services.governor.getObject("w1"))!.memory).toMatchObject({ queue: { depth: 3 } });
  });

  test("without tokens, a foreign Origin is still a 403: the loopback-only rule holds", async () => {
    const r = await serve([]);
    const reply = await raw(r, "GET /healthz HTTP/1.0\r\norigin: http://evil.example");
    expect(reply.status).toMatch(/^HTTP\/1\.1 403 /);
    expect(JSON.parse(reply.body).detail).toContain("not a loopback origin");
  });
});

test("HTTP/1.1 without Host is still a 400 problem, the probes included", async () => {
  const r = await serve([]);
  for (const path of ["/healthz", "/readyz"]) {
    const reply = await rawBytes(r.port, `GET ${path} HTTP/1.1\r\nconnection: close\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain("the request has no Host header");
  }
});
