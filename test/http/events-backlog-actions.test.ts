// README (Following decisions live): "While a backlog is sent, the decisions it is still to send
// are not queued (it sends them), so a client that keeps up with a long backlog on a busy server
// is not dropped." With the default types the action events were queued all the same, and a
// queue is only written once the backlog is done: on a server whose objects wake and sleep, more
// action events than a queue holds came while a client read its backlog at full speed, and it
// was dropped (`overflow`). An action of a decision the backlog is still to read is now left to
// it (the decision shows its actions' status when sent), as that decision is. Real HTTP on a port
// of its own, over a real file database; the client reads the backlog at the posters' pace (every
// 100 frames it waits for 15 more action events), so more action events than a queue holds are
// always published while it reads.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { QUEUE_EVENTS } from "../../src/http/sse.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
import { streamServer } from "../helpers/stream-server.ts";

let s: TestServices | null = null;
let dir: string | null = null;
let closeServer: (() => Promise<void>) | null = null;
afterEach(async () => {
  await closeServer?.();
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  s = null;
  dir = null;
  closeServer = null;
});

test("a client that keeps up with a long backlog while objects wake and sleep gets every decision once, in order, and is not dropped", async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-backlog-actions-"));
  s = await makeServices({ store: new LibsqlStore({ url: `file:${join(dir, "v.db")}` }) });
  const governor = s.governor;
  const served = await streamServer(s);
  closeServer = served.close;
  const ids = Array.from({ length: 40 }, (_, i) => `o${i}`);
  for (const id of ids) await governor.putObject(id, { policy: "on-demand" });
  const [from] = await governor.listDecisions("o0", 1);
  // Work and no work in turn: each fact wakes its object or puts it to sleep, an action each.
  const sent = new Map<string, number>();
  const facts = (id: string) => {
    sent.set(id, (sent.get(id) ?? 0) + 1);
    return { work: { pending: sent.get(id)! % 2 } };
  };
  for (let round = 0; round < 250; round++) await Promise.all(ids.map((id) => governor.postFacts(id, facts(id))));
  const backlog = (await governor.decisionsSince(from!.id, 100_000)).map((d) => d.id);

  let inBacklog = true;
  let actionsDuringBacklog = 0;
  let published: (() => void) | null = null;
  const unwatch = governor.watch((change) => {
    if (change.kind !== "action" || !inBacklog) return;
    actionsDuringBacklog++;
    published?.();
  });
  let stop = false;
  const posters = ids.map(async (id) => {
    while (!stop) await governor.postFacts(id, facts(id));
  });
  const ACTIONS_PER_STEP = 15;
  const FRAMES_PER_STEP = 100;
  const actionsReach = async (count: number) => {
    while (actionsDuringBacklog < count) await new Promise<void>((resolve) => (published = resolve));
    published = null;
  };

  const res = await fetch(`http://127.0.0.1:${served.port}/v1/events`, { headers: { "last-event-id": from!.id } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const got: string[] = [];
  let overflow = false;
  let buffered = "";
  try {
    read: while (got.length < backlog.length + 100) {
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
        if (!frame.includes("event: decision")) continue;
        got.push(/^id: (\S+)$/m.exec(frame)![1]!);
        if (got.length === backlog.length) inBacklog = false;
        else if (inBacklog && got.length % FRAMES_PER_STEP === 0)
          await actionsReach((got.length / FRAMES_PER_STEP) * ACTIONS_PER_STEP);
      }
    }
  } finally {
    stop = true;
    unwatch();
    await reader.cancel();
    await Promise.all(posters);
  }
  // The load is real: more action events were published while the backlog was sent than a queue holds.
  expect(actionsDuringBacklog).toBeGreaterThan(QUEUE_EVENTS);
  expect(overflow).toBe(false);
  expect(got.slice(0, backlog.length)).toEqual(backlog);
  expect(new Set(got).size).toBe(got.length);
}, 120_000);
