// GET /v1/objects/{id}/decisions is bounded by bytes as well as by count, as GET /v1/objects
// is: each decision carries its explanation, with the value every condition's fact had, so an
// object whose memory holds a list of 60 KB that two conditions read makes decisions of 120 KB,
// and a page of 500 was 60 MB. A page stops before its JSON passes PAGE_BYTES, says where to go
// on (`nextBefore`), and reads the store a few decisions at a time, so that it holds about what
// it keeps.

import { mkdtempSync, readdirSync, copyFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { PAGE_BYTES } from "../../src/contracts/api-replies.ts";
import { createApp } from "../../src/http/app.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

/** Two conditions read the object's `$.jobs`: each decision explains the list twice. */
const JOBS_LIST = {
  name: "jobs-list",
  version: "1",
  sleep: "stop",
  rules: [
    {
      name: "urgent-job",
      conditions: { all: [{ fact: "memory", path: "$.jobs", operator: "contains", value: "urgent" }] },
      event: { type: "wake" },
    },
    {
      name: "no-jobs",
      conditions: { all: [{ fact: "memory", path: "$.jobs", operator: "equal", value: [] }] },
      event: { type: "dormancy" },
    },
  ],
};

/** Decisions the object has: its creation, the list, and the ticks after it. */
const DECISIONS = 100;

let dir: string;
let services: TestServices;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-decisions-page-"));
  for (const f of readdirSync(RULES_DIR)) copyFileSync(join(RULES_DIR, f), join(dir, f));
  writeFileSync(join(dir, "jobs-list.json"), JSON.stringify(JOBS_LIST));
  services = await makeServices({ rulesDir: dir });
  app = createApp({ governor: services.governor, policies: services.policies, whatIf: services.whatIf, tokens: [] });
  const { governor } = services;
  await governor.putObject("jobs", { policy: "jobs-list" });
  // About 60 KB of JSON: a patch may be 64 KiB.
  const jobs = Array.from({ length: 5000 }, (_, i) => `job-${String(i).padStart(5, "0")}`);
  await governor.postFacts("jobs", { jobs });
  for (let i = 2; i < DECISIONS; i++) await governor.postFacts("jobs", { tick: i });
}, 60_000);
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

async function page(query: string) {
  const res = await app.request(`/v1/objects/jobs/decisions?${query}`);
  const text = await res.text();
  const body = JSON.parse(text) as { items: { id: string }[]; nextBefore?: string };
  return { status: res.status, bytes: Buffer.byteLength(text), body };
}

describe("a page of decisions is bounded by bytes", () => {
  test("stops before PAGE_BYTES with nextBefore; following it lists every decision once", async () => {
    const all = (await services.governor.listDecisions("jobs", 500)).map((d) => d.id);
    expect(all).toHaveLength(DECISIONS);
    const read = vi.spyOn(services.governor, "listDecisions");
    const first = await page(`limit=${DECISIONS}`);
    expect(first.status).toBe(200);
    // Unbounded, this page was about 12 MB.
    expect(first.bytes).toBeLessThanOrEqual(PAGE_BYTES);
    expect(first.body.items.length).toBeGreaterThan(1);
    expect(first.body.items.length).toBeLessThan(DECISIONS);
    expect(first.body.nextBefore).toBe(first.body.items.at(-1)!.id);
    // The store was read a few decisions at a time: about what the page keeps, not all 100.
    const decisionsRead = read.mock.settledResults.reduce((n, r) => n + (r.value as unknown[]).length, 0);
    read.mockRestore();
    expect(decisionsRead).toBeLessThanOrEqual(first.body.items.length + 10);

    const seen = first.body.items.map((d) => d.id);
    let next = first.body.nextBefore;
    while (next !== undefined) {
      const p = await page(`limit=${DECISIONS}&before=${next}`);
      expect(p.status).toBe(200);
      expect(p.bytes).toBeLessThanOrEqual(PAGE_BYTES);
      seen.push(...p.body.items.map((d) => d.id));
      next = p.body.nextBefore;
    }
    expect(seen).toEqual(all);
  }, 60_000);

  test("a page that holds `limit` decisions has nextBefore; the last page has none", async () => {
    const full = await page("limit=2");
    expect(full.body.items).toHaveLength(2);
    expect(full.body.nextBefore).toBe(full.body.items[1]!.id);
    const all = (await services.governor.listDecisions("jobs", 500)).map((d) => d.id);
    const last = await page(`limit=5&before=${all.at(-3)}`);
    expect(last.body.items.map((d) => d.id)).toEqual(all.slice(-2));
    expect(last.body.nextBefore).toBeUndefined();
  });
});
