// POST /v1/policies/validate and the rules-directory loader agree on the same bytes (validate is
// how a deployer checks a file before saving it into rules/): the size limit counts compact JSON
// (not a file's indentation), a byte order mark is passed over, bytes that are not UTF-8 are
// refused, and so are keys that name an object's prototype machinery.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { queueWorkerPolicy, setup, type Harness } from "./harness.ts";

let h: Harness;
let dir: string;
beforeEach(async () => {
  h = await setup();
  dir = mkdtempSync(join(tmpdir(), "vigil-review-policiesapi-"));
});
afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** POSTs the bytes to validate, saves the same bytes as rules/<name>.json, loads it. */
async function both(name: string, bytes: Buffer) {
  const res = await h.app.request("/v1/policies/validate", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: bytes,
  });
  const validate = { status: res.status, body: JSON.parse(await res.text()) };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, bytes);
  const loaded = h.services.policies.loadFile(file);
  return { validate, loaded };
}

describe("validate and the file loader agree", () => {
  test("a pretty-printed policy validate accepts is not refused as a file for its indentation", async () => {
    // 1,000 small rules: about 200,000 characters of compact JSON, under the 262,144 limit;
    // indented with two spaces (as every file in rules/ is) the text is longer than the limit.
    const doc = queueWorkerPolicy();
    doc.name = "many-rules";
    doc.rules = Array.from({ length: 1000 }, (_, i) => ({
      name: `queue-depth-${i}`,
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: i }] },
      event: { type: "wake", params: { reason: `queue depth over ${i}` } },
    }));
    const text = JSON.stringify(doc, null, 2);
    expect(JSON.stringify(doc).length).toBeLessThan(262_144);
    const { validate, loaded } = await both("many-rules", Buffer.from(text));
    expect(validate.status).toBe(200);
    expect(loaded.ok ? [] : loaded.error.errors).toEqual([]);
  });

  test("a policy saved with a UTF-8 byte order mark loads, as validate accepts those bytes", async () => {
    // Windows editors (Notepad, PowerShell 5's Out-File -Encoding utf8) write a BOM.
    const doc = queueWorkerPolicy();
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(doc, null, 2))]);
    const { validate, loaded } = await both("queue-worker", bytes);
    expect(validate).toEqual({ status: 200, body: { valid: true, warnings: [] } });
    expect(loaded.ok ? [] : loaded.error.errors).toEqual([]);
  });

  test("a policy file that is not UTF-8 is refused, as validate refuses those bytes", async () => {
    // Latin-1 "café": validate says 400 (not UTF-8); the loader decodes it leniently and serves
    // a rule comparing with "caf\uFFFD", which no memory written as UTF-8 ever equals. Two
    // different Latin-1 edits also get the same `hash`.
    const doc = queueWorkerPolicy();
    doc.rules[0].conditions.all.push({ fact: "memory", path: "$.region", operator: "equal", value: "café" });
    const { validate, loaded } = await both("queue-worker", Buffer.from(JSON.stringify(doc), "latin1"));
    expect(validate.status).toBe(400);
    expect(loaded.ok).toBe(false);
  });

  test("a policy with a key named constructor or prototype is refused by both", async () => {
    const doc = queueWorkerPolicy();
    doc.conditions = {
      prototype: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 }] },
    };
    doc.rules[0].conditions = { condition: "prototype" };
    const { validate, loaded } = await both("queue-worker", Buffer.from(JSON.stringify(doc, null, 2)));
    expect(validate.status).toBe(422);
    expect(loaded.ok ? [] : loaded.error.errors).toEqual([
      { path: "$.conditions.prototype", message: 'the key "prototype" is not allowed' },
    ]);
  });
});
