// CloudEvents against the real server over a socket: /v1/cloudevents goes past the fast path
// (which answers only the facts and PUT routes) to hono in each mode, and an event's
// source + id still replays its decision after the server was killed with SIGKILL.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-ce-e2e-"));
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function started(db: string): Promise<VigilProcess> {
  const p = await startVigil({ VIGIL_DB_URL: db });
  running.push(p);
  return p;
}

const event = {
  specversion: "1.0",
  id: "evt-1",
  source: "/queues/jobs",
  type: "com.example.queue.depth",
  subject: "w",
  data: { queue: { depth: 2 } },
};

const post = (url: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${url}/v1/cloudevents`, { method: "POST", headers, body: JSON.stringify(body) });

test("each mode over a socket, and a repeat after SIGKILL and a restart applies nothing", async () => {
  const db = `file:${join(dir, "ce.db")}`;
  const first = await started(db);
  const put = await fetch(`${first.url}/v1/objects/w`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy: "queue-worker" }),
  });
  expect(put.status).toBe(201);

  const structured = await post(first.url, { "content-type": "application/cloudevents+json" }, event);
  expect(structured.status).toBe(200);
  const decision = ((await structured.json()) as { decision: { id: string } }).decision.id;

  const binary = await post(
    first.url,
    {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": "evt-2",
      "ce-source": "/queues/jobs",
      "ce-type": "com.example.queue.depth",
      "ce-subject": "w",
    },
    { jobs: { inflight: 1 } },
  );
  expect(binary.status).toBe(200);
  const batch = await post(first.url, { "content-type": "application/cloudevents-batch+json" }, [
    { ...event, id: "evt-3", data: { n: 1 } },
    { ...event, id: "evt-4", subject: undefined },
  ]);
  const results = ((await batch.json()) as { results: { decisionId?: string; error?: { status: number } }[] }).results;
  expect(results[0]!.decisionId).toMatch(/^dec_/);
  expect(results[1]!.error!.status).toBe(422);

  first.kill("SIGKILL");
  await first.exited;
  const second = await started(db);
  const again = await post(second.url, { "content-type": "application/cloudevents+json" }, event);
  expect(again.status).toBe(200);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  const body = (await again.json()) as { decision: { id: string }; object: { memoryVersion: number } };
  expect(body.decision.id).toBe(decision);
  expect(body.object.memoryVersion).toBe(3);
});
