// The work behind one timeline picture (GET /ui/objects/{id}/timeline.svg) of an object with
// hundreds of decisions: the confirmations are placed from the store's state changes, a page at a
// time, not from a usage read per interval (up to 500 reads, over a second of server time at
// 2,000 decisions). The test counts the reads the store answers; it does not time them.

import { afterEach, describe, expect, test, vi } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SECOND } from "../helpers/records.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const CYCLES = 120;
/** A cycle: work at 0 (a start, confirmed at +10 s), more at +3 s (while the start is on its way), none at +63 s (a suspend, confirmed at +67 s). */
const CYCLE = 120 * SECOND;

let s: TestServices | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await s?.close();
  s = null;
});

describe.each([
  ["MemoryStore", () => new MemoryStore()],
  ["LibsqlStore", () => new LibsqlStore({ url: ":memory:" })],
])("timeline.svg of a busy object on %s", (_name, newStore) => {
  test("places every confirmation with a few reads of the store, however many intervals", async () => {
    s = await makeServices({ store: newStore() });
    const g = s.governor;
    await g.putObject("busy", {
      policy: "on-demand",
      substrate: { driver: "simulated", config: { startMs: 10_000, suspendMs: 4_000 } },
    });
    for (let i = 0; i < CYCLES; i++) {
      await g.postFacts("busy", { work: { pending: 1 } });
      await s.advance(3 * SECOND);
      await g.postFacts("busy", { work: { pending: 2 } });
      await s.advance(60 * SECOND);
      await g.postFacts("busy", { work: { pending: 0 } });
      await s.advance(57 * SECOND);
    }
    const app = createApp({ governor: g, policies: s.policies, whatIf: s.whatIf, tokens: [] });
    const stateChanges = vi.spyOn(s.store.history, "stateChanges");
    const listDecisions = vi.spyOn(s.store, "listDecisions");
    const usage = vi.spyOn(g, "objectUsage");

    const whole = await app.request(`/ui/objects/busy/timeline.svg?from=${iso(START)}`);
    expect(whole.status).toBe(200);
    // 361 decisions, 240 intervals ended by a confirmation: one page of each read.
    expect((await g.listDecisions("busy", 1000)).length).toBe(3 * CYCLES + 1);
    expect(usage).not.toHaveBeenCalled();
    expect(stateChanges.mock.calls.length).toBeLessThanOrEqual(2);
    expect(listDecisions.mock.calls.length).toBeLessThanOrEqual(2);

    // One cycle in the middle, close enough to see each band: the start confirmed 10 s after the
    // work came (the decision at +3 s issued nothing), the suspend 4 s after it was decided.
    const t = START + 60 * CYCLE;
    const svg = await (
      await app.request(`/ui/objects/busy/timeline.svg?from=${iso(t - 10 * SECOND)}&to=${iso(t + 100 * SECOND)}`)
    ).text();
    const bands = [...svg.matchAll(/<title>busy: (\w+) (\S+) to (\S+) \(/g)].map(
      ([, state, from, to]) => `${state} ${(Date.parse(from!) - t) / SECOND}..${(Date.parse(to!) - t) / SECOND}`,
    );
    expect(bands).toEqual(["dormant -10..0", "waking 0..10", "active 10..63", "sleeping 63..67", "dormant 67..100"]);
  }, 60_000);
});
