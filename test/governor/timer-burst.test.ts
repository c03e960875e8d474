// Many timers due at once through the whole governor (virtual clock, in-memory store): every
// object is evaluated once, on time, its next tick armed, and the firings run side by side so
// that the group committer puts many objects in each transaction.

import { afterEach, describe, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe("a burst of due timers", () => {
  test("600 monitors whose sweep falls due in the same second are each evaluated once, in few transactions", async () => {
    const s = await makeServices({ start: Date.parse("2026-03-01T00:00:30Z") });
    open.push(s);
    const ids = Array.from({ length: 600 }, (_, i) => `m-${String(i).padStart(3, "0")}`);
    for (const id of ids) await s.governor.putObject(id, { policy: "continuous-monitor" });
    const sweep = Date.parse("2026-03-01T00:01:00Z");
    expect((await s.governor.getObject("m-000"))!.timers).toEqual([{ name: "sweep", dueAt: sweep, kind: "cron" }]);

    const fired: { id: string; at: number }[] = [];
    s.governor.events.on("timer:fired", (id) => fired.push({ id, at: s.clock.now() }));
    const evaluations = s.governor.counters.evaluations;
    const commits = { ...s.governor.commitStats };
    await s.advance(30_000);

    expect(s.governor.counters.evaluations - evaluations).toBe(600);
    expect(fired.map((f) => f.id).sort()).toEqual(ids);
    expect(fired.every((f) => f.at === sweep)).toBe(true);
    for (const id of [ids[0]!, ids[299]!, ids[599]!])
      expect((await s.governor.getObject(id))!.timers).toEqual([
        { name: "sweep", dueAt: Date.parse("2026-03-01T00:02:00Z"), kind: "cron" },
      ]);
    // Fired one after another, each firing would wait for its own commit.
    const transactions = s.governor.commitStats.transactions - commits.transactions;
    const batches = s.governor.commitStats.batches - commits.batches;
    expect(batches).toBe(600);
    expect(transactions).toBeLessThanOrEqual(600 / 32);
  });
});
