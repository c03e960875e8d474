// How the fly client reports a request that went wrong, as the decision note shows it: a
// network failure names its cause (fetch only says `fetch failed`), never the token.

import { afterEach, describe, expect, test } from "vitest";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { startFlyFake } from "./fake.ts";
import { MACHINE, rejection, T0 } from "./rig.ts";

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

/** The base URL of a local server that has just closed: nothing listens there now. */
async function closedUrl(): Promise<string> {
  const fake = await startFlyFake();
  await fake.close();
  return fake.url;
}

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
