// A driver's answer that comes after Governor.close (a start still with the driver when the
// server stopped: a Fly machine taking its time) is not recorded. The lease is given up at the
// close, and the store closed after it: the answer wrote into a closed database (an error saying
// a write "may or may not have been recorded", at every such shutdown), or into one another
// server may govern by then. Its row stays pending, for the next server to send, as a failure
// during the close leaves it.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush } from "../../src/timers/clock.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** w woken, its start (5 s with the simulated driver) still with the driver. */
async function waking(s: TestServices): Promise<string[]> {
  const errors: string[] = [];
  s.governor.events.on("governor:error", (e: Error, context: string) => errors.push(`${context}: ${e.message}`));
  await s.governor.putObject("w", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 5_000 } },
  });
  await s.governor.postFacts("w", { queue: { depth: 2 } });
  await s.advance(100);
  expect((await s.governor.getObject("w"))?.state).toBe("waking");
  return errors;
}

test("a start answered after the close writes nothing into the closed database, nor says it may have", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-close-answer-"));
  dirs.push(dir);
  const url = `file:${join(dir, "v.db")}`;
  const s = await makeServices({ store: new LibsqlStore({ url }) });
  const errors = await waking(s);
  await s.close();
  // The simulated start answers now, the server closed.
  await s.clock.advance(10_000, flush);
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual([]);
  const again = new LibsqlStore({ url });
  try {
    expect((await again.pendingActions()).map((a) => [a.objectId, a.kind, a.status])).toEqual([
      ["w", "start", "pending"],
    ]);
    expect((await again.getObject("w"))?.state).toBe("waking");
  } finally {
    await again.close();
  }
});

test("a start answered after the close leaves the store as the close left it", async () => {
  const store = new MemoryStore();
  const s = await makeServices({ store });
  const errors = await waking(s);
  await s.governor.close();
  await s.clock.advance(10_000, flush);
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual([]);
  expect((await store.getObject("w"))?.state).toBe("waking");
  expect((await store.pendingActions()).map((a) => a.kind)).toEqual(["start"]);
  await store.close();
});
