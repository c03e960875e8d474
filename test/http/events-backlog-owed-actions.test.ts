// README (Following decisions live): a client that keeps up with a long backlog on a busy server
// is not dropped. While a backlog is sent, each live decision it is still to read, and each action
// of such a decision, was counted as owed, but each decision the backlog wrote paid off only one:
// the backlog sends a decision once, with its actions' status, so an action is never written on
// its own. A client whose backlog went faster than decisions came, but slower than decisions and
// their action events together, fell "behind" by the actions alone and was dropped (`overflow`)
// though it kept up. Driven directly, over a real governor: the client takes two frames for each
// fact that comes (a decision and its action's events), and the stream's queue holds 50 events.

import type { SSEStreamingApi } from "hono/streaming";
import { afterEach, expect, test } from "vitest";
import { EventStream, eventHub } from "../../src/http/sse.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a client reading its backlog faster than decisions come is not dropped for their action events", async () => {
  s = await makeServices();
  const governor = s.governor;
  await governor.putObject("w", { policy: "on-demand" });
  const [from] = await governor.listDecisions("w", 1);
  let n = 0;
  // Work and no work in turn: each fact wakes the object or puts it to sleep, an action each.
  const fact = () => governor.postFacts("w", { work: { pending: ++n % 2 } });
  for (let i = 0; i < 400; i++) await fact();

  let decisions = 0;
  let actions = 0;
  let caughtUp = false;
  const unwatch = governor.watch((change) => {
    if (caughtUp) return;
    if (change.kind === "decision") decisions++;
    if (change.kind === "action") actions++;
  });
  const written: string[] = [];
  let frames = 0;
  // The client: every second decision it reads, one more fact commits (and is published).
  const sse = {
    write: async (text: string) => {
      written.push(text);
      if (!text.startsWith("event: decision") || caughtUp) return;
      if (++frames % 2 === 0) await fact();
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  const hub = eventHub(governor);
  const stream = new EventStream(sse, s.clock, hub, { types: new Set(["decision", "action"]) }, undefined, {
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
  unwatch();
  const overflow = written.some((t) => t.startsWith("event: overflow"));
  stream.end();
  await run;
  // The load is real: the action events that came while the backlog was sent were more than a
  // queue holds, and with the decisions more than the client read.
  expect(actions).toBeGreaterThan(50);
  expect(decisions + actions).toBeGreaterThan(frames);
  expect(overflow).toBe(false);
  expect(caughtUp).toBe(true);
});
