// POST /v1/objects/{id}/replay takes a candidate from any `read` token, and each row of its
// report lists every rule each side fired: a candidate of 2,056 rules that all fire (255 KB)
// made rows of 135 KB, and 1,000 of them a 138 MB reply that took a 512 MB server down. The
// report's differences hold at most PAGE_BYTES of JSON, the earliest rows, and say they were
// cut (`truncated`, with the count whole). Counts and bytes only: the deadline is lifted, so the
// test does not depend on how fast the machine is.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PAGE_BYTES } from "../../src/contracts/api-replies.ts";
import { createApp } from "../../src/http/app.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { TOKEN_CONFIG, TOKENS } from "./harness.ts";

/** Decisions recorded for the object: each differs under the candidate. */
const DECISIONS = 100;

let services: TestServices;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  services = await makeServices();
  const { governor, policies, store } = services;
  const whatIf = new WhatIf(store, (id) => governor.getObject(id), { deadlineMs: Infinity });
  app = createApp({ governor, policies, whatIf, tokens: TOKEN_CONFIG });
  await governor.putObject("hist", { policy: "queue-worker" });
  for (let i = 1; i < DECISIONS; i++) {
    await services.advance(1_000);
    await governor.postFacts("hist", { n: i });
  }
}, 60_000);
afterAll(() => services.close());

/** A candidate of `count` rules with names of 64 characters (the most a name may have), all firing. */
const everyRuleFires = (count: number) => ({
  name: "b",
  version: "1",
  rules: Array.from({ length: count }, (_, i) => ({
    name: String(i).padStart(64, "r"),
    conditions: { all: [] },
    event: { type: "wake" },
  })),
});

async function replay(policy: unknown) {
  const res = await app.request("/v1/objects/hist/replay", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKENS.read}`, "content-type": "application/json" },
    body: JSON.stringify({ policy }),
  });
  const text = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) };
}

describe("a replay report's differences are bounded by bytes", () => {
  test("a 255 KB candidate whose 2,056 rules all fire: at most PAGE_BYTES of rows, the earliest, marked truncated", async () => {
    const policy = everyRuleFires(2056);
    expect(JSON.stringify({ policy }).length).toBeLessThan(262_144);
    const reply = await replay(policy);
    expect(reply.status).toBe(200);
    const { differences, differenceCount, truncated } = reply.body;
    // Every recorded decision differs (the candidate fires its 2,056 rules each time).
    expect(differenceCount).toBe(DECISIONS);
    expect(differences[0].candidate.fired).toHaveLength(2056);
    expect(differences.length).toBeGreaterThan(1);
    expect(differences.length).toBeLessThan(DECISIONS);
    expect(truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(differences))).toBeLessThanOrEqual(PAGE_BYTES);
    // Unbounded, 100 such rows were about 13.8 MB.
    expect(reply.bytes).toBeLessThan(PAGE_BYTES + 64 * 1024);
    // The rows kept are the earliest, in time order, with none left out between them.
    expect(differences.map((d: { key: string }) => d.key)).toEqual(
      Array.from({ length: differences.length }, (_, i) => (i === 0 ? "create" : `facts#${i}`)),
    );
  }, 60_000);

  test("a candidate of a few rules that all fire: every row is kept, not truncated", async () => {
    const reply = await replay(everyRuleFires(3));
    expect(reply.status).toBe(200);
    expect(reply.body.differenceCount).toBe(DECISIONS);
    expect(reply.body.differences).toHaveLength(DECISIONS);
    expect(reply.body.truncated).toBe(false);
  }, 60_000);
});
