// Decisions are published (the event stream, its resume after a Last-Event-ID) in the order of
// their ids. An action's final failure writes its decision outside the group commit: it waits
// for the decisions minted before it that are still on their way to the disk, or it overtook
// them, and a client resuming after its id never saw them.

import { afterEach, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import type { Decision } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

/** A real in-memory store whose group commits wait while `hold` is set (a busy disk). */
class BusyDisk extends MemoryStore {
  hold: Promise<void> | null = null;
  override async commit(batches: CommitBatch[]): Promise<void> {
    if (this.hold) await this.hold;
    return super.commit(batches);
  }
}

let governor: Governor | null = null;
afterEach(async () => {
  await governor?.close();
  governor = null;
});

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** x's start fails for good a second after its fact; y and z are plain; `published` in order. */
async function world() {
  const clock = new VirtualClock(START);
  const store = new BusyDisk();
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  const retry = { maxAttempts: 1, baseMs: 250, maxMs: 1000 };
  const g = (governor = new Governor({ store, policies, drivers: [driver], clock, random: () => 0.5, retry }));
  await g.start();
  const failing = { driver: "simulated", config: { startMs: 1000, failRate: 1 } };
  await g.putObject("x", { policy: "queue-worker", substrate: failing });
  await g.putObject("y", { policy: "queue-worker" });
  await g.putObject("z", { policy: "queue-worker" });
  await g.postFacts("x", { queue: { depth: 1 } }); // x's start fails, finally, in a second
  const published: Decision[] = [];
  g.events.on("decision:recorded", (d) => published.push(d));
  let release = () => {};
  const busy = () => (store.hold = new Promise<void>((resolve) => (release = resolve)));
  const free = () => {
    store.hold = null;
    release();
  };
  return { g, clock, published, busy, free };
}

test("a final action failure is published after a decision minted before it and still committing", async () => {
  const { g, clock, published, busy, free } = await world();
  busy();
  const posted = g.postFacts("y", { queue: { depth: 1 } }); // its decision waits for the disk
  await turns(20);
  await clock.advance(1000, () => turns(20)); // x's start fails: its decision is minted now
  await turns(20);
  free();
  const y = (await posted).decision;
  await clock.advance(10, () => g.idle());

  const failure = published.find((d) => d.objectId === "x" && d.toState === "failed");
  expect(failure, JSON.stringify(published.map((d) => [d.objectId, d.trigger.kind, d.toState]))).toBeDefined();
  expect(y.id < failure!.id).toBe(true);
  const ids = published.map((d) => d.id);
  expect(ids).toEqual([...ids].sort());
});

test("and before a decision minted after it", async () => {
  const { g, clock, published, busy, free } = await world();
  busy();
  const y = g.postFacts("y", { queue: { depth: 1 } }); // minted before x's failure
  await turns(20);
  await clock.advance(1000, () => turns(20)); // x's failure is minted, and waits its turn
  await turns(20);
  const z = g.postFacts("z", { queue: { depth: 1 } }); // minted after it
  await turns(20);
  free();
  await y;
  await z;
  await clock.advance(10, () => g.idle());
  expect(published.map((d) => d.objectId)).toEqual(["y", "x", "z"]);
  const ids = published.map((d) => d.id);
  expect(ids).toEqual([...ids].sort());
});
