// Dry runs, replays and policy validations take the event loop for as long as their candidate
// asks, and a `read` token may ask for any number of them: at most MAX_DRY_RUNS are taken at
// once (README's bounds table), past it a 503 with Retry-After that ran nothing, while facts (the
// write path) are not bounded by them. Those taken run one at a time, each one's deadline from
// its turn, so that runs side by side do not each count the others' time. Counted, not timed:
// replays held open by the test fill the slots, and a replay's clock moves as it is read. A
// request takes its slot once its body is in: bodies sent slowly hold none.

import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import type { Hono } from "hono";
import { afterEach, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { SHUTDOWN_RETRY_AFTER, SHUTTING_DOWN } from "../../src/http/gate.ts";
import { createLogger } from "../../src/log.ts";
import { startServer } from "../../src/main.ts";
import { createApp } from "../../src/http/app.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { CLIENT_LEFT, DryRunSlots, MAX_DRY_RUNS } from "../../src/http/dry-run-slots.ts";
import { WhatIf, type WhatIfApi } from "../../src/what-if/service.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { expectProblem, queueWorkerPolicy, type Reply } from "./harness.ts";

let services: TestServices | undefined;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
  vi.restoreAllMocks();
  await services?.close();
  services = undefined;
});

async function heldReplays(maxDryRuns?: number, now?: () => number) {
  services = await makeServices({ tokens: [] });
  const s = services;
  const held: (() => void)[] = [];
  // Replays wait for the test before they run: each holds its slot until released.
  const whatIf: WhatIfApi = {
    replay: async (id, policy) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return s.whatIf.replay(id, policy);
    },
  };
  const slots = new DryRunSlots(maxDryRuns, now);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf, tokens: [], dryRuns: slots });
  const call = async (method: string, path: string, json?: unknown): Promise<Reply> => {
    const res = await app.request(path, {
      method,
      headers: { host: "127.0.0.1", "content-type": "application/json" },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text), text };
  };
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 } });
  // Lets the held replays go, one at a time: the next starts only once the one before is released.
  const releaseInTurn = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await expect.poll(() => held.length).toBe(i + 1);
      held[i]!();
    }
  };
  return { s, app, held, slots, call, releaseInTurn };
}

