// VIGIL_DRIVERS: the server builds only the drivers objects may bind to, and a PUT naming
// another one is a 422 that says so (the same through the fast path and the hono app).
// Objects already bound to a driver no longer enabled do not stop the server from starting.

import { getRequestListener } from "@hono/node-server";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { emptyBatch } from "../../src/core/store.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/main.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const TOKEN = "0123456789abcdef-ops";
const sleeper = { driver: "process", config: { command: "sleep", args: ["60"] } };
// nightly-report does not wake on creation: nothing is spawned.
const body = (substrate: unknown) => JSON.stringify({ policy: "nightly-report", substrate });

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({
    VIGIL_DB_URL: ":memory:",
    VIGIL_PORT: "0",
    VIGIL_RECONCILE_INTERVAL: "off",
    VIGIL_RULES_DIR: RULES_DIR,
    ...env,
  });
  const server = await startServer(config, createLogger("silent"));
  servers.push(server);
  return server;
}

function putTo(url: string, id: string, substrate: unknown, token?: string) {
  return fetch(`${url}/v1/objects/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body(substrate),
  });
}

function expectNotEnabled(status: number, problem: any, driver: string, enabled: string): void {
  expect(status).toBe(422);
  expect(problem.detail).toBe(`the substrate driver "${driver}" is not enabled on this server`);
  expect(problem.errors).toEqual([
    {
      path: "$.substrate.driver",
      message: `enabled here: ${enabled}; VIGIL_DRIVERS lists the drivers objects may bind to`,
    },
  ]);
}

describe("the drivers a server enables", () => {
  test("with tokens, process is not enabled unless VIGIL_DRIVERS lists it", async () => {
    const server = await serve({ VIGIL_TOKENS: `ops:${TOKEN}:admin` });
    const r = await putTo(server.url, "p1", sleeper, TOKEN);
    expectNotEnabled(r.status, await r.json(), "process", "simulated, fly");
    expect((await putTo(server.url, "s1", { driver: "simulated", config: {} }, TOKEN)).status).toBe(201);
  });

  test("VIGIL_DRIVERS enables process with tokens, and leaves out what it does not list", async () => {
    const server = await serve({ VIGIL_TOKENS: `ops:${TOKEN}:admin`, VIGIL_DRIVERS: "simulated,process" });
    expect((await putTo(server.url, "p1", sleeper, TOKEN)).status).toBe(201);
    const r = await putTo(server.url, "f1", { driver: "fly", config: { app: "a", machineId: "m" } }, TOKEN);
    expectNotEnabled(r.status, await r.json(), "fly", "simulated, process");
  });

  test("without tokens (loopback development) every driver is enabled", async () => {
    const server = await serve({});
    expect((await putTo(server.url, "p1", sleeper)).status).toBe(201);
  });
});

describe("a PUT naming a driver that is not enabled", () => {
  test("gets the same 422 from the fast path and from the hono app", async () => {
    const clock = new VirtualClock(START);
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const store = new MemoryStore();
    const governor = new Governor({ store, policies, clock, drivers: [new SimulatedDriver({ clock })] });
    await governor.start();
    const app = createApp({
      governor,
      policies,
      whatIf: new WhatIf(store, (id) => governor.getObject(id)),
      tokens: [],
    });
    const fast = factsFastPath({ governor, policies, tokens: [], bodyLimitBytes: 1 << 20, report: () => {} });
    let answeredFast = 0;
    const server = http.createServer((req, res) => {
      if (fast(req, res)) answeredFast++;
      else void getRequestListener(app.fetch)(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const viaFast = await putTo(`http://127.0.0.1:${port}`, "p1", sleeper);
      expect(answeredFast).toBe(1);
      const viaHono = await app.request("/v1/objects/p1", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: body(sleeper),
      });
      const fastProblem = await viaFast.json();
      expectNotEnabled(viaFast.status, fastProblem, "process", "simulated");
      expect(viaHono.status).toBe(viaFast.status);
      expect(await viaHono.json()).toEqual(fastProblem);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await governor.close();
    }
  });
});

describe("a PUT without substrate when the default driver is not enabled", () => {
  test("is a 422 for a new object; an existing one keeps its binding", async () => {
    const server = await serve({ VIGIL_TOKENS: `ops:${TOKEN}:admin`, VIGIL_DRIVERS: "process" });
    const put = (id: string, input: object) =>
      fetch(`${server.url}/v1/objects/${id}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(input),
      });
    const refused = await put("n1", { policy: "nightly-report" });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      detail: 'the default substrate driver "simulated" is not enabled on this server',
      errors: [{ path: "$.substrate", message: "required here: name one of process (VIGIL_DRIVERS)" }],
    });
    expect((await put("p1", { policy: "nightly-report", substrate: sleeper })).status).toBe(201);
    const kept = await put("p1", { policy: "queue-worker" });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ substrate: { driver: "process" } });
  });
});

describe("objects bound to a driver no longer enabled", () => {
  test("the server starts and serves them; one whose compute may run cannot be rebound or deleted without compute=keep", async () => {
    const clock = new VirtualClock(START);
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const store = new MemoryStore();
    // Bound to process by a server that had it, with an observation to adopt and an action pending.
    const before = new Governor({
      store,
      policies,
      clock,
      drivers: [new SimulatedDriver({ clock }), new ProcessDriver({ clock })],
    });
    await before.start();
    for (const id of ["p1", "p2", "p3"]) await before.putObject(id, { policy: "nightly-report", substrate: sleeper });
    await before.close();
    const stored = (await store.getObject("p1"))!;
    const observed = { status: "running" as const, at: START, pid: 1, startTime: 1 };
    await store.commit([emptyBatch({ ...stored, substrate: { ...stored.substrate, observed } })]);

    const errors: string[] = [];
    const after = new Governor({ store, policies, clock, drivers: [new SimulatedDriver({ clock })] });
    after.events.on("governor:error", (e) => errors.push(e.message));
    await after.start();
    try {
      // Not adopted (nothing is signalled), not reconciled.
      expect(await after.getObject("p1")).toMatchObject({ substrate: { driver: "process", observed } });
      expect(await after.reconcile()).toBe(0);
      // p1's compute may still run, and no enabled driver can stop it: rebinding or deleting it
      // is refused (a 503 that changes nothing) unless the compute is explicitly kept.
      const simulated = { policy: "nightly-report", substrate: { driver: "simulated", config: {} } };
      await expect(after.putObject("p1", simulated)).rejects.toThrow(
        /process driver is not enabled .* cannot be stopped; enable it and send the PUT again, or, to leave that compute running, delete the object with compute=keep and create it again on the new binding$/,
      );
      await expect(after.deleteObject("p1", "stop")).rejects.toThrow(/delete with compute=keep/);
      expect((await after.getObject("p1"))!.substrate.driver).toBe("process");
      expect(await after.deleteObject("p1", "keep")).toBe(true);
      // p2 never ran: nothing to stop, so it rebinds and deletes as usual.
      await after.putObject("p2", simulated);
      expect((await after.getObject("p2"))!.substrate.driver).toBe("simulated");
      expect(await after.deleteObject("p2")).toBe(true);
      expect(errors).toEqual([]);
      // A wake of one still bound there fails like any action its driver refuses.
      await after.postFacts("p3", { report: { requested: true } });
      await clock.advance(120_000, () => after.idle());
      expect((await after.getObject("p3"))!.state).toBe("failed");
    } finally {
      await after.close();
    }
  });
});
