// An object deleted and created again while a stream sends its backlog: the deletion is not
// replayed, so it waited in the queue for the backlog's end, while the backlog sent the new
// object's creation (committed after the deletion) before it, and the client was told last that
// the object was deleted, though it was there (the dashboard's object page then said "There is
// no object with this id"). Driven directly, over a real governor: the deletion goes in its place,
// after the decisions taken before it and before those taken after.

import type { SSEStreamingApi } from "hono/streaming";
import { afterEach, expect, test } from "vitest";
import { EventStream, eventHub } from "../../src/http/sse.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("an object deleted and created again during a backlog: its deletion comes before its new creation", async () => {
  s = await makeServices();
  const governor = s.governor;
  await governor.putObject("x", { policy: "on-demand" });
  const [from] = await governor.listDecisions("x", 1);
  await governor.putObject("y", { policy: "on-demand" });
  await governor.putObject("z", { policy: "on-demand" });

  const written: string[] = [];
  let recreated = false;
  const sse = {
    write: async (text: string) => {
      written.push(text);
      // While the backlog's first decision is written: x goes, and comes again.
      if (text.startsWith("event: decision") && !recreated) {
        recreated = true;
        await governor.deleteObject("x");
        await governor.putObject("x", { policy: "on-demand" });
        await governor.postFacts("x", { work: { pending: 1 } });
      }
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  const stream = new EventStream(sse, s.clock, eventHub(governor), { types: new Set(["decision", "deletion"]) });
  const run = stream.run({
    from: from!.id,
    first: await governor.decisionsSince(from!.id, 1),
    size: 1,
    read: (after) => governor.decisionsSince(after, 1),
  });
  const told = () =>
    written
      .filter((t) => t.startsWith("event: "))
      .map((t) => {
        const data = JSON.parse(/^data: (.*)$/m.exec(t)![1]!) as { objectId: string; id?: string };
        return t.startsWith("event: deletion") ? `deleted ${data.objectId}` : `${data.objectId} ${data.id}`;
      });
  const all = () => governor.decisionsSince(from!.id, 100);
  // Every decision, and the deletion.
  await expect.poll(async () => recreated && told().length === (await all()).length + 1).toBe(true);
  const decisions = await all();
  stream.end();
  await run;
  // y and z were created before the deletion; x's creation and fact after it.
  const [y, z, ...again] = decisions;
  expect(told()).toEqual([`y ${y!.id}`, `z ${z!.id}`, "deleted x", ...again.map((d) => `${d.objectId} ${d.id}`)]);
  expect(again.map((d) => d.objectId)).toEqual(["x", "x"]);
});

test("an action's status that came before the deletion is told before it too", async () => {
  s = await makeServices();
  const services = s;
  const governor = services.governor;
  // x wakes: its start waits a second on the clock.
  await governor.putObject("x", { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 1000 } } });
  const [from] = await governor.listDecisions("x", 1);
  await governor.postFacts("x", { work: { pending: 1 } });
  const [wake] = await governor.listDecisions("x", 1);
  await governor.putObject("y", { policy: "on-demand" });

  const written: string[] = [];
  let deleted = false;
  const sse = {
    write: async (text: string) => {
      written.push(text);
      // While the wake decision is written: its start is confirmed, then x goes, and comes again.
      if (text.startsWith("event: decision") && text.includes(wake!.id) && !deleted) {
        deleted = true;
        await services.advance(1000);
        await governor.deleteObject("x", "keep");
        await governor.putObject("x", { policy: "on-demand" });
      }
    },
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  const stream = new EventStream(sse, services.clock, eventHub(governor), {
    types: new Set(["decision", "action", "deletion"]),
  });
  const run = stream.run({
    from: from!.id,
    first: await governor.decisionsSince(from!.id, 1),
    size: 1,
    read: (after) => governor.decisionsSince(after, 1),
  });
  const told = () =>
    written
      .filter((t) => t.startsWith("event: "))
      .map((t) => {
        const data = JSON.parse(/^data: (.*)$/m.exec(t)![1]!) as { objectId: string; status?: string };
        const type = /^event: (\w+)/.exec(t)![1]!;
        return type === "action" ? `action ${data.objectId} ${data.status}` : `${type} ${data.objectId}`;
      });
  await expect.poll(() => told().filter((t) => t === "decision x").length).toBe(2);
  stream.end();
  await run;
  // The wake, y's creation (before the stream), the start confirmed, the deletion, x again.
  expect(told()).toEqual(["decision x", "decision y", "action x confirmed", "deletion x", "decision x"]);
});

test("a decision the backlog will not send, its object deleted since, is told before the deletion", async () => {
  s = await makeServices();
  const governor = s.governor;
  await governor.putObject("x", { policy: "on-demand" });
  const [from] = await governor.listDecisions("x", 1);
  await governor.putObject("y", { policy: "on-demand" });

  const written: string[] = [];
  const sse = {
    write: async (text: string) => void written.push(text),
    onAbort: () => {},
    abort: () => {},
  } as unknown as SSEStreamingApi;
  const stream = new EventStream(sse, s.clock, eventHub(governor), { types: new Set(["decision", "deletion"]) });
  let reads = 0;
  const run = stream.run({
    from: from!.id,
    first: await governor.decisionsSince(from!.id, 1),
    size: 1,
    read: async (after) => {
      // While the backlog's first read is on its way: a fact for x (queued, as decisions are
      // while a read is), x deleted (its decisions with it), and z created.
      if (++reads === 1) {
        await governor.postFacts("x", { work: { pending: 1 } });
        await governor.deleteObject("x", "keep");
        await governor.putObject("z", { policy: "on-demand" });
      }
      return governor.decisionsSince(after, 1);
    },
  });
  const told = () =>
    written
      .filter((t) => t.startsWith("event: "))
      .map((t) => {
        const data = JSON.parse(/^data: (.*)$/m.exec(t)![1]!) as { objectId: string; trigger?: { kind: string } };
        return t.startsWith("event: deletion") ? `deletion ${data.objectId}` : `${data.objectId} ${data.trigger!.kind}`;
      });
  await expect.poll(() => told().length).toBe(4);
  stream.end();
  await run;
  expect(told()).toEqual(["y create", "x facts", "deletion x", "z create"]);
});
