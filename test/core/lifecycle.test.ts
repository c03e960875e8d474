// The lifecycle state machine: every state under every outcome, the suspend -> stop fallback,
// and where a driver's confirmation or an observation leads.

import { describe, expect, test } from "vitest";
import { confirmedState, enter, observedState, transition } from "../../src/core/lifecycle.ts";
import type { ActionKind, LifecycleState, Outcome } from "../../src/core/types.ts";

describe("transition (sleep mode suspend, driver can suspend)", () => {
  test.each<[LifecycleState, Outcome, LifecycleState, ActionKind | null]>([
    ["dormant", "wake", "waking", "start"],
    ["dormant", "hold-active", "waking", "start"],
    ["dormant", "dormancy", "dormant", null],
    ["dormant", "none", "dormant", null],
    ["waking", "wake", "waking", null],
    ["waking", "hold-active", "waking", null],
    ["waking", "dormancy", "sleeping", "suspend"],
    ["waking", "none", "waking", null],
    ["active", "wake", "active", null],
    ["active", "hold-active", "active", null],
    ["active", "dormancy", "sleeping", "suspend"],
    ["active", "none", "active", null],
    ["sleeping", "wake", "waking", "start"],
    ["sleeping", "hold-active", "waking", "start"],
    ["sleeping", "dormancy", "sleeping", null],
    ["sleeping", "none", "sleeping", null],
    ["failed", "wake", "waking", "start"],
    ["failed", "hold-active", "waking", "start"],
    ["failed", "dormancy", "sleeping", "suspend"],
    ["failed", "none", "failed", null],
  ])("%s + %s -> %s (%s)", (state, outcome, toState, action) => {
    expect(transition(state, outcome, "suspend", true, "simulated")).toEqual({ toState, action, notes: [] });
  });
});

describe("sleep modes and drivers without suspend", () => {
  test.each<[string, "suspend" | "stop", boolean, ActionKind, string[]]>([
    ["stop mode stops", "stop", true, "stop", []],
    ["stop mode on a driver without suspend stops, silently", "stop", false, "stop", []],
    [
      "suspend mode on a driver without suspend falls back to stop and says so",
      "suspend",
      false,
      "stop",
      ["driver fly cannot suspend: stopping instead"],
    ],
  ])("%s", (_name, mode, canSuspend, action, notes) => {
    expect(transition("active", "dormancy", mode, canSuspend, "fly")).toEqual({ toState: "sleeping", action, notes });
  });

  test("the fallback only concerns dormancy", () => {
    expect(transition("dormant", "wake", "suspend", false, "fly")).toEqual({
      toState: "waking",
      action: "start",
      notes: [],
    });
  });
});

describe("confirmedState", () => {
  test.each<[LifecycleState, ActionKind, LifecycleState | null]>([
    ["waking", "start", "active"],
    ["sleeping", "suspend", "dormant"],
    ["sleeping", "stop", "dormant"],
    // The object moved on since the action was issued: the confirmation changes nothing.
    ["active", "start", null],
    ["dormant", "start", null],
    ["sleeping", "start", null],
    ["waking", "suspend", null],
    ["waking", "stop", null],
    ["active", "suspend", null],
    ["dormant", "stop", null],
    ["failed", "start", null],
    ["failed", "stop", null],
  ])("%s confirmed %s -> %s", (state, action, expected) => {
    expect(confirmedState(state, action)).toBe(expected);
  });
});

describe("observedState", () => {
  test.each([
    ["running", "active"],
    ["suspended", "dormant"],
    ["stopped", "dormant"],
    ["unknown", null],
  ] as const)("%s -> %s", (status, expected) => {
    expect(observedState(status)).toBe(expected);
  });
});

describe("enter", () => {
  const at = (state: LifecycleState, stateSince: number, wokeAt: number | null) => ({ state, stateSince, wokeAt });
  test.each<[string, ReturnType<typeof at>, LifecycleState, ReturnType<typeof at>]>([
    ["staying changes nothing", at("active", 5, 2), "active", at("active", 5, 2)],
    ["a wake starts the clock of the wake", at("dormant", 5, null), "waking", at("waking", 100, 100)],
    ["the confirmation keeps it", at("waking", 100, 100), "active", at("active", 200, 100)],
    ["a record from before wokeAt counts from stateSince", at("waking", 100, null), "active", at("active", 200, 100)],
    ["found running wakes it now", at("dormant", 5, null), "active", at("active", 200, 200)],
    ["going to sleep clears it", at("active", 100, 50), "sleeping", at("sleeping", 200, null)],
    ["failing clears it", at("waking", 100, 100), "failed", at("failed", 200, null)],
  ])("%s", (_what, from, to, expected) => {
    expect(enter(from, to, to === from.state ? 999 : expected.stateSince)).toEqual(expected);
  });
});
