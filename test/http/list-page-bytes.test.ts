// GET /v1/objects is bounded by bytes as well as by count: a page stops before its JSON passes
// PAGE_BYTES (but holds at least one object, however large), and its cursor goes on after the
// last object it holds, so that following cursors lists every object once.

import { afterEach, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/memory-limits.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import { PAGE_BYTES } from "../../src/contracts/api-replies.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
});

async function app(maxMemoryBytes: number) {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const governor = new Governor({
    store,
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock })],
    limits: { ...DEFAULT_LIMITS, maxMemoryBytes },
  });
  governors.push(governor);
  await governor.start();
  const hono = createApp({ governor, policies, whatIf: new WhatIf(store, (id) => governor.getObject(id)), tokens: [] });
  return { governor, hono };
}

/** Every page of GET /v1/objects?limit=500, following cursors. */
async function pages(hono: Awaited<ReturnType<typeof app>>["hono"]) {
  const out: { bytes: number; ids: string[] }[] = [];
  for (let cursor: string | undefined; ;) {
    const res = await hono.request(`/v1/objects?limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { items: { id: string }[]; nextCursor?: string };
    out.push({ bytes: Buffer.byteLength(text), ids: body.items.map((i) => i.id) });
    if (body.nextCursor === undefined) return out;
    cursor = body.nextCursor;
  }
}

describe("a page of objects", () => {
  test("stops before its JSON passes PAGE_BYTES; the cursor goes on after its last object", async () => {
    const { governor, hono } = await app(DEFAULT_LIMITS.maxMemoryBytes);
    const blob = "x".repeat(200 * 1024);
    const ids = Array.from({ length: 30 }, (_, i) => `big-${String(i).padStart(2, "0")}`);
    for (const id of ids) await governor.putObject(id, { policy: "nightly-report", memory: { blob } });

    const got = await pages(hono);
    expect(got.length).toBeGreaterThan(1);
    for (const p of got) {
      expect(p.bytes).toBeLessThanOrEqual(PAGE_BYTES);
      expect(p.ids.length).toBeGreaterThan(0);
    }
    // A page is not cut short when the next object would still fit.
    expect(got[0]!.bytes + 201 * 1024).toBeGreaterThan(PAGE_BYTES);
    expect(got.flatMap((p) => p.ids)).toEqual(ids);
  });

  test("holds at least one object, even one larger than PAGE_BYTES", async () => {
    const { governor, hono } = await app(PAGE_BYTES * 2);
    const blob = "y".repeat(PAGE_BYTES + 1024);
    for (const id of ["huge-1", "huge-2"]) await governor.putObject(id, { policy: "nightly-report", memory: { blob } });
    const got = await pages(hono);
    expect(got.map((p) => p.ids)).toEqual([["huge-1"], ["huge-2"]]);
  });

  test("small objects still fill a page up to its limit by count", async () => {
    const { governor, hono } = await app(DEFAULT_LIMITS.maxMemoryBytes);
    for (let i = 0; i < 5; i++) await governor.putObject(`s${i}`, { policy: "nightly-report" });
    const res = await hono.request("/v1/objects?limit=3");
    const body = (await res.json()) as { items: { id: string }[]; nextCursor?: string };
    expect(body.items.map((i) => i.id)).toEqual(["s0", "s1", "s2"]);
    expect(body.nextCursor).toBeDefined();
  });
});
