// The object the end-to-end durability tests write to: `w1` under queue-worker, facts that each
// set one key of its memory's `acks`, and what a server serves of them after a restart.

import { expect } from "vitest";

/** POSTs the fact `{acks: {key: true}}` to w1 on the server at `url`. */
export const postAck = (url: string, key: string): Promise<Response> =>
  fetch(`${url}/v1/objects/w1/facts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ facts: { acks: { [key]: true } } }),
  });

/** Creates w1 (queue-worker) on the server at `url`. */
export async function createAckObject(url: string): Promise<void> {
  const put = await fetch(`${url}/v1/objects/w1`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy: "queue-worker" }),
  });
  expect(put.status).toBe(201);
}

/** The keys of w1's `acks` on the server at `url`, sorted, and its memory version. */
export async function servedAcks(url: string): Promise<{ keys: string[]; memoryVersion: number }> {
  const object = (await (await fetch(`${url}/v1/objects/w1`)).json()) as {
    memory: { acks?: Record<string, boolean> };
    memoryVersion: number;
  };
  return { keys: Object.keys(object.memory.acks ?? {}).sort(), memoryVersion: object.memoryVersion };
}