/** `app` served over a real socket on port 0, as main.ts serves it; closed after the test. */
async function serve(app: Hono, seen: IncomingMessage[] = []): Promise<number> {
  const hono = honoListener(app, () => {}, true);
  const server: Server = httpServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    void hono(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

/** A POST of `json` on a socket of its own, left to the test; `reply` is all the server writes before it closes. */
function rawPost(port: number, path: string, json: unknown) {
  const body = JSON.stringify(json);
  const socket = net.connect(port, "127.0.0.1", () =>
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (text += d));
  socket.on("error", () => {});
  const reply = new Promise<string>((resolve) => socket.on("close", () => resolve(text)));
  return { socket, reply };
}

test(`at most ${MAX_DRY_RUNS} dry runs, replays and validations are taken at once by default, and run one at a time`, async () => {
  const { held, slots, call, releaseInTurn } = await heldReplays();
  const policy = queueWorkerPolicy();
  const running = Array.from({ length: MAX_DRY_RUNS }, () => call("POST", "/v1/objects/w/replay", { policy }));
  await expect.poll(() => slots.taken).toBe(MAX_DRY_RUNS);
  // The first runs; the others wait their turn.
  await expect.poll(() => held.length).toBe(1);
  const refused = await call("POST", "/v1/objects/w/replay", { policy });
  expectProblem(refused, 503, "unavailable");
  // No run has finished yet: the least wait.
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(refused.body.detail).toContain("dry runs, replays and validations are running or waiting their turn");
  expect(held.length, "a replay past the bound ran").toBe(1);
  await releaseInTurn(MAX_DRY_RUNS);
  for (const reply of await Promise.all(running)) expect(reply.status).toBe(200);
  expect(slots.taken).toBe(0);
});

test("past the bound a dry run, a replay and a validation are each a 503, and facts still apply", async () => {
  const { s, slots, call, releaseInTurn } = await heldReplays(2);
  const policy = queueWorkerPolicy();
  const running = [call("POST", "/v1/objects/w/replay", { policy }), call("POST", "/v1/objects/w/replay", { policy })];
  await expect.poll(() => slots.taken).toBe(2);
  for (const [path, body] of [
    ["/v1/objects/w/evaluate", { policy, facts: { queue: { depth: 2 } } }],
    ["/v1/objects/w/evaluate", {}],
    ["/v1/objects/w/replay", { policy }],
    ["/v1/policies/validate", policy],
  ] as const) {
    const reply = await call("POST", path, body);
    expectProblem(reply, 503, "unavailable");
    expect(reply.headers.get("retry-after"), path).toBe("1");
    expect(reply.body.detail).toContain("dry runs, replays and validations are running");
  }
  const facts = await call("POST", "/v1/objects/w/facts", { facts: { queue: { depth: 7 } } });
  expect(facts.status).toBe(200);
  expect((await s.governor.getObject("w"))!.memory).toMatchObject({ queue: { depth: 7 } });
  await releaseInTurn(2);
  for (const reply of await Promise.all(running)) expect(reply.status).toBe(200);
  // The slots are free again.
  expect((await call("POST", "/v1/objects/w/evaluate", { policy })).status).toBe(200);
  expect((await call("POST", "/v1/policies/validate", policy)).status).toBe(200);
});

test(`${MAX_DRY_RUNS} replays at once each finish within a deadline one of them alone fits twice in`, async () => {
  services = await makeServices({ tokens: [] });
  const s = services;
  await s.governor.putObject("w", { policy: "queue-worker" });
  for (let i = 0; i < 300; i++) await s.governor.postFacts("w", { queue: { depth: i % 3 } });
  // The replay's clock moves 1 ms each time it is read: the time a replay takes is the work it
  // does, counted, and replays side by side each read the others' work on it too.
  let t = 0;
  const now = () => ++t;
  const policy = queueWorkerPolicy();
  const alone = new WhatIf(s.store, (id) => s.governor.getObject(id), { now });
  expect((await alone.replay("w", policy)).evaluations).toBe(301);
  const once = t;
  expect(once).toBeGreaterThan(600);
  const whatIf = new WhatIf(s.store, (id) => s.governor.getObject(id), { now, deadlineMs: 2 * once });
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf, tokens: [] });
  const replies = await Promise.all(
    Array.from({ length: MAX_DRY_RUNS }, () =>
      app.request("/v1/objects/w/replay", {
        method: "POST",
        headers: { host: "127.0.0.1", "content-type": "application/json" },
        body: JSON.stringify({ policy }),
      }),
    ),
  );
  for (const reply of replies) expect(reply.status, await reply.text()).toBe(200);
  // Every replay did the same work.
  expect(t).toBeGreaterThanOrEqual(once * (MAX_DRY_RUNS + 1));
});

