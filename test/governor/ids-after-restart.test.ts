// Decision ids sort in the order decisions were taken on one database, whatever the clocks of
// the servers that took them: listings, `before` cursors and replay rely on it. A server whose
// clock is behind the one before it minted smaller ids (time first), so its decisions sorted
// before older ones. It now continues after the newest id stored (Store.newestIds at start).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { idTime } from "../../src/core/id-times.ts";
import { idFactory } from "../../src/governor/ids.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { collectHistory, readHistory } from "../../src/what-if/history.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

const HOUR = 3_600_000;
let s: TestServices | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await s?.close();
  s = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const stores: [string, () => () => Store][] = [
  [
    "libsql file",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "vigil-ids-"));
      dirs.push(dir);
      return () => new LibsqlStore({ url: `file:${join(dir, "v.db")}` });
    },
  ],
  [
    "memory",
    () => {
      const store = new MemoryStore();
      return () => store;
    },
  ],
];

test.each(stores)(
  "a server whose clock is an hour behind the last one's takes decisions listed after its (%s)",
  async (_, made) => {
    const open = made();
    s = await makeServices({ store: open(), start: START + HOUR });
    await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
    await s.governor.postFacts("w", { queue: { depth: 2 } });
    await s.advance(60_000);
    const before = (await s.store.listDecisions("w", 100)).map((d) => d.id);
    await s.close();

    s = await makeServices({ store: open(), start: START });
    await s.governor.postFacts("w", { queue: { depth: 5 } });
    await s.advance(1000);
    const newestFirst = await s.store.listDecisions("w", 100);
    const after = newestFirst.map((d) => d.id).filter((id) => !before.includes(id));
    expect(after.length).toBeGreaterThan(0);
    // The new server's decisions come first, newest first, then the old ones as they were.
    expect(newestFirst.map((d) => d.id)).toEqual([...after, ...before]);
    const fact = newestFirst.find((d) => d.trigger.kind === "facts")!;
    expect(after).toContain(fact.id);
    expect(fact.memoryVersion).toBe(Math.max(...newestFirst.map((d) => d.memoryVersion)));
    // Their times are the clock's; their ids continue after the newest stored.
    expect(newestFirst[0]!.at).toBeLessThan(START + HOUR);
    // Replay's history, ended where the object's record ends, keeps every decision.
    const object = (await s.governor.getObject("w"))!;
    const all = await collectHistory(readHistory(s.store, "w"));
    expect((await collectHistory(readHistory(s.store, object))).decisions).toEqual(all.decisions);
  },
);

test("ids continue after the one given, and sort in the order minted past a millisecond's worth", () => {
  const clock = new VirtualClock(START);
  const mint = idFactory(clock);
  const stored = idFactory(new VirtualClock(START + HOUR))("decision");
  mint.after(stored);
  const ids = Array.from({ length: 36 ** 4 + 10 }, (_, i) => mint(i % 2 === 0 ? "decision" : "action").slice(4));
  expect(ids[0]! > stored.slice(4)).toBe(true);
  expect(idTime(`dec_${ids[0]}`)).toBe(START + HOUR + 1);
  // More ids than one millisecond's counter holds: the rest go to the next millisecond, in order.
  expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  expect(idTime(`dec_${ids.at(-1)}`)).toBe(START + HOUR + 2);
  // Once the clock passes it, ids carry the clock's time again.
  clock.jumpTo(START + 2 * HOUR);
  expect(idTime(mint("decision"))).toBe(START + 2 * HOUR);
  // An older id changes nothing.
  mint.after(stored);
  expect(idTime(mint("decision"))).toBe(START + 2 * HOUR);
});
