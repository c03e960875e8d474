// Node reads at most 2,000 header fields by default and drops the rest without a word: a
// conditional or an Idempotency-Key sent after 2,000 short fields (still within the 16 KiB of
// line and headers) went unseen, so a create-only PUT overwrote and a retried fact applied again.
// Every field is read now. Real HTTP on a port of its own, through both doors.

import { afterEach, expect, test } from "vitest";
import { rawBytes } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>> | null = null;
afterEach(async () => {
  await served?.close();
  served = null;
});

/** 2,000 fields of a few bytes each (`a0:` ... `a9:`), 8 KB in all. */
const FILLER = Array.from({ length: 2000 }, (_, i) => `a${i % 10}:\r\n`).join("");

function send(port: number, method: string, path: string, body: string, last: string): Promise<string> {
  return rawBytes(
    port,
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n${FILLER}${last}\r\n\r\n${body}`,
  );
}

test.each([true, false])("with the fast path %s: If-None-Match after 2,000 fields is read", async (fast) => {
  served = await servedDoors([], 1 << 20, fast);
  const reply = await send(served.port, "PUT", "/v1/objects/w1", '{"policy":"on-demand"}', "If-None-Match: *");
  expect(reply).toMatch(/^HTTP\/1\.1 412 /);
  expect(reply).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
  expect((await served.services.governor.getObject("w1"))!.policy).toBe("queue-worker");
});

test.each([true, false])("with the fast path %s: an Idempotency-Key after 2,000 fields is read", async (fast) => {
  served = await servedDoors([], 1 << 20, fast);
  const body = '{"facts":{"n":1}}';
  const first = await send(served.port, "POST", "/v1/objects/w1/facts", body, "Idempotency-Key: job-1");
  expect(first).toMatch(/^HTTP\/1\.1 200 /);
  const again = await send(served.port, "POST", "/v1/objects/w1/facts", body, "Idempotency-Key: job-1");
  expect(again).toMatch(/^HTTP\/1\.1 200 /);
  expect(again).toMatch(/\r\nidempotent-replayed: true\r\n/i);
  expect((await served.services.governor.getObject("w1"))!.memoryVersion).toBe(1);
});
