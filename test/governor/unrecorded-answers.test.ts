// A driver's answer the database refuses to record (a full disk, say) is recorded again after a
// backoff until it is: the object does not wait in `waking` for good, and nothing is sent again.

import { afterEach, expect, test } from "vitest";
import type { ActionUpdate } from "../../src/core/store.ts";
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
