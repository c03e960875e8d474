// An --idempotency-key or a --last-event-id that an HTTP header cannot carry (a character past
// U+00FF, a line break) is a usage error (exit 2) naming the option: fetch refuses such a header
// before it connects, which used to read as "cannot reach the server; is the server running?"
// (exit 3) while the server was up. An idempotency key is held to the server's own rule (1-200
// printable ASCII characters, no spaces), so one with a space is refused the same way before it
// is sent; an event id the header can carry but the server does not take is the server's 422.

import { afterAll, beforeAll, expect, test } from "vitest";
import { runEvents } from "../../src/cli/events.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { run, serveVigil, type Served } from "./harness.ts";

let served: Served;
beforeAll(async () => {
  served = await serveVigil();
  expect((await run(runObjects, ["put", "w", "--policy", "queue-worker"], served.url)).code).toBe(0);
});
afterAll(() => served.close());

test.each([
  ["an em dash", "batch\u201417"],
  ["a line break", "batch\n17"],
  ["a space", "batch 17"],
  ["nothing", ""],
  ["201 characters", "k".repeat(201)],
])("--idempotency-key with %s: a usage error, and nothing is sent", async (_what, key) => {
  const r = await run(runFacts, ["post", "w", '{"n": 1}', "--idempotency-key", key], served.url);
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).toContain("vigil facts: --idempotency-key takes 1-200 printable ASCII characters, no spaces");
  expect(r.err).not.toContain("is the server running?");
  // Refused before the request: the object's memory is as it was.
  expect((await served.services.governor.getObject("w"))?.memoryVersion).toBe(0);
});

test("a key within the rule goes through, and its repeat is replayed", async () => {
  const key = "batch-17:~!".padEnd(200, "x");
  const first = await run(runFacts, ["post", "w", '{"n": 2}', "--idempotency-key", key], served.url);
  expect(first.err).toBe("");
  expect(first.code).toBe(0);
  const again = await run(runFacts, ["post", "w", '{"n": 2}', "--idempotency-key", key], served.url);
  expect(again.code).toBe(0);
  expect(again.out).toContain(`replayed: the key "${key}" was used before`);
});

test.each(["dec_\u043a\u043b\u044e\u0447", "dec_0mx43l6jo000198c525b1\r\nx-injected: 1"])(
  "--last-event-id %j: a usage error, not an unreachable server",
  async (id) => {
    const r = await run(runEvents, ["--last-event-id", id, "--count", "1"], served.url);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(
      "vigil events: --last-event-id holds a line break or a character an HTTP header cannot carry",
    );
    expect(r.err).not.toContain("is the server running?");
  },
);

test("a --last-event-id a header can carry but the server does not take is the server's 422 (exit 5)", async () => {
  const r = await run(runEvents, ["--last-event-id", "dec_caf\u00e9", "--count", "1"], served.url);
  expect(r.code).toBe(5);
  expect(r.err).toContain("422");
  expect(r.err).toContain("$.headers.Last-Event-ID");
});
