// A timer whose object's mailbox is busy waits its turn there (a hot object's queue of requests,
// a slow commit). It holds back no other object's timer, and it counts as late by the time it is
// evaluated: the scheduler reads what falls due meanwhile every LATE_AFTER_MS, and the firing
// measures lateness when its turn comes, not when it was launched.

import { afterEach, expect, test } from "vitest";
import { flush } from "../../src/timers/clock.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** `remind: true` schedules `nudge` a minute on; `nudge` wakes the object. */
const NUDGER = {
  name: "nudger",
  version: "1",
  rules: [
    {
      name: "remind",
      conditions: { all: [{ fact: "memory", path: "$.remind", operator: "equal", value: true }] },
      event: { type: "schedule", params: { name: "nudge", after: "PT1M" } },
    },
    {
      name: "nudged",
      conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "nudge" }] },
      event: { type: "wake" },
    },
  ],
};

async function nudged(...ids: string[]) {
  s = await makeServices();
  expect(s.policies.loadText(JSON.stringify(NUDGER), "inline/nudger.json").ok).toBe(true);
  const fired: { id: string; at: number; late: boolean }[] = [];
  s.governor.events.on("timer:fired", (id: string, _name: string, late: boolean) =>
    fired.push({ id, at: s!.clock.now(), late }),
  );
  for (const id of ids) await s.governor.putObject(id, { policy: "nudger" });
  return { s, fired };
}

/** Keeps `id`'s mailbox busy until the returned function is called. */
function hold(s: TestServices, id: string): () => Promise<void> {
  let release!: () => void;
  const busy = s.governor.exclusive(id, () => new Promise<void>((r) => (release = r)));
  return async () => {
    release();
    await busy;
    await s.advance(0);
  };
}

test("a timer waiting in a busy mailbox does not hold back another object's timer", async () => {
  const { s, fired } = await nudged("a", "b");
  await s.governor.postFacts("a", { remind: true }); // a's nudge: 00:01:00
  await s.advance(30_000);
  await s.governor.postFacts("b", { remind: true }); // b's nudge: 00:01:30
  await s.advance(20_000);
  const release = hold(s, "a");
  // Not s.advance, which waits for every mailbox to be idle between steps.
  await s.clock.advanceTo(START + 5 * 60_000, flush);
  // b's nudge fired on time (and, memory still saying remind, every minute since); a's waits.
  expect(fired[0]).toEqual({ id: "b", at: START + 90_000, late: false });
  expect(fired.filter((f) => f.id === "a")).toEqual([]);
  await release();
  expect(fired.filter((f) => f.id === "a")).toEqual([{ id: "a", at: START + 5 * 60_000, late: true }]);
});

test("a timer evaluated minutes after its due time is late, in its decision and its event", async () => {
  const { s, fired } = await nudged("a");
  await s.governor.postFacts("a", { remind: true });
  await s.advance(50_000);
  const release = hold(s, "a");
  // Not s.advance, which waits for every mailbox to be idle between steps.
  await s.clock.advanceTo(START + 5 * 60_000, flush);
  await release();
  const [d] = await s.governor.listDecisions("a", 1);
  expect(d!.at).toBe(START + 5 * 60_000);
  expect(d!.trigger).toEqual({ kind: "timer", name: "nudge", late: true });
  expect(fired).toEqual([{ id: "a", at: START + 5 * 60_000, late: true }]);
});

test("the scheduler's wait for a held firing leaves no waiter behind each second", async () => {
  const { s } = await nudged("a");
  await s.governor.postFacts("a", { remind: true });
  const release = hold(s, "a");
  await s.clock.advanceTo(START + 10 * 60_000, flush);
  // White box: what the scheduler calls when a firing ends.
  const freed = (s.governor as unknown as { scheduler: { freed: unknown[] } }).scheduler.freed;
  expect(freed.length).toBeLessThanOrEqual(1);
  await release();
});