test(`${MAX_DRY_RUNS} bodies sent slowly hold no slot: a dry run, a replay and a validation still run meanwhile`, async () => {
  services = await makeServices({ tokens: [] });
  const s = services;
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.governor.postFacts("w", { queue: { depth: 1 } });
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  const seen: IncomingMessage[] = [];
  const port = await serve(app, seen);

  // Replays of 100,000 bytes (a policy padded with spaces), each sent up to its first 10 bytes.
  const policy = queueWorkerPolicy();
  const whole = JSON.stringify({ policy }).padEnd(100_000, " ");
  const slow = Array.from({ length: MAX_DRY_RUNS }, () => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/v1/objects/w/replay",
      headers: { host: `127.0.0.1:${port}`, "content-type": "application/json", "content-length": "100000" },
      agent: false,
    });
    // A connection cut (the server closed at the end of a failed test) reads as status 0.
    const reply = new Promise<number>((resolve) => {
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", () => resolve(0));
    });
    req.write(whole.slice(0, 10));
    return { req, reply };
  });
  // The server has each request and is reading its body (as the route did in its slot).
  await expect.poll(() => seen.length === MAX_DRY_RUNS && seen.every((r) => r.readableDidRead)).toBe(true);

  const json = { "content-type": "application/json" };
  for (const [path, body] of [
    ["/v1/objects/w/replay", { policy }],
    ["/v1/objects/w/evaluate", { policy, facts: { queue: { depth: 2 } } }],
    ["/v1/policies/validate", policy],
  ] as const) {
    const reply = await rawRequest(port, { method: "POST", path, headers: json, body: JSON.stringify(body) });
    expect(reply.status, `${path}: ${reply.text}`).toBe(200);
  }
  // The slow ones, once their bodies are in, run too.
  for (const { req } of slow) req.end(whole.slice(10));
  for (const { reply } of slow) expect(await reply).toBe(200);
});

test("a replay waiting its turn whose client goes (half-closes, closes or resets its connection) gives up its place without running", async () => {
  const { app, held, slots, releaseInTurn } = await heldReplays();
  const port = await serve(app);
  const policy = queueWorkerPolicy();
  // One runs (held by the test); each of the others comes, waits its turn, and its client goes.
  const first = rawRequest(port, {
    method: "POST",
    path: "/v1/objects/w/replay",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy }),
  });
  await expect.poll(() => held.length).toBe(1);
  for (const leave of ["half-close", "close", "reset"] as const) {
    const waiting = rawPost(port, "/v1/objects/w/replay", { policy });
    await expect.poll(() => slots.taken, { message: leave }).toBe(2);
    if (leave === "half-close") waiting.socket.end();
    else if (leave === "close") waiting.socket.destroy();
    else waiting.socket.resetAndDestroy();
    await expect.poll(() => slots.taken, { message: `${leave}: its place is given up` }).toBe(1);
    const text = await waiting.reply;
    // A client that half-closed still reads: it is told, with a 503 that ran nothing.
    if (leave === "half-close") {
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/);
      expect(text).toMatch(/\r\nretry-after: \d+\r\n/);
      expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).detail).toBe(CLIENT_LEFT);
    }
  }
  await releaseInTurn(1);
  expect((await first).status).toBe(200);
  expect(slots.taken).toBe(0);
  // None of those that left ran: the next replay is the second to run.
  const next = rawRequest(port, {
    method: "POST",
    path: "/v1/objects/w/replay",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy }),
  });
  await expect.poll(() => held.length).toBe(2);
  held[1]!();
  expect((await next).status).toBe(200);
  expect(held.length).toBe(2);
});

