// End to end: the real server process on a temporary database file, several concurrent
// clients writing facts, SIGKILL in the middle, a restart, and every acknowledged fact and
// decision must be there.

import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-e2e-"));
const db = `file:${join(dir, "vigil.db")}`;
const running: VigilProcess[] = [];
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const CLIENTS = 4;
const PER_CLIENT = 150;
const KILL_AFTER = 200;

describe("crash safety", () => {
  test("every acknowledged fact survives SIGKILL and a restart", async () => {
    const first = await startVigil({ VIGIL_DB_URL: db });
    running.push(first);
    for (let c = 0; c < CLIENTS; c++) {
      const res = await fetch(`${first.url}/v1/objects/worker-${c}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ policy: "queue-worker" }),
      });
      expect(res.status).toBe(201);
    }

    const acked: { objectId: string; key: string; decisionId: string; version: number }[] = [];
    let killed = false;
    const client = async (c: number) => {
      for (let i = 0; i < PER_CLIENT && !killed; i++) {
        const key = `c${c}-${i}`;
        try {
          const res = await fetch(`${first.url}/v1/objects/worker-${c}/facts`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ facts: { acks: { [key]: true }, queue: { depth: i % 3 } } }),
          });
          if (res.status !== 200) continue;
          const body = (await res.json()) as { decision: { id: string }; object: { memoryVersion: number } };
          acked.push({
            objectId: `worker-${c}`,
            key,
            decisionId: body.decision.id,
            version: body.object.memoryVersion,
          });
          if (acked.length >= KILL_AFTER && !killed) {
            killed = true;
            first.kill("SIGKILL");
          }
        } catch {
          // The connection died with the server: this fact was never acknowledged.
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    expect(killed).toBe(true);
    await first.exited;

    const second = await startVigil({ VIGIL_DB_URL: db });
    running.push(second);
    for (let c = 0; c < CLIENTS; c++) {
      const res = await fetch(`${second.url}/v1/objects/worker-${c}`);
      expect(res.status).toBe(200);
      const object = (await res.json()) as { memory: { acks?: Record<string, boolean> }; memoryVersion: number };
      const mine = acked.filter((a) => a.objectId === `worker-${c}`);
      for (const a of mine) expect(object.memory.acks?.[a.key], a.key).toBe(true);
      const highest = Math.max(0, ...mine.map((a) => a.version));
      expect(object.memoryVersion).toBeGreaterThanOrEqual(highest);
    }
    // Every acknowledged decision is durable too (a sample keeps the test quick).
    for (const a of acked.filter((_, i) => i % 10 === 0)) {
      const res = await fetch(`${second.url}/v1/decisions/${a.decisionId}`);
      expect(res.status, a.decisionId).toBe(200);
    }
    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
