// A Vigil before commit 4d38a04 kept an Idempotency-Key's fingerprint as sha256 of the facts'
// JSON text in the request's key order; migration 0003 carried it over as it was. After the
// upgrade fingerprints are canonical (keys sorted), and an honest retry of such a key, the same
// body again, was a 409 "used with a different body".
import { createClient } from "@libsql/client";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await s?.close();
  s = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A libsql file holding key k1 of object w as a Vigil before 4d38a04 kept it. */
async function legacyKey(facts: object) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-legacy-key-"));
  dirs.push(dir);
  const url = `file:${join(dir, "v.db")}`;
  s = await makeServices({ store: new LibsqlStore({ url }) });
  await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
  const first = await s.governor.postFacts("w", facts, "k1");
  await s.close();
  s = null;
  const client = createClient({ url });
  await client.execute({
    sql: "UPDATE idempotency SET fingerprint = ? WHERE object_id = 'w' AND key = 'k1'",
    args: [sha256(JSON.stringify(facts))],
  });
  client.close();
  s = await makeServices({ store: new LibsqlStore({ url }) });
  return first.decision.id;
}

test("a key stored with the fingerprint of an older Vigil takes the same body again as a replay", async () => {
  const facts = { queue: { depth: 2 }, jobs: { inflight: 1 } };
  // Keys out of sorted order: the old fingerprint and the canonical one differ.
  expect(JSON.stringify(facts)).not.toBe(JSON.stringify({ jobs: facts.jobs, queue: facts.queue }));
  const decisionId = await legacyKey(facts);
  const again = await s!.governor.postFacts("w", facts, "k1");
  expect(again.replayed).toBe(true);
  expect(again.decision.id).toBe(decisionId);
  expect(again.object.memory).toEqual({ queue: { depth: 2 }, jobs: { inflight: 1 } });
});

// Without a finite check, {"a":1e400} would match {"a":null} by its old fingerprint:
// test/http/idempotency-numbers.test.ts.
test("the same key with another body is still refused", async () => {
  await legacyKey({ queue: { depth: 2 }, jobs: { inflight: 1 } });
  await expect(s!.governor.postFacts("w", { queue: { depth: 3 }, jobs: { inflight: 1 } }, "k1")).rejects.toMatchObject({
    kind: "conflict",
  });
});