test("at shutdown the replays waiting their turn are a 503 at once, not run, and the one running finishes", async () => {
  // Replays wait for the test before they run (the real server's own WhatIf).
  const held: (() => void)[] = [];
  const real = WhatIf.prototype.replay;
  vi.spyOn(WhatIf.prototype, "replay").mockImplementation(async function (this: WhatIf, ...args) {
    await new Promise<void>((resolve) => held.push(resolve));
    return real.apply(this, args);
  });
  const config = loadConfig({
    VIGIL_DB_URL: ":memory:",
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
  });
  const server = await startServer(
    config,
    createLogger("error", () => {}),
  );
  let closing: Promise<boolean> | undefined;
  cleanup.push(async () => {
    for (const release of held) release();
    await (closing ?? server.close());
  });
  const json = (method: string, path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  expect((await json("PUT", "/v1/objects/w", { policy: "queue-worker" })).status).toBe(201);
  expect((await json("POST", "/v1/objects/w/facts", { facts: { queue: { depth: 1 } } })).status).toBe(200);
  const policy = queueWorkerPolicy();
  const replays = Array.from({ length: 3 }, () => json("POST", "/v1/objects/w/replay", { policy }));
  await expect.poll(() => server.dryRuns.taken).toBe(3);
  expect(held.length).toBe(1);
  // The drain begins: the two waiting are answered now, while the one running is still held.
  closing = server.close();
  const [running, ...waiting] = replays;
  let answered = 0;
  for (const reply of waiting) void reply.then(() => answered++);
  await expect
    .poll(() => answered, { message: "the waiting replays are answered before the running one ends" })
    .toBe(2);
  for (const reply of await Promise.all(waiting)) {
    expect(reply.status).toBe(503);
    expect(reply.headers.get("content-type")).toBe("application/problem+json");
    expect(reply.headers.get("retry-after")).toBe(SHUTDOWN_RETRY_AFTER);
    expect(((await reply.json()) as { detail: string }).detail).toBe(SHUTTING_DOWN);
  }
  expect(server.dryRuns.taken).toBe(1);
  held[0]!();
  expect((await running!).status).toBe(200);
  expect(await closing).toBe(true);
  expect(held.length, "a replay that waited its turn ran").toBe(1);
});

test("after the slots close, a dry run, a replay and a validation that come are a 503, nothing run", async () => {
  const { held, slots, call } = await heldReplays();
  slots.close();
  const policy = queueWorkerPolicy();
  for (const [path, body] of [
    ["/v1/objects/w/evaluate", { policy }],
    ["/v1/objects/w/replay", { policy }],
    ["/v1/policies/validate", policy],
  ] as const) {
    const reply = await call("POST", path, body);
    expectProblem(reply, 503, "unavailable");
    expect(reply.body.detail, path).toBe(SHUTTING_DOWN);
    expect(reply.headers.get("retry-after"), path).toBe(SHUTDOWN_RETRY_AFTER);
  }
  expect({ held: held.length, taken: slots.taken }).toEqual({ held: 0, taken: 0 });
});

test("a full queue's Retry-After is the work ahead: the slots taken, each at the mean time of the latest runs, at most 5 s a run", async () => {
  // The slots' clock is the test's: each held replay takes what the test says.
  let t = 0;
  const { held, slots, call } = await heldReplays(undefined, () => t);
  const policy = queueWorkerPolicy();
  let released = 0;
  /** Sends `ms.length` replays and lets them go in their turn, each after its time on the slots' clock. */
  const replays = async (ms: number[]) => {
    const replies = ms.map(() => call("POST", "/v1/objects/w/replay", { policy }));
    await expect.poll(() => slots.taken).toBe(ms.length);
    const refusal = ms.length === MAX_DRY_RUNS ? await call("POST", "/v1/policies/validate", policy) : undefined;
    for (const m of ms) {
      await expect.poll(() => held.length).toBe(released + 1);
      t += m;
      held[released++]!();
    }
    for (const reply of await Promise.all(replies)) expect(reply.status).toBe(200);
    return refusal;
  };
  // No run yet: the least wait.
  let refused = await replays([0, 0, 0, 0]);
  expectProblem(refused!, 503, "unavailable");
  expect(refused!.headers.get("retry-after")).toBe("1");
  // Eight runs, half of 2 s and half of 4 s: 3 s a run, 12 s for the 4 slots taken.
  await replays([2_000, 4_000, 2_000, 4_000]);
  await replays([2_000, 4_000, 2_000, 4_000]);
  refused = await replays([60_000, 60_000, 60_000, 60_000]);
  expect(refused!.headers.get("retry-after")).toBe(String(MAX_DRY_RUNS * 3));
  // Eight runs of a minute each (past the deadline, as a run's last evaluation may go): 5 s each.
  await replays([60_000, 60_000, 60_000, 60_000]);
  refused = await replays([0, 0, 0, 0]);
  expect(refused!.headers.get("retry-after")).toBe(String(MAX_DRY_RUNS * 5));
});
