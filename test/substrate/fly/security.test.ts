// The fly driver holds FLY_API_TOKEN, and an object's config (written by anyone with
// `write:objects`) names the host it is sent to. So the API base URL must come from the
// server's allow-list (VIGIL_FLY_API_URLS), checked at PUT and again before every request; the
// client never follows a redirect; and what a reply can do is bounded: its size, and how much
// of it reaches a decision note that `read` tokens see.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { createApp } from "../../../src/http/app.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { FlyApiError, FlyClient, MAX_REPLY_BYTES } from "../../../src/substrate/fly/client.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { DEFAULT_FLY_RETRY } from "../../../src/substrate/fly/retry.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { WhatIf } from "../../../src/what-if/service.ts";
import { RULES_DIR } from "../../helpers/services.ts";
import { TOKEN_CONFIG, TOKENS } from "../../http/harness.ts";
import { MACHINE, openRig, rejection, rig, T0 } from "./rig.ts";

/** A server that should never hear from Vigil: it counts what reaches it. */
interface Elsewhere {
  url: string;
  requests: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

async function elsewhere(): Promise<Elsewhere> {
  const requests: Elsewhere["requests"] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: MACHINE, state: "started" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function away(): Promise<Elsewhere> {
  const e = await elsewhere();
  cleanups.push(() => e.close());
  return e;
}

describe("Fly API base URLs come from an allow-list", () => {
  const config = (apiUrl?: string) => ({ app: "my-app", machineId: MACHINE, ...(apiUrl ? { apiUrl } : {}) });

  test("by default Fly's public and private API addresses, and nothing else", () => {
    const driver = new FlyDriver({ clock: new VirtualClock(0), token: "t" });
    for (const ok of [
      undefined,
      "https://api.machines.dev",
      "https://api.machines.dev/",
      "https://API.machines.dev:443",
      "http://_api.internal:4280",
    ])
      expect(driver.validateConfig(config(ok)), String(ok)).toEqual([]);
    for (const refused of [
      "https://attacker.example",
      "http://api.machines.dev",
      "https://api.machines.dev.attacker.example",
      "https://api.machines.dev:8443",
      "https://api.machines.dev/elsewhere",
      "https://api.machines.dev/?to=elsewhere",
      "https://someone@api.machines.dev",
      "http://_api.internal:4281",
      "http://127.0.0.1:4280",
    ]) {
      const problems = driver.validateConfig(config(refused));
      expect(problems, refused).toHaveLength(1);
      expect(problems[0]!.path).toBe("$.apiUrl");
      expect(problems[0]!.message).toMatch(/not an allowed Fly API base URL.*VIGIL_FLY_API_URLS/);
    }
  });

  test("apiUrls replaces the list; a config without apiUrl needs the default to be on it", () => {
    const driver = new FlyDriver({ clock: new VirtualClock(0), token: "t", apiUrls: ["http://_api.internal:4280/"] });
    expect(driver.validateConfig(config("http://_api.internal:4280"))).toEqual([]);
    expect(driver.validateConfig(config("https://api.machines.dev")).map((p) => p.path)).toEqual(["$.apiUrl"]);
    const problems = driver.validateConfig(config());
    expect(problems.map((p) => p.path)).toEqual(["$.apiUrl"]);
    expect(problems[0]!.message).toMatch(/default https:\/\/api\.machines\.dev.*VIGIL_FLY_API_URLS/);
  });

  test("an entry that is not an http(s) base URL is refused at construction", () => {
    for (const bad of ["api.machines.dev", "ftp://api.machines.dev", "https://u:p@api.machines.dev"])
      expect(() => new FlyDriver({ clock: new VirtualClock(0), apiUrls: [bad] }), bad).toThrow(RangeError);
  });

  test("PUT of an object whose apiUrl is outside the list is a 422 naming VIGIL_FLY_API_URLS", async () => {
    const clock = new VirtualClock(T0);
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const store = new MemoryStore();
    const driver = new FlyDriver({ clock, token: "t", apiUrls: ["https://api.machines.dev"] });
    const governor = new Governor({ store, policies, clock, drivers: [driver] });
    await governor.start();
    cleanups.push(() => governor.close());
    const app = createApp({
      governor,
      policies,
      whatIf: new WhatIf(store, (id) => governor.getObject(id)),
      tokens: TOKEN_CONFIG,
    });
    const put = (apiUrl: string) =>
      app.request("/v1/objects/agent-7", {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKENS.objects}`, "content-type": "application/json" },
        body: JSON.stringify({ policy: "queue-worker", substrate: { driver: "fly", config: config(apiUrl) } }),
      });

    const refused = await put("https://attacker.example");
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors).toEqual([
      { path: "$.substrate.config.apiUrl", message: expect.stringMatching(/VIGIL_FLY_API_URLS/) },
    ]);
    expect(await governor.getObject("agent-7")).toBeNull();
    expect((await put("https://api.machines.dev")).status).toBe(201);
  });

  test("a config outside the list that reaches the driver anyway sends nothing: the token stays home", async () => {
    const r = await openRig();
    const other = await away();
    for (const call of [
      () => r.driver.observe(r.target({ apiUrl: other.url })),
      () => r.driver.start(r.target({ apiUrl: other.url })),
    ]) {
      const e = await rejection(r.run(call()));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/VIGIL_FLY_API_URLS/);
    }
    expect(other.requests).toEqual([]);
  });

  test("a token that cannot be sent as a header (a line break inside) is refused without being shown, and not retried", async () => {
    // The default fetch, as in production: it refuses such a header quoting it whole.
    const secret = ["FlyV1 fm2_SECRETPARTONE", "fm2_SECRETPARTTWO"];
    const r = await rig({ driver: { token: secret.join("\n"), fetch: undefined } });
    try {
      const e = await rejection(r.run(r.driver.start(r.target())));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/API token has a line break/);
      for (const part of secret) expect(e.message).not.toContain(part.slice(6));
    } finally {
      await r.close();
    }
  });

  test("a token ending in a line break (a secret read from a file) is sent without it", async () => {
    const token = "FlyV1 fm2_abc,fm2_def";
    const r = await rig({ fake: { token }, driver: { token: `${token}\n` } });
    try {
      expect(await r.run(r.driver.start(r.target()))).toMatchObject({ status: "running" });
    } finally {
      await r.close();
    }
  });

  test("the client never quotes the token in a failure of its own request", async () => {
    const token = "FlyV1 fm2_SECRET";
    const client = new FlyClient({
      apiUrl: "https://api.machines.dev",
      apiUrls: ["https://api.machines.dev"],
      token,
      fetch: async (_url, init) => {
        throw new TypeError(`invalid header value: ${JSON.stringify(init?.headers)}`);
      },
      clock: new VirtualClock(T0),
      random: () => 0.5,
      retry: { ...DEFAULT_FLY_RETRY, attempts: 1 },
      limiter: null,
    });
    const e = await client.getMachine("app", MACHINE).then(
      () => null,
      (err: unknown) => err as FlyApiError,
    );
    expect(e).toBeInstanceOf(FlyApiError);
    expect(e!.message).not.toContain("fm2_SECRET");
    expect(e!.message).toContain("[redacted]");
  });

  test.each([
    ["its `error`", (echo: string) => ({ error: `bad header authorization: Bearer ${echo}` })],
    [
      "its text, the token across the 200 characters kept",
      (echo: string) => ({ rawBody: `${"x".repeat(185)} Bearer ${echo}` }),
    ],
  ])("a failing reply that echoes the token (%s) is quoted with the token redacted", async (_name, reply) => {
    const r = await openRig();
    r.fake.faults.add({ action: "get", status: 400, ...reply(r.fake.token) });
    const e = await rejection(r.run(r.driver.observe(r.target())));
    expect(e.message).toMatch(/HTTP 400 /);
    expect(e.message).toContain("Bearer [redact");
    // Not even its first 7 characters (the fake's are `fake-` and 2 random ones), which a cut
    // at 200 characters would keep of the text as it came.
    expect(e.message).not.toContain(r.fake.token.slice(0, 7));
  });

  test("the client itself refuses a base URL outside the list", async () => {
    let fetched = 0;
    const client = new FlyClient({
      apiUrl: "https://attacker.example",
      apiUrls: ["https://api.machines.dev"],
      token: "secret",
      fetch: async () => {
        fetched++;
        return new Response("{}");
      },
      clock: new VirtualClock(0),
      random: () => 0.5,
      retry: DEFAULT_FLY_RETRY,
      limiter: null,
    });
    const e = await client.getMachine("my-app", MACHINE).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(FlyApiError);
    expect((e as FlyApiError).retryable).toBe(false);
    expect((e as FlyApiError).message).toMatch(/VIGIL_FLY_API_URLS/);
    expect(fetched).toBe(0);
  });
});

describe("replies are bounded", () => {
  const SECRET = "BODY-OF-THE-REDIRECT";

  test.each([
    ["to another host", 302, true],
    ["within the API host", 307, false],
  ])("a redirect %s is not followed, not retried, and its body is not echoed", async (_name, status, far) => {
    const r = await openRig();
    const other = await away();
    const to = `${far ? other.url : r.fake.url}/v1/apps/${r.fake.app}/machines/${MACHINE}`;
    r.fake.faults.add({ action: "get", status, location: to, rawBody: SECRET });
    const e = await rejection(r.run(r.driver.observe(r.target())));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(new RegExp(`HTTP ${status} .*redirect`));
    expect(e.message).not.toContain(SECRET);
    expect(other.requests).toEqual([]);
    expect(r.fake.requests).toHaveLength(1);
  });

  test("a reply larger than the cap is an error, not a machine", async () => {
    const r = await openRig();
    const huge = JSON.stringify({ id: MACHINE, state: "stopped", pad: "x".repeat(2 * MAX_REPLY_BYTES) });
    r.fake.faults.add({ action: "get", status: 200, rawBody: huge });
    const e = await rejection(r.run(r.driver.observe(r.target())));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/reply larger than 1 MiB/);
  });

  test("a streamed reply without a length is read only up to the cap", async () => {
    const CHUNK = 64 * 1024;
    let pulled = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
        if (pulled >= 64 * 1024 * 1024) controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    const client = new FlyClient({
      apiUrl: "https://api.machines.dev",
      apiUrls: ["https://api.machines.dev"],
      token: "t",
      fetch: async () => new Response(stream, { status: 200 }),
      clock: new VirtualClock(0),
      random: () => 0.5,
      retry: DEFAULT_FLY_RETRY,
      limiter: null,
    });
    const e = await client.getMachine("my-app", MACHINE).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/reply larger than 1 MiB/);
    expect(pulled).toBeLessThanOrEqual(MAX_REPLY_BYTES + 2 * CHUNK);
    expect(cancelled).toBe(true);
  });

  test.each([
    ["an error field", { error: "E".repeat(10_000) }],
    ["a body that is not JSON", { rawBody: "E".repeat(10_000) }],
  ])("a failing reply with %s reaches the error (and the decision note) as at most 200 characters", async (_n, f) => {
    const r = await openRig();
    r.fake.faults.add({ action: "get", status: 400, ...f });
    const e = await rejection(r.run(r.driver.observe(r.target())));
    expect(e.message).toContain("HTTP 400 EEE");
    expect(e.message.match(/E{2,}/)![0].length).toBeLessThanOrEqual(200);
    expect(e.message.length).toBeLessThan(320);
  });
});
