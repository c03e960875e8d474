// A driver's answer the database refuses to record (a full disk, say) is recorded again after a
// backoff until it is: the object does not wait in `waking` for good, and nothing is sent again.

import { afterEach, expect, test } from "vitest";
import type { ActionUpdate, CommitBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

class RefusingConfirmations extends MemoryStore {
  refusals = 0;
  override async updateAction(update: ActionUpdate): Promise<void> {
    if (update.status === "confirmed" && this.refusals > 0) {
      this.refusals--;
      throw new Error("disk full");
    }
    return super.updateAction(update);
  }
}

test("a start whose confirmation is refused more times than an action is tried: the object is active once it is recorded", async () => {
  const store = new RefusingConfirmations();
  s = await makeServices({ store });
  await s.governor.putObject("w1", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 10 } },
  });
  const sent: string[] = [];
  s.governor.events.on("action:dispatched", (a) => sent.push(a.kind));
  store.refusals = 8;
  const reply = await s.governor.postFacts("w1", { queue: { depth: 3 } });
  await s.advance(10 * 60_000);
  expect(store.refusals).toBe(0);
  expect((await s.governor.getObject("w1"))!.state).toBe("active");
  expect((await s.governor.getDecision(reply.decision.id))!.actions.map((a) => a.status)).toEqual(["confirmed"]);
  expect(sent).toEqual(["start"]);
});

test("a rebind that fails while a start's confirmation waits to be recorded: the start is recorded, not sent again", async () => {
  class Store extends RefusingConfirmations {
    failCommits = false;
    override async commit(batches: CommitBatch[]): Promise<void> {
      if (this.failCommits) throw new Error("disk full (commit)");
      return super.commit(batches);
    }
  }
  const store = new Store();
  s = await makeServices({ store });
  await s.governor.putObject("a", { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 10 } } });
  const sent: string[] = [];
  s.governor.events.on("action:dispatched", (a) => sent.push(`${a.kind}#${a.attempts}`));
  store.refusals = 1;
  await s.governor.postFacts("a", { work: { pending: 1 } });
  await s.advance(20); // the driver confirms; the database refuses the confirmation
  expect(store.refusals).toBe(0);
  store.failCommits = true; // the rebind's commit fails: what it detached is the object's again
  const rebind = { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 11 } } };
  await expect(s.governor.putObject("a", rebind)).rejects.toThrow("disk full (commit)");
  store.failCommits = false;
  await s.advance(10 * 60_000);
  expect((await s.governor.getObject("a"))!.state).toBe("active");
  expect(sent).toEqual(["start#1"]);
});
