// A timer's evaluation that puts an object to sleep sets no wake alarm for a moment not after now.
// When two dormancy rules fired and the earliest alarm was past, the whole alarm was dropped,
// another rule's later one included: the object slept with no alarm. As schedules are, each
// rule's alarm is taken on its own: the earliest moment after now asked for is set.

import { expect, test } from "vitest";
import { resolve } from "../../src/core/resolve.ts";
import type { FiredEvent, JsonObject } from "../../src/core/types.ts";
import { HOUR, MINUTE, T0, iso } from "../helpers/records.ts";

const NOW = T0 + HOUR;
const ev = (rule: string, event: string, params: JsonObject = {}): FiredEvent => ({ rule, event, params });

test("a timer's evaluation: a past wakeAt of one rule does not drop another rule's later alarm", () => {
  const r = resolve({
    fired: [
      ev("deadline-passed", "dormancy", { wakeAt: iso(NOW - MINUTE) }),
      ev("idle", "dormancy", { wakeAfter: "PT30M" }),
    ],
    trigger: { kind: "timer", name: "check" },
    now: NOW,
    state: "active",
    stateSince: T0,
    wokeAt: null,
    holdUntil: null,
    timers: [],
    sleep: "suspend",
    minActiveMs: 0,
    minDormantMs: 0,
  });
  expect(r.outcome).toBe("dormancy");
  expect(r.timerOps).toContainEqual({ name: "wake", op: "set", dueAt: NOW + 30 * MINUTE, kind: "wake" });
});
