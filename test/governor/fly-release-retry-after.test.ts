// A DELETE (or a rebind) whose stop of the compute Fly answers 429 with a Retry-After over the
// driver's own limit (60 s) fails at once, a 503 that changes nothing. The 503 carried no
// Retry-After of its own, though Fly asked for two minutes: a client (or the CLI) tried again
// within seconds, to be refused again. It now passes Fly's pause on (at most an hour).
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { startFlyFake } from "../substrate/fly/fake.ts";
import { flyGovernor, T0 } from "../substrate/fly/rig.ts";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers.length = 0;
});

const [A, B] = ["3d8d9016b26789", "4e9e0127c37890"];

test.each(["DELETE", "PUT (rebind)"])(
  "%s whose stop Fly answers 429 Retry-After: 120 is a 503 with Retry-After: 120",
  async (how) => {
    const clock = new VirtualClock(T0);
    const fake = await startFlyFake({ clock, machines: [{ id: A, state: "started" }, B] });
    closers.push(() => fake.close());
    const store = new MemoryStore();
    const { governor, settle } = await flyGovernor(clock, fake, { store });
    closers.push(() => governor.close());
    const policies = new PolicyRegistry(() => clock.now());
    expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
    const whatIf = new WhatIf(store, (id) => governor.getObject(id), { now: () => clock.now() });
    const app = createApp({ governor, policies, whatIf, tokens: [] });
    const binding = (machineId: string) => ({ driver: "fly", config: { app: fake.app, machineId, apiUrl: fake.url } });
    await governor.putObject("agent-0", { policy: "on-demand", substrate: binding(A) });
    await settle();
    fake.faults.add({ action: "stop", status: 429, retryAfterS: 120, times: Infinity });

    const headers = { host: "localhost", "content-type": "application/json" };
    const reply: Promise<Response> = Promise.resolve(
      how === "DELETE"
        ? app.request("/v1/objects/agent-0", { method: "DELETE", headers })
        : app.request("/v1/objects/agent-0", {
            method: "PUT",
            headers,
            body: JSON.stringify({ policy: "on-demand", substrate: binding(B) }),
          }),
    );
    let done = false;
    void reply.then(() => (done = true));
    for (let i = 0; i < 600 && !done; i++) await clock.advance(1_000, settle);
    const res = await reply;
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toMatch(/could not stop the compute of "agent-0"/);
    expect(res.headers.get("retry-after")).toBe("120");
    // Nothing changed.
    expect((await governor.getObject("agent-0"))!.substrate.config).toMatchObject({ machineId: A });
  },
);
