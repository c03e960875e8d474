// Deletions published while a stream sends its backlog: a deletion is not replayed, so it waits in
// the queue for the backlog's end, and counted against the queue's 1,000 events, more than that
// many during one long backlog dropped a client that kept up. They now count against the bytes
// alone until written. Driven directly, with small limits: a client that reads everything, and
// a backlog whose read sees deletions published meanwhile.

import type { SSEStreamingApi } from "hono/streaming";
import { expect, test } from "vitest";
import type { GovernorApi, LiveChange } from "../../src/governor/services.ts";
import { EventHub, EventStream } from "../../src/http/sse.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

function hubAndSend() {
  let listener: ((change: LiveChange) => void) | null = null;
  const governor = {
    watch: (l: (change: LiveChange) => void) => {
      listener = l;
      return () => (listener = null);
    },
  } as unknown as GovernorApi;
  return { hub: new EventHub(governor), send: (change: LiveChange) => listener?.(change) };
}

/** A client that reads every write at once; `held`: from then on, writes wait for good. */
function client() {
  const written: string[] = [];
  const c = { held: false };
  const sse = {
    write: (text: string) => {
      if (c.held) return new Promise<void>(() => {});
      written.push(text);
      return Promise.resolve();
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  return { sse, written, c };
}

const deletion = (objectId: string): LiveChange => ({ kind: "deletion", objectId, at: 0 });
const filter = { types: new Set(["decision", "deletion"] as const) };

test("deletions published during a backlog, more than the queue's count, do not drop a client that keeps up", async () => {
  const { hub, send } = hubAndSend();
  const { sse, written } = client();
  const stream = new EventStream(sse, new VirtualClock(0), hub, filter, undefined, { events: 5, bytes: 1 << 20 });
  // The backlog's next read: twelve objects are deleted meanwhile.
  const read = async () => {
    for (let i = 0; i < 12; i++) send(deletion(`gone-${i}`));
    return [];
  };
  const running = stream.run({ from: "dec_0000000000000", first: [], size: 200, read });
  const deletions = () => written.filter((w) => w.startsWith("event: deletion")).length;
  await expect.poll(() => deletions() === 12 || written.some((w) => w.includes("overflow"))).toBe(true);
  expect(written.join("")).not.toContain("overflow");
  expect(deletions()).toBe(12);
  // Live again: it is counted as before.
  send(deletion("later"));
  await expect.poll(deletions).toBe(13);
  stream.end();
  await running;
});

test("a client that stops reading during the backlog is still dropped, by the bytes the deletions hold", async () => {
  const { hub, send } = hubAndSend();
  const { sse, written, c } = client();
  const stream = new EventStream(sse, new VirtualClock(0), hub, filter, undefined, { events: 5, bytes: 2000 });
  const read = async () => {
    c.held = true;
    for (let i = 0; i < 100; i++) send(deletion(`gone-${i}`));
    return [];
  };
  void stream.run({ from: "dec_0000000000000", first: [], size: 200, read });
  await expect.poll(() => hub.size).toBe(0);
  expect(written.join("")).not.toContain("event: deletion");
  stream.end();
});
