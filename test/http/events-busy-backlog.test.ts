// A client resuming a long backlog on a busy server, over a real file database (whose reads
// answer at once behind a promise): the backlog gives the event loop a turn after each page, so
// facts keep committing and publishing while it is read. The decisions it will read anyway must
// not fill the client's queue: they once did, and a client that kept up was dropped (`overflow`).
// How many facts commit while the backlog is sent is not left to the machine's speed: the client
// reads the backlog at the posters' pace (it waits, every 100 frames, for 15 more facts), so more
// decisions than a queue holds are always published while it reads.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { QUEUE_EVENTS } from "../../src/http/sse.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
let dir: string | null = null;
afterEach(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  s = null;
  dir = null;
});

test("a client that keeps up with a long backlog while facts keep coming gets every decision once, in order, and is not dropped", async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-busy-backlog-"));
  s = await makeServices({ store: new LibsqlStore({ url: `file:${join(dir, "v.db")}` }) });
  const governor = s.governor;
  const app = createApp({ governor, policies: s.policies, whatIf: s.whatIf, tokens: s.tokens });
  const ids = Array.from({ length: 40 }, (_, i) => `o${i}`);
  for (const id of ids) await governor.putObject(id, { policy: "queue-worker" });
  const [from] = await governor.listDecisions("o0", 1);
  let n = 0;
  for (let round = 0; round < 250; round++) await Promise.all(ids.map((id) => governor.postFacts(id, { n: n++ })));
  const backlog = (await governor.decisionsSince(from!.id, 100_000)).map((d) => d.id);

  // 40 callers posting facts for as long as the client reads.
  let stop = false;
  let postedDuringBacklog = 0;
  let inBacklog = true;
  let posted: (() => void) | null = null;
  const posters = ids.map(async (id) => {
    while (!stop) {
      await governor.postFacts(id, { n: n++ });
      if (inBacklog) postedDuringBacklog++;
      posted?.();
    }
  });
  const POSTS_PER_STEP = 15;
  const FRAMES_PER_STEP = 100;
  const postsReach = async (count: number) => {
    while (postedDuringBacklog < count) await new Promise<void>((resolve) => (posted = resolve));
    posted = null;
  };
  const res = await app.request("/v1/events?types=decision", { headers: { "last-event-id": from!.id } });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const got: string[] = [];
  let overflow = false;
  let buffered = "";
  try {
    read: while (got.length < backlog.length + QUEUE_EVENTS) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (frame.includes("event: overflow")) {
          overflow = true;
          break read;
        }
        const id = /^id: (\S+)$/m.exec(frame)?.[1];
        if (id) got.push(id);
        if (got.length === backlog.length) inBacklog = false;
        else if (inBacklog && got.length % FRAMES_PER_STEP === 0)
          await postsReach((got.length / FRAMES_PER_STEP) * POSTS_PER_STEP);
      }
    }
  } finally {
    stop = true;
    await reader.cancel();
    await Promise.all(posters);
  }
  // The load is real: more decisions were published while the backlog was sent than a queue holds.
  expect(Math.floor(backlog.length / FRAMES_PER_STEP) * POSTS_PER_STEP).toBeGreaterThan(QUEUE_EVENTS);
  expect(postedDuringBacklog).toBeGreaterThan(QUEUE_EVENTS);
  expect(overflow).toBe(false);
  expect(got.slice(0, backlog.length)).toEqual(backlog);
  expect(new Set(got).size).toBe(got.length);
}, 120_000);
