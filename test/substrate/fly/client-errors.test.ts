// How the fly client reports a request that went wrong, as the decision note shows it: a
// network failure names its cause (fetch only says `fetch failed`), never the token; an ok
// reply that is not what the driver reads (a proxy's HTML page) is a failure, retried.

import { afterEach, describe, expect, test } from "vitest";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { FlyApiError, FlyClient } from "../../../src/substrate/fly/client.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { DEFAULT_FLY_RETRY } from "../../../src/substrate/fly/retry.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { refusingPort } from "../../helpers/refusing-port.ts";
import { startFlyFake } from "./fake.ts";
import { MACHINE, openRig, rejection, T0, type Rig } from "./rig.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A driver sending to `apiUrl` (allowed), one try per request. */
function driverFor(apiUrl: string, options: { fetch?: typeof fetch; token?: string } = {}) {
  const driver = new FlyDriver({
    clock: new VirtualClock(T0),
    token: options.token ?? "tok",
    apiUrls: [apiUrl],
    retry: { attempts: 1 },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const target: DriverTarget = { objectId: "o", config: { app: "a", machineId: MACHINE, apiUrl } };
  return { driver, target };
}

/** A loopback URL where a connection is refused, held so until the test finishes. */
const closedUrl = async () => `http://127.0.0.1:${await refusingPort()}`;

describe("a request that gets no answer names why", () => {
  test("a refused connection: ECONNREFUSED and the address", async () => {
    const url = await closedUrl();
    const { driver, target } = driverFor(url);
    const e = await rejection(driver.observe(target));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(
      new RegExp(
        `^fly observe a/${MACHINE}: GET /v1/apps/a/machines/${MACHINE}: fetch failed: .*ECONNREFUSED ${url.slice(7)}`,
      ),
    );
  });

  test("a TLS failure (https to a server that speaks plain HTTP): its error code", async () => {
    const fake = await startFlyFake();
    cleanups.push(() => fake.close());
    const { driver, target } = driverFor(fake.url.replace("http:", "https:"));
    const e = await rejection(driver.observe(target));
    expect(e.message).toMatch(/: fetch failed: ERR_SSL_\w+ \(.*SSL routines/);
    expect(e.message).not.toContain("\n");
  });

  test("a name that does not resolve (_api.internal outside Fly's network), as fetch reports it", async () => {
    const url = "http://_api.internal:4280";
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND _api.internal"), { code: "ENOTFOUND" });
    const { driver, target } = driverFor(url, {
      fetch: async () => {
        throw new TypeError("fetch failed", { cause: dns });
      },
    });
    const e = await rejection(driver.observe(target));
    expect(e.message).toBe(
      `fly observe a/${MACHINE}: GET /v1/apps/a/machines/${MACHINE}: fetch failed: getaddrinfo ENOTFOUND _api.internal`,
    );
  });

  test("each address of a host refused (Node's AggregateError, which has no message): its errors", async () => {
    const url = "http://_api.internal:4280";
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: "ECONNREFUSED" });
    const all = Object.assign(new AggregateError([refused("[fdaa::3]:4280"), refused("10.0.0.3:4280")], ""), {
      code: "ECONNREFUSED",
    });
    const { driver, target } = driverFor(url, {
      fetch: async () => {
        throw new TypeError("fetch failed", { cause: all });
      },
    });
    const e = await rejection(driver.observe(target));
    expect(e.message).toMatch(
      /fetch failed: connect ECONNREFUSED \[fdaa::3\]:4280; connect ECONNREFUSED 10\.0\.0\.3:4280$/,
    );
  });

  test("a cause that quotes the token shows it redacted, and at most 200 characters of it", async () => {
    const token = "FlyV1 fm2_SECRET";
    const url = "https://api.machines.dev";
    const cause = new Error(`refused header authorization: Bearer ${token} ${"x".repeat(10_000)}`);
    const { driver, target } = driverFor(url, {
      token,
      fetch: async () => {
        throw new TypeError("fetch failed", { cause });
      },
    });
    const e = await rejection(driver.observe(target));
    expect(e.message).toContain("fetch failed: refused header authorization: Bearer [redacted] xxx");
    expect(e.message).not.toContain("fm2_SECRET");
    expect(e.message.length).toBeLessThan(320);
  });
});

describe("an ok reply that is not what the driver reads is a failure, retried", () => {
  const PAGE = "<html><body>Down for maintenance</body></html>";
  const count = (r: Rig, action: string) => r.fake.requests.filter((q) => q.action === action).length;

  test.each([
    ["a proxy's HTML page", PAGE, "not a JSON object \\(text/plain"],
    ["JSON without a state", JSON.stringify({ id: MACHINE }), "no state"],
  ])("Get Machine answered with %s every time: observe and stop fail retryably, saying so", async (_n, raw, why) => {
    const r = await openRig();
    r.fake.faults.add({ action: "get", status: 200, rawBody: raw, times: Infinity });
    for (const [name, call] of [
      ["observe", () => r.driver.observe(r.target())],
      ["stop", () => r.driver.stop(r.target())],
    ] as const) {
      const e = await rejection(r.run(call()));
      expect(e.retryable).toBe(true);
      expect(e.message).toMatch(
        new RegExp(
          `^fly ${name} .*: GET /v1/apps/.*/machines/${MACHINE}: HTTP 200 reply is not a Machine: ${why}.* \\(after 5 tries\\)$`,
        ),
      );
      expect(e.message).not.toContain("maintenance");
    }
    expect(count(r, "get")).toBe(10);
  });

  test("a proxy's page once, then Fly's answer: observe reads the machine", async () => {
    const r = await openRig();
    r.fake.faults.add({ action: "get", status: 200, rawBody: PAGE });
    expect(await r.run(r.driver.observe(r.target()))).toMatchObject({ status: "stopped" });
    expect(count(r, "get")).toBe(2);
  });

  test("a lease taken with a proxy's page for an answer is taken on the next try; one never answered fails", async () => {
    const r = await openRig({ driver: { useLeases: true } });
    r.fake.faults.add({ action: "lease-acquire", status: 200, rawBody: PAGE });
    expect(await r.run(r.driver.start(r.target()))).toMatchObject({ status: "running" });
    // Taken on the second try (no nonce yet), and not renewed: it has a whole phase left.
    const takes = r.fake.requests.filter((q) => q.action === "lease-acquire");
    expect(takes.map((q) => q.nonce !== null)).toEqual([false, false]);
    expect(r.fake.machines.get(MACHINE)!.lease).toBeNull();

    r.fake.faults.add({ action: "lease-acquire", status: 200, rawBody: PAGE, times: Infinity });
    const e = await rejection(r.run(r.driver.stop(r.target())));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(
      /POST \/v1\/apps\/.*\/lease: HTTP 200 reply is not a Lease: not a JSON object.* \(after 5 tries\)$/,
    );
    expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
  });
});

describe("an ok reply of a command or a wait that is not JSON is not Fly's yes: retried", () => {
  const PAGE = "<html><body>OK</body></html>";

  test("a wait answered with a proxy's page: the stop waits on until the machine is stopped", async () => {
    const r = await openRig({ state: "started" });
    r.fake.transitionMs.stop = 30_000;
    r.fake.faults.add({ action: "wait", status: 200, rawBody: PAGE });
    expect(await r.run(r.driver.stop(r.target()))).toMatchObject({ status: "stopped" });
    expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
    expect(r.fake.requests.filter((q) => q.action === "wait").map((q) => q.status)).toEqual([200, 200]);
  });

  test("a start answered with a proxy's page (never sent to the machine): sent again, and it starts", async () => {
    const r = await openRig();
    r.fake.faults.add({ action: "start", status: 200, rawBody: PAGE });
    expect(await r.run(r.driver.start(r.target()))).toMatchObject({ status: "running" });
    expect(r.fake.requests.filter((q) => q.action === "start").length).toBe(2);
  });

  test("a suspend answered with a page every time fails retryably, saying so; an empty 200 is a yes", async () => {
    const r = await openRig({ state: "started" });
    r.fake.faults.add({ action: "suspend", status: 200, rawBody: PAGE, times: Infinity });
    const e = await rejection(r.run(r.driver.suspend(r.target())));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(
      /POST \/v1\/apps\/.*\/suspend: HTTP 200 reply is not JSON \(text\/plain.* \(after 5 tries\)$/,
    );
    expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
    r.fake.faults.clear();
    r.fake.faults.add({ action: "stop", status: 200, rawBody: "" });
    r.fake.machines.get(MACHINE)!.state = "stopped"; // as if the empty 200 had stopped it
    expect(await r.run(r.driver.stop(r.target()))).toMatchObject({ status: "stopped" });
  });

  test.each([
    ["empty", true, ""],
    ["an object", true, '{"ok":true}'],
    ["JSON null", true, "null"],
    ["JSON null between blanks", true, " null\r\n"],
    ["JSON false", true, "false"],
    ["a page", false, "<html>null</html>"],
    ["text that is not JSON", false, "nul"],
  ])("a stop's 200 body, %s: a yes, %s", async (_name, yes, text) => {
    const client = new FlyClient({
      apiUrl: "https://api.machines.dev",
      apiUrls: ["https://api.machines.dev"],
      token: "FlyV1 fm2_x",
      fetch: async () => new Response(text, { status: 200, headers: { "content-type": "application/json" } }),
      clock: new VirtualClock(T0),
      random: () => 0.5,
      retry: { ...DEFAULT_FLY_RETRY, attempts: 1 },
      limiter: null,
    });
    const e = await client.stop("app", MACHINE, undefined).then(
      () => null,
      (err: unknown) => err as FlyApiError,
    );
    if (yes) expect(e).toBeNull();
    else expect(e?.message).toMatch(/HTTP 200 reply is not JSON \(application\/json\)/);
  });
});

describe("a failing reply's text goes into the error on one line", () => {
  test.each([
    [
      "a proxy's HTML page",
      {
        rawBody:
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n\t\u001b[31mbad\u001b[0m</body>\n</html>",
      },
    ],
    ["Fly's error with line breaks", { error: "502 Bad Gateway\nupstream\r\n\u001b[31mbad\u001b[0m" }],
  ])("%s: the start's error names it, without a line break or a control character", async (_n, fault) => {
    const r = await openRig();
    r.fake.faults.add({ action: "start", status: 502, times: Infinity, ...fault });
    const e = await rejection(r.run(r.driver.start(r.target())));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/: HTTP 502 .*502 Bad Gateway.*bad.* \(after 5 tries\)$/);
    expect(e.message).not.toMatch(/\p{Cc}/u);
  });
});

describe("a lease release answered 409 is final", () => {
  const releases = (r: Rig) => r.fake.requests.filter((q) => q.action === "lease-release").map((q) => q.status);

  test("another holder took the lease over during the start: one release, answered 409, not retried", async () => {
    const r = await openRig({ driver: { useLeases: true } });
    r.fake.transitionMs.start = 3_000;
    const call = r.driver.start(r.target());
    // Once the start waits for `started` (the clock has not moved yet: it moves in run), someone
    // else takes the machine's lease over.
    while (r.fake.parked === 0) await new Promise((ok) => setTimeout(ok, 1));
    const other = r.fake.holdLease(MACHINE, 600);
    expect(await r.run(call)).toMatchObject({ status: "running" });
    expect(releases(r)).toEqual([409]);
    expect(r.fake.machines.get(MACHINE)!.lease?.nonce).toBe(other);
  });

  test("control: a release answered 503 is retried", async () => {
    const r = await openRig({ driver: { useLeases: true } });
    r.fake.faults.add({ action: "lease-release", status: 503, times: 2 });
    expect(await r.run(r.driver.start(r.target()))).toMatchObject({ status: "running" });
    expect(releases(r)).toEqual([503, 503, 200]);
  });
});
