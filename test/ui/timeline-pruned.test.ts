// The timeline picture (GET /ui/objects/{id}/timeline.svg) after retention pruned an object's
// older decisions: usage over the same window counts the time before the first kept decision in
// that decision's fromState (README, "Usage"), and so does the picture now; it drew nothing
// there.

import { afterEach, describe, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { Retention } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { HOUR, MINUTE, SECOND } from "../helpers/records.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

const iso = (ms: number) => new Date(ms).toISOString();

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe.each([
  ["MemoryStore", () => new MemoryStore()],
  ["LibsqlStore", () => new LibsqlStore({ url: ":memory:" })],
])("timeline.svg after pruning by count on %s", (_name, newStore) => {
  test("the picture covers the whole window, as usage does, in the first kept decision's fromState", async () => {
    s = await makeServices({ store: newStore() });
    const g = s.governor;
    const app = createApp({ governor: g, policies: s.policies, whatIf: s.whatIf, tokens: [] });
    const get = async (path: string) => (await app.request(path)).text();
    // created dormant at START, woken at +60 s, active at +70 s, dwell ends +180 s (sleeping), dormant +184 s
    await g.putObject("w", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { startMs: 10_000, suspendMs: 4_000 } },
    });
    await s.advance(MINUTE);
    await g.postFacts("w", { queue: { depth: 3 } });
    await s.advance(70 * SECOND);
    await g.postFacts("w", { queue: { depth: 0 } });
    await s.advance(HOUR);
    // VIGIL_DECISIONS_PER_OBJECT=1: only the dwell decision at +180 s (active -> sleeping) is kept.
    await new Retention(s.store, s.clock, {
      journalMs: null,
      decisionsMs: null,
      decisionsPerObject: 1,
      idempotencyMs: null,
    }).runOnce();
    const window = `from=${iso(START)}&to=${iso(START + HOUR)}`;

    const usage = JSON.parse(await get(`/v1/objects/w/usage?${window}`));
    // Usage: active (the kept decision's fromState) from the window's start.
    expect(usage.seconds.active).toBe(180);

    const svg = await get(`/ui/objects/w/timeline.svg?${window}`);
    const bands = [...svg.matchAll(/<title>w: (\w+) (\S+) to (\S+) \(/g)].map((m) => ({
      state: m[1],
      from: Date.parse(m[2]!),
      to: Date.parse(m[3]!),
    }));
    expect(bands[0]).toMatchObject({ state: "active", from: START });
    expect(bands.reduce((sum, b) => sum + (b.to - b.from), 0)).toBe(HOUR);
  });
});
