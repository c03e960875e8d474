// README (Following decisions live): a client that keeps up with a long backlog on a busy server
// is not dropped. The backlog fills the socket's buffers, and the kernel takes more only once a
// good part of them has been read: a client reading at 300 KB/s (about 510 decisions a second)
// while 360 came saw the server's writes stall for seconds, more than 1,000 decisions came
// meanwhile, counted as owed, and it was dropped (`overflow`) though it read faster than they
// came. Driven directly, over a real governor: every 100th decision the client reads, its write
// stalls while 60 facts commit (more than the queue's 50), and between stalls it reads 100
// decisions for every 60 that come.

import type { SSEStreamingApi } from "hono/streaming";
import { afterEach, expect, test } from "vitest";
import { EventStream, eventHub } from "../../src/http/sse.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a client reading its backlog faster than decisions come is not dropped when its writes stall", async () => {
  s = await makeServices();
  const governor = s.governor;
  await governor.putObject("w", { policy: "on-demand" });
  const [from] = await governor.listDecisions("w", 1);
  let n = 0;
  const fact = () => governor.postFacts("w", { work: { pending: ++n % 2 } });
  for (let i = 0; i < 400; i++) await fact();

  const written: string[] = [];
  let frames = 0;
  let stalls = 0;
  let caughtUp = false;
  const sse = {
    write: async (text: string) => {
      written.push(text);
      if (!text.startsWith("event: decision") || caughtUp) return;
      // The socket's buffers are full: nothing is taken while 60 decisions come.
      if (++frames % 100 === 0) {
        stalls++;
        for (let i = 0; i < 60; i++) await fact();
      }
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  const hub = eventHub(governor);
  const stream = new EventStream(sse, s.clock, hub, { types: new Set(["decision"]) }, undefined, {
    events: 50,
    bytes: 16 * 1024 * 1024,
  });
  const run = stream.run({
    from: from!.id,
    first: await governor.decisionsSince(from!.id, 20),
    size: 20,
    read: async (after) => {
      const page = await governor.decisionsSince(after, 20);
      if (page.length < 20) caughtUp = true;
      return page;
    },
  });
  while (!caughtUp && hub.size > 0) await new Promise((r) => setImmediate(r));
  const dropped = hub.size === 0;
  stream.end();
  await run;
  const overflow = written.some((t) => t.startsWith("event: overflow"));
  expect({ dropped, overflow, caughtUp }).toEqual({ dropped: false, overflow: false, caughtUp: true });
  expect(stalls).toBeGreaterThan(3);
  // Every decision once, in order.
  const ids = written.filter((t) => t.startsWith("event: decision")).map((t) => /^id: (.*)$/m.exec(t)![1]!);
  const all = (await governor.decisionsSince(from!.id, 10_000)).map((d) => d.id);
  expect(ids).toEqual(all.slice(0, ids.length));
  expect(ids.length).toBeGreaterThanOrEqual(400 + 60 * (stalls - 1));
});
