// A reload that changes a schedule's cron under the same name: each object's tick armed for the
// old cron is re-armed by the arming walk, and one that falls due before the walk reaches its
// object is re-armed when it falls due, not fired under the new version (`* * * * *` then
// `0 * * * *`: a tick at 00:01 under the hourly version). Each store keeps the schedule each tick
// was armed for: on a libsql database, and in memory.

import { afterEach, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const load = (cron: string, version: string) =>
  s!.policies.loadText(JSON.stringify({ ...scheduledPolicy({ name: "p", cron }), version }), "inline/p.json");

const stores: [string, () => Store][] = [
  ["libsql", () => new LibsqlStore({ url: ":memory:" })],
  ["memory", () => new MemoryStore()],
];

test.each(stores)(
  "%s: a tick armed for a cron a reload changed is re-armed for the new cron, not fired, when it falls due first",
  async (_name, store) => {
    s = await makeServices({ start: Date.parse("2026-01-01T00:00:30Z"), store: store() });
    expect(load("* * * * *", "1").ok).toBe(true);
    await s.governor.armSchedules("p");
    await s.governor.putObject("o", { policy: "p" });
    const fired: string[] = [];
    s.governor.events.on("timer:fired", (id, name) =>
      fired.push(`${id} ${name} ${new Date(s!.clock.now()).toISOString()}`),
    );
    // Reloaded hourly; the arming walk has not reached o when its minutely tick falls due.
    expect(load("0 * * * *", "2").ok).toBe(true);
    await s.advance(2 * 60_000);
    expect(fired).toEqual([]);
    const object = await s.governor.getObject("o");
    expect(object?.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2026-01-01T01:00:00Z"));
    await s.governor.armSchedules("p");
    await s.advance(60 * 60_000);
    expect(fired).toEqual(["o tick 2026-01-01T01:00:00.000Z"]);
  },
);

test.each(stores)("%s: a tick armed for the old cron at a moment the new cron has too fires", async (_name, store) => {
  s = await makeServices({ start: Date.parse("2026-01-01T00:59:30Z"), store: store() });
  expect(load("* * * * *", "1").ok).toBe(true);
  await s.governor.armSchedules("p");
  await s.governor.putObject("o", { policy: "p" });
  const fired: string[] = [];
  s.governor.events.on("timer:fired", (id, name) =>
    fired.push(`${id} ${name} ${new Date(s!.clock.now()).toISOString()}`),
  );
  expect(load("0 * * * *", "2").ok).toBe(true);
  await s.advance(60_000);
  expect(fired).toEqual(["o tick 2026-01-01T01:00:00.000Z"]);
});
