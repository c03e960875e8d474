// One stream's queue counts bytes as they go on the wire (UTF-8), not JavaScript's characters:
// its limit, 1 MiB by default, would otherwise hold up to three times that in text outside
// ASCII. Driven directly: a stream whose client reads nothing, and the hub's live changes.

import type { SSEStreamingApi } from "hono/streaming";
import { expect, test } from "vitest";
import type { GovernorApi, LiveChange } from "../../src/governor/services.ts";
import { EventHub, EventStream } from "../../src/http/sse.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

/** A hub over a governor that only hands out its live changes, and the function that sends one. */
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

/** A stream whose client reads nothing: every write after the first waits for good. */
function notReading(): SSEStreamingApi {
  let writes = 0;
  return {
    write: () => (writes++ === 0 ? Promise.resolve() : new Promise(() => {})),
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
}

/** A deletion, whose frame carries its object id: about as long as the id. */
const deletion = (objectId: string): LiveChange => ({ kind: "deletion", objectId, at: 0 });
test.each([
  ["ASCII", "e", 1],
  ["two bytes a character", "é", 2],
])("%s: the queue's byte limit counts UTF-8 bytes", async (_what, ch, width) => {
  const { hub, send } = hubAndSend();
  const stream = new EventStream(notReading(), new VirtualClock(0), hub, { types: new Set(["deletion"]) }, undefined, {
    events: 100,
    bytes: 4000,
  });
  void stream.run();
  await Promise.resolve();
  send(deletion("first")); // taken by the write that never ends; the queue holds what follows
  await Promise.resolve();
  // Two frames of about 1,500 characters: 3,000 bytes in ASCII fit the 4,000, 6,000 bytes do not.
  send(deletion(ch.repeat(1500)));
  send(deletion(ch.repeat(1500)));
  expect(hub.size).toBe(width === 1 ? 1 : 0);
  stream.end();
});

/** A stream whose client reads its first event and then nothing until `release`: what was written. */
function heldAfterFirst() {
  const written: string[] = [];
  let release = () => {};
  const sse = {
    write: (text: string) => {
      written.push(text);
      return written.length <= 1 ? Promise.resolve() : new Promise<void>((r) => (release = r));
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  return { sse, written, release: () => release() };
}

// The overflow event said "fell more than 1000 events behind" whichever limit the client passed:
// one dropped by the byte limit, a few large events behind, was told of a count it never reached.
test.each([
  ["the count", "x", 3, /more than 2 events behind/],
  ["the bytes", "x".repeat(2500), 2, /more than 4,000 bytes behind/],
])("a client dropped by %s is told which limit it passed", async (_what, id, sent, reason) => {
  const { hub, send } = hubAndSend();
  const { sse, written, release } = heldAfterFirst();
  const stream = new EventStream(sse, new VirtualClock(0), hub, { types: new Set(["deletion"]) }, undefined, {
    events: 2,
    bytes: 4000,
  });
  void stream.run();
  await Promise.resolve();
  send(deletion("first")); // taken by the write that waits; the queue holds what follows
  await Promise.resolve();
  for (let i = 0; i < sent; i++) send(deletion(`${id}${i}`));
  expect(hub.size, "dropped").toBe(0);
  release();
  await expect.poll(() => written.some((t) => t.startsWith("event: overflow"))).toBe(true);
  const overflow = written.find((t) => t.startsWith("event: overflow"))!;
  expect(JSON.parse(/^data: (.*)$/m.exec(overflow)![1]!).reason).toMatch(reason);
  stream.end();
});
