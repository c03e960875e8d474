// An object's timer list: applying a decision's timer operations (applyTimerOps) and the
// operations that set a whole list (setAll).

import { describe, expect, test } from "vitest";
import { applyTimerOps, setAll } from "../../src/core/timers.ts";
import type { Timer, TimerOp } from "../../src/core/types.ts";
import { deepFreeze } from "../helpers/records.ts";

const t = (name: string, dueAt: number, kind: Timer["kind"] = "schedule"): Timer => ({ name, dueAt, kind });
const set = (name: string, dueAt: number, kind: Timer["kind"] = "schedule"): TimerOp => ({
  name,
  op: "set",
  dueAt,
  kind,
});
const cancel = (name: string, kind: Timer["kind"] = "schedule"): TimerOp => ({ name, op: "cancel", kind });

describe("applyTimerOps", () => {
  test.each<[string, Timer[], TimerOp[], Timer[]]>([
    ["no ops keep the list", [t("a", 1)], [], [t("a", 1)]],
    ["set adds", [t("a", 1)], [set("b", 2)], [t("a", 1), t("b", 2)]],
    [
      "set of an existing name replaces it",
      [t("a", 1), t("b", 2)],
      [set("a", 5, "wake")],
      [t("b", 2), t("a", 5, "wake")],
    ],
    ["cancel removes", [t("a", 1), t("b", 2)], [cancel("a")], [t("b", 2)]],
    ["cancel of a missing timer does nothing", [t("a", 1)], [cancel("zz")], [t("a", 1)]],
    ["ops apply in order: set then cancel", [], [set("a", 1), cancel("a")], []],
    ["ops apply in order: cancel then set", [t("a", 1)], [cancel("a"), set("a", 9)], [t("a", 9)]],
    ["the last set of a name wins", [], [set("a", 3), set("a", 1)], [t("a", 1)]],
    [
      "sorted by due time",
      [t("late", 30)],
      [set("early", 10), set("mid", 20)],
      [t("early", 10), t("mid", 20), t("late", 30)],
    ],
    ["equal due times sorted by name", [t("b", 5)], [set("c", 5), set("a", 5)], [t("a", 5), t("b", 5), t("c", 5)]],
    [
      // The order the database fires them in (ORDER BY due_at, object_id, name: SQLite's BINARY), not a locale's.
      "equal due times sorted by name byte for byte",
      [t("a", 5)],
      [set("B", 5), set("a-b", 5), set("a_b", 5), set("A", 5)],
      [t("A", 5), t("B", 5), t("a", 5), t("a-b", 5), t("a_b", 5)],
    ],
  ])("%s", (_name, timers, ops, expected) => {
    expect(applyTimerOps(deepFreeze(timers), deepFreeze(ops))).toEqual(expected);
  });

  test("returns a new list and leaves its input alone", () => {
    const timers = [t("b", 2), t("a", 1)];
    const result = applyTimerOps(timers, []);
    expect(result).toEqual([t("a", 1), t("b", 2)]);
    expect(result).not.toBe(timers);
    expect(timers).toEqual([t("b", 2), t("a", 1)]);
  });
});

describe("setAll", () => {
  test("one set op per timer, due time and kind kept", () => {
    expect(setAll([t("sweep", 100, "cron"), t("hold", 50, "hold")])).toEqual([
      { name: "sweep", op: "set", dueAt: 100, kind: "cron" },
      { name: "hold", op: "set", dueAt: 50, kind: "hold" },
    ]);
    expect(setAll([])).toEqual([]);
  });

  test("applied to an empty list, its ops give back the timers, sorted", () => {
    const timers = [t("z", 3, "dwell"), t("y", 1, "wake"), t("x", 3, "cron")];
    expect(applyTimerOps([], setAll(timers))).toEqual([t("y", 1, "wake"), t("x", 3, "cron"), t("z", 3, "dwell")]);
  });

  test("applied over another list, replaces the timers of the same name and keeps the rest", () => {
    expect(applyTimerOps([t("a", 1), t("b", 2)], setAll([t("a", 10)]))).toEqual([t("b", 2), t("a", 10)]);
  });
});
