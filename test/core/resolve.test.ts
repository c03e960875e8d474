// Resolution of fired events into one outcome: precedence, vetoes, dwell, hold leases, the
// object's own wake timer, and the timers rules schedule and cancel.

import { describe, expect, test } from "vitest";
import { resolve, TIMER_FLOOR_MS, type ResolveInput } from "../../src/core/resolve.ts";
import type { FiredEvent, JsonObject, Outcome, Timer } from "../../src/core/types.ts";
import { HOUR, MINUTE, SECOND, T0, iso } from "../helpers/records.ts";

/** Evaluation time in these tests: one hour after T0. */
const NOW = T0 + HOUR;

const input = (overrides: Partial<ResolveInput> = {}): ResolveInput => ({
  fired: [],
  trigger: { kind: "facts" },
  now: NOW,
  state: "active",
  stateSince: T0,
  wokeAt: null,
  holdUntil: null,
  timers: [],
  sleep: "suspend",
  minActiveMs: 0,
  minDormantMs: 0,
  ...overrides,
});

const ev = (rule: string, event: string, params: JsonObject = {}): FiredEvent => ({ rule, event, params });
const hold = (rule = "busy", params: JsonObject = {}) => ev(rule, "hold-active", params);
const wake = (rule = "backlog", params: JsonObject = {}) => ev(rule, "wake", params);
const sleep = (rule = "idle", params: JsonObject = {}) => ev(rule, "dormancy", params);
const timer = (name: string, dueAt: number, kind: Timer["kind"] = "schedule"): Timer => ({ name, dueAt, kind });

describe("precedence: hold-active > wake > dormancy > none", () => {
  test.each<[string, FiredEvent[], Outcome, string[]]>([
    ["nothing fired", [], "none", []],
    ["dormancy alone", [sleep()], "dormancy", []],
    ["wake alone", [wake()], "wake", []],
    ["hold-active alone", [hold()], "hold-active", []],
    ["wake over dormancy", [sleep(), wake()], "wake", ["dormancy (idle) vetoed by wake rule backlog"]],
    [
      "hold-active over dormancy",
      [sleep(), hold()],
      "hold-active",
      ["dormancy (idle) vetoed by hold-active rule busy"],
    ],
    ["hold-active over wake", [wake(), hold()], "hold-active", []],
    [
      "hold-active over wake and dormancy",
      [sleep(), wake(), hold()],
      "hold-active",
      ["dormancy (idle) vetoed by hold-active rule busy"],
    ],
    [
      "every vetoed and vetoing rule is named",
      [sleep("idle-a"), sleep("idle-b"), hold("job-a"), hold("job-b")],
      "hold-active",
      ["dormancy (idle-a, idle-b) vetoed by hold-active rule job-a, job-b"],
    ],
  ])("%s", (_name, fired, outcome, notes) => {
    const r = resolve(input({ fired }));
    expect(r.outcome).toBe(outcome);
    expect(r.notes).toEqual(notes);
    expect(r.fired).toEqual(fired);
    expect(r.timerOps).toEqual([]);
    expect(r.holdUntil).toBeNull();
  });
});

describe("dwell", () => {
  test.each<[string, Partial<ResolveInput>, Outcome, string[], { dueAt: number } | null]>([
    [
      "minActive defers dormancy of an object active too briefly",
      { state: "active", stateSince: NOW - MINUTE, minActiveMs: 2 * MINUTE, fired: [sleep()] },
      "none",
      [`dormancy (idle) deferred by dwell.minActive until ${iso(NOW + MINUTE)}`],
      { dueAt: NOW + MINUTE },
    ],
    [
      "minActive is over exactly at stateSince + minActive",
      { state: "active", stateSince: NOW - 2 * MINUTE, minActiveMs: 2 * MINUTE, fired: [sleep()] },
      "dormancy",
      [],
      null,
    ],
    [
      "minActive counts from the start of waking",
      { state: "waking", stateSince: NOW - 30 * SECOND, minActiveMs: 2 * MINUTE, fired: [sleep()] },
      "none",
      [`dormancy (idle) deferred by dwell.minActive until ${iso(NOW + 90 * SECOND)}`],
      { dueAt: NOW + 90 * SECOND },
    ],
    [
      "an object waking for longer than minActive may sleep",
      { state: "waking", stateSince: NOW - HOUR, minActiveMs: 2 * MINUTE, fired: [sleep()] },
      "dormancy",
      [],
      null,
    ],
    [
      "minActive does not apply to a dormant object",
      { state: "dormant", stateSince: NOW - SECOND, minActiveMs: 2 * MINUTE, fired: [sleep()] },
      "dormancy",
      [],
      null,
    ],
    [
      "minDormant defers a wake of an object dormant too briefly",
      { state: "dormant", stateSince: NOW - 10 * SECOND, minDormantMs: MINUTE, fired: [wake()] },
      "none",
      [`wake (backlog) deferred by dwell.minDormant until ${iso(NOW + 50 * SECOND)}`],
      { dueAt: NOW + 50 * SECOND },
    ],
    [
      "minDormant defers hold-active too",
      { state: "dormant", stateSince: NOW - 10 * SECOND, minDormantMs: MINUTE, fired: [hold()] },
      "none",
      [`hold-active (busy) deferred by dwell.minDormant until ${iso(NOW + 50 * SECOND)}`],
      { dueAt: NOW + 50 * SECOND },
    ],
    [
      "minDormant defers hold-active and wake together, and names the rules of both",
      {
        state: "dormant",
        stateSince: NOW - 10 * SECOND,
        minDormantMs: MINUTE,
        fired: [wake("backlog"), hold("busy"), wake("alert")],
      },
      "none",
      [`hold-active (busy) and wake (backlog, alert) deferred by dwell.minDormant until ${iso(NOW + 50 * SECOND)}`],
      { dueAt: NOW + 50 * SECOND },
    ],
    [
      "minDormant is over",
      { state: "dormant", stateSince: NOW - MINUTE, minDormantMs: MINUTE, fired: [wake()] },
      "wake",
      [],
      null,
    ],
    [
      "minDormant does not apply to an active object",
      { state: "active", stateSince: NOW - SECOND, minDormantMs: MINUTE, fired: [wake()] },
      "wake",
      [],
      null,
    ],
  ])("%s", (_name, overrides, outcome, notes, dwell) => {
    const r = resolve(input(overrides));
    expect(r.outcome).toBe(outcome);
    expect(r.notes).toEqual(notes);
    expect(r.timerOps).toEqual(dwell ? [{ name: "dwell", op: "set", dueAt: dwell.dueAt, kind: "dwell" }] : []);
  });

  test("a deferred dormancy does not set its wake timer", () => {
    const r = resolve(
      input({ stateSince: NOW - MINUTE, minActiveMs: 2 * MINUTE, fired: [sleep("idle", { wakeAfter: "PT6H" })] }),
    );
    expect(r.outcome).toBe("none");
    expect(r.timerOps.map((o) => o.name)).toEqual(["dwell"]);
  });

  test("a pending dwell timer is cancelled once an outcome is carried out", () => {
    const r = resolve(input({ fired: [sleep()], timers: [timer("dwell", NOW, "dwell")] }));
    expect(r.outcome).toBe("dormancy");
    expect(r.timerOps).toEqual([{ name: "dwell", op: "cancel", kind: "dwell" }]);
  });

  test("a pending dwell timer stays while nothing happens", () => {
    const r = resolve(input({ timers: [timer("dwell", NOW + MINUTE, "dwell")] }));
    expect(r.outcome).toBe("none");
    expect(r.timerOps).toEqual([]);
  });
});

describe("hold leases", () => {
  test("`for` sets holdUntil and a hold timer", () => {
    const r = resolve(input({ fired: [hold("busy", { for: "PT1M" })] }));
    expect(r.outcome).toBe("hold-active");
    expect(r.holdUntil).toBe(NOW + MINUTE);
    expect(r.timerOps).toEqual([{ name: "hold", op: "set", dueAt: NOW + MINUTE, kind: "hold" }]);
    expect(r.notes).toEqual([]);
  });

  test("the longest lease wins", () => {
    const r = resolve(input({ fired: [hold("short", { for: "PT1M" }), hold("long", { for: "PT5M" }), hold("none")] }));
    expect(r.holdUntil).toBe(NOW + 5 * MINUTE);
    expect(r.timerOps).toEqual([{ name: "hold", op: "set", dueAt: NOW + 5 * MINUTE, kind: "hold" }]);
  });

  test("a hold without `for` leases nothing", () => {
    const r = resolve(input({ fired: [hold()] }));
    expect(r.outcome).toBe("hold-active");
    expect(r.holdUntil).toBeNull();
    expect(r.timerOps).toEqual([]);
  });

  test("a live hold counts as the fired rule hold:lease and vetoes dormancy", () => {
    const until = NOW + 30 * SECOND;
    const r = resolve(input({ holdUntil: until, timers: [timer("hold", until, "hold")], fired: [sleep()] }));
    expect(r.outcome).toBe("hold-active");
    expect(r.fired).toEqual([sleep(), { rule: "hold:lease", event: "hold-active", params: { until: iso(until) } }]);
    expect(r.notes).toEqual(["dormancy (idle) vetoed by hold-active rule hold:lease"]);
    expect(r.holdUntil).toBe(until);
    expect(r.timerOps).toEqual([]);
  });

  test("a shorter new lease does not shorten a live one", () => {
    const until = NOW + 10 * MINUTE;
    const r = resolve(input({ holdUntil: until, fired: [hold("busy", { for: "PT1M" })] }));
    expect(r.holdUntil).toBe(until);
    expect(r.timerOps).toEqual([]);
  });

  test("a longer new lease extends a live one", () => {
    const r = resolve(input({ holdUntil: NOW + MINUTE, fired: [hold("busy", { for: "PT10M" })] }));
    expect(r.holdUntil).toBe(NOW + 10 * MINUTE);
    expect(r.timerOps).toEqual([{ name: "hold", op: "set", dueAt: NOW + 10 * MINUTE, kind: "hold" }]);
  });

  test.each([
    ["in the past", NOW - SECOND],
    ["exactly now", NOW],
  ])("a lease that ended %s expires with a note and its timer cancelled", (_name, until) => {
    const r = resolve(input({ holdUntil: until, timers: [timer("hold", until, "hold")], fired: [sleep()] }));
    expect(r.outcome).toBe("dormancy");
    expect(r.holdUntil).toBeNull();
    expect(r.fired).toEqual([sleep()]);
    expect(r.notes).toEqual([`hold lease expired at ${iso(until)}`]);
    expect(r.timerOps).toEqual([{ name: "hold", op: "cancel", kind: "hold" }]);
  });

  test("an expired lease whose timer already fired leaves only the note", () => {
    const r = resolve(input({ holdUntil: NOW, trigger: { kind: "timer", name: "hold" } }));
    expect(r.holdUntil).toBeNull();
    expect(r.notes).toEqual([`hold lease expired at ${iso(NOW)}`]);
    expect(r.timerOps).toEqual([]);
  });
});

describe("the wake timer", () => {
  test("a timer named wake counts as the fired rule timer:wake", () => {
    const r = resolve(input({ state: "dormant", trigger: { kind: "timer", name: "wake" } }));
    expect(r.outcome).toBe("wake");
    expect(r.fired).toEqual([{ rule: "timer:wake", event: "wake", params: {} }]);
  });

  test.each([
    ["another timer", { kind: "timer" as const, name: "sweep" }],
    ["a facts arrival", { kind: "facts" as const }],
  ])("%s adds no synthetic event", (_name, trigger) => {
    const r = resolve(input({ state: "dormant", trigger }));
    expect(r.outcome).toBe("none");
    expect(r.fired).toEqual([]);
  });

  test.each<[string, JsonObject[], Timer[], { dueAt: number } | null, string[]]>([
    ["wakeAfter sets the wake timer", [{ wakeAfter: "PT6H" }], [], { dueAt: NOW + 6 * HOUR }, []],
    [
      "wakeAt sets the wake timer",
      [{ wakeAt: "2026-03-02T00:00:00Z" }],
      [],
      { dueAt: Date.parse("2026-03-02T00:00:00Z") },
      [],
    ],
    [
      "the earliest of several dormancy rules",
      [{ wakeAfter: "PT6H" }, { wakeAfter: "PT2H" }, {}],
      [],
      { dueAt: NOW + 2 * HOUR },
      [],
    ],
    [
      "an earlier pending wake timer is kept",
      [{ wakeAfter: "PT6H" }],
      [timer("wake", NOW + HOUR, "wake")],
      null,
      [`wake timer kept at ${iso(NOW + HOUR)}, earlier than ${iso(NOW + 6 * HOUR)}`],
    ],
    [
      "an equal pending wake timer is kept silently",
      [{ wakeAfter: "PT6H" }],
      [timer("wake", NOW + 6 * HOUR, "wake")],
      null,
      [],
    ],
    [
      "a later pending wake timer is brought forward",
      [{ wakeAfter: "PT6H" }],
      [timer("wake", NOW + 12 * HOUR, "wake")],
      { dueAt: NOW + 6 * HOUR },
      [],
    ],
    ["no wakeAfter, no timer", [{}], [], null, []],
  ])("%s", (_name, params, timers, wakeTimer, notes) => {
    // A dormancy rule that fires again on the object asleep (a pending alarm is one an awake object has not).
    const state = timers.length > 0 ? "dormant" : "active";
    const r = resolve(input({ state, fired: params.map((p, i) => sleep(`idle-${i}`, p)), timers }));
    expect(r.outcome).toBe("dormancy");
    expect(r.timerOps).toEqual(wakeTimer ? [{ name: "wake", op: "set", dueAt: wakeTimer.dueAt, kind: "wake" }] : []);
    expect(r.notes).toEqual(notes);
  });

  test("a vetoed dormancy sets no wake timer", () => {
    const r = resolve(input({ fired: [sleep("idle", { wakeAfter: "PT6H" }), wake()] }));
    expect(r.outcome).toBe("wake");
    expect(r.timerOps).toEqual([]);
  });

  test.each<[string, FiredEvent[]]>([
    ["nothing fired", []],
    ["wake", [wake()]],
    ["dormancy without an alarm", [sleep()]],
    ["dormancy deferred by minActive", [sleep("idle", { wakeAfter: "PT6H" })]],
  ])("an awake object's pending wake timer (it woke without it) is cancelled: %s", (_name, fired) => {
    for (const state of ["active", "waking"] as const) {
      const r = resolve(
        input({ state, wokeAt: NOW - SECOND, fired, timers: [timer("wake", NOW + HOUR, "wake")], minActiveMs: MINUTE }),
      );
      expect(r.timerOps.filter((op) => op.name === "wake")).toEqual([{ name: "wake", op: "cancel", kind: "wake" }]);
      expect(r.notes).toContain("wake timer cancelled: the object is awake");
    }
  });

  test("an awake object's pending wake timer is not kept by its dormancy: the dormancy sets its own", () => {
    const r = resolve(
      input({ fired: [sleep("idle", { wakeAfter: "PT6H" })], timers: [timer("wake", NOW + HOUR, "wake")] }),
    );
    expect(r.outcome).toBe("dormancy");
    expect(r.timerOps).toEqual([{ name: "wake", op: "set", dueAt: NOW + 6 * HOUR, kind: "wake" }]);
    expect(r.notes).toEqual([]);
  });

  test("waking a dormant object cancels its pending wake timer", () => {
    const r = resolve(input({ state: "dormant", fired: [wake()], timers: [timer("wake", NOW + HOUR, "wake")] }));
    expect(r.outcome).toBe("wake");
    expect(r.timerOps).toEqual([{ name: "wake", op: "cancel", kind: "wake" }]);
    expect(r.notes).toEqual(["wake timer cancelled: the object is waking anyway"]);
  });

  // On a timer's evaluation a rule's alarm not after now is left out on its own: it once dropped
  // the whole alarm, another rule's later one included, and the object slept with none.
  test("a timer's evaluation: a past wakeAt of one rule does not drop another rule's later alarm", () => {
    const r = resolve(
      input({
        fired: [sleep("deadline-passed", { wakeAt: iso(NOW - MINUTE) }), sleep("idle", { wakeAfter: "PT30M" })],
        trigger: { kind: "timer", name: "check" },
      }),
    );
    expect(r.outcome).toBe("dormancy");
    expect(r.timerOps).toContainEqual({ name: "wake", op: "set", dueAt: NOW + 30 * MINUTE, kind: "wake" });
  });
});

describe("schedule and cancel events", () => {
  test.each<[string, FiredEvent[], Timer[], unknown[], string[]]>([
    [
      "schedule with after",
      [ev("poll", "schedule", { name: "poll", after: "PT10M" })],
      [],
      [{ name: "poll", op: "set", dueAt: NOW + 10 * MINUTE, kind: "schedule" }],
      [],
    ],
    [
      "schedule with at",
      [ev("poll", "schedule", { name: "report", at: "2026-03-01T06:30:00Z" })],
      [],
      [{ name: "report", op: "set", dueAt: Date.parse("2026-03-01T06:30:00Z"), kind: "schedule" }],
      [],
    ],
    [
      "schedule replaces a pending timer of that name",
      [ev("poll", "schedule", { name: "poll", after: "PT1M" })],
      [timer("poll", NOW + HOUR)],
      [{ name: "poll", op: "set", dueAt: NOW + MINUTE, kind: "schedule" }],
      [],
    ],
    [
      "cancel removes a pending timer",
      [ev("stop-poll", "cancel", { name: "poll" })],
      [timer("poll", NOW + HOUR)],
      [{ name: "poll", op: "cancel", kind: "schedule" }],
      [],
    ],
    [
      "cancel keeps the pending timer's kind",
      [ev("stop-sweep", "cancel", { name: "sweep" })],
      [timer("sweep", NOW + HOUR, "cron")],
      [{ name: "sweep", op: "cancel", kind: "cron" }],
      [],
    ],
    [
      "cancel of an unknown timer leaves a note",
      [ev("stop-poll", "cancel", { name: "nope" })],
      [timer("poll", NOW + HOUR)],
      [],
      ['cancel of timer "nope" by rule stop-poll: no such timer'],
    ],
  ])("%s", (_name, fired, timers, ops, notes) => {
    const r = resolve(input({ fired, timers }));
    expect(r.outcome).toBe("none");
    expect(r.timerOps).toEqual(ops);
    expect(r.notes).toEqual(notes);
  });
});

describe("a timer's own firing", () => {
  const firing = (name: string) => input({ trigger: { kind: "timer", name } });

  test("does not set that timer again for a moment not after now; the notes say so", () => {
    const cases: [JsonObject, number][] = [
      [{ name: "deadline", at: iso(NOW - MINUTE) }, NOW - MINUTE],
      [{ name: "deadline", after: "PT0S" }, NOW],
    ];
    for (const [params, due] of cases) {
      const r = resolve({ ...firing("deadline"), fired: [ev("deadline", "schedule", params)] });
      expect(r.timerOps).toEqual([]);
      expect(r.notes).toEqual([
        `timer "deadline" of rule deadline is due at ${iso(due)}, not after this timer's firing: not set`,
      ]);
    }
  });

  test("sets it again for a later moment; another timer neither for a moment not after now", () => {
    // Two timers set for a past moment would keep setting each other from their firings.
    const r = resolve({
      ...firing("deadline"),
      fired: [
        ev("again", "schedule", { name: "deadline", after: "PT1M" }),
        ev("other", "schedule", { name: "report", at: iso(NOW - MINUTE) }),
        ev("later", "schedule", { name: "sweep", after: "PT5M" }),
      ],
    });
    expect(r.timerOps).toEqual([
      { name: "deadline", op: "set", dueAt: NOW + MINUTE, kind: "schedule" },
      { name: "sweep", op: "set", dueAt: NOW + 5 * MINUTE, kind: "schedule" },
    ]);
    expect(r.notes).toEqual([
      `timer "report" of rule other is due at ${iso(NOW - MINUTE)}, not after this timer's firing: not set`,
    ]);
  });
});

describe("sleep mode", () => {
  test.each<[string, "suspend" | "stop", FiredEvent[], "suspend" | "stop"]>([
    ["the policy default (suspend)", "suspend", [sleep()], "suspend"],
    ["the policy default (stop)", "stop", [sleep()], "stop"],
    ["the event's mode over the policy's", "suspend", [sleep("idle", { mode: "stop" })], "stop"],
    ["the event's mode over the policy's (suspend)", "stop", [sleep("idle", { mode: "suspend" })], "suspend"],
    [
      "the first rule that names a mode",
      "suspend",
      [sleep("a"), sleep("b", { mode: "stop" }), sleep("c", { mode: "suspend" })],
      "stop",
    ],
  ])("%s", (_name, policySleep, fired, mode) => {
    const r = resolve(input({ sleep: policySleep, fired }));
    expect(r.outcome).toBe("dormancy");
    expect(r.mode).toBe(mode);
  });

  test("without dormancy the mode is the policy's", () => {
    expect(resolve(input({ sleep: "stop", fired: [wake("w"), sleep("idle", { mode: "suspend" })] })).mode).toBe("stop");
  });
});

test("resolve does not mutate its input", () => {
  const i = input({
    fired: [sleep("idle", { wakeAfter: "PT1H" })],
    timers: [timer("poll", NOW + HOUR)],
    holdUntil: NOW - 1,
  });
  const before = structuredClone(i);
  resolve(i);
  expect(i).toEqual(before);
});

describe("timers a decision lists", () => {
  test("a deferral that finds its dwell timer already at that time lists no operation", () => {
    const r = resolve(
      input({
        state: "active",
        stateSince: NOW - MINUTE,
        minActiveMs: 2 * MINUTE,
        fired: [sleep()],
        timers: [timer("dwell", NOW + MINUTE, "dwell")],
      }),
    );
    expect(r.outcome).toBe("none");
    expect(r.notes).toEqual([`dormancy (idle) deferred by dwell.minActive until ${iso(NOW + MINUTE)}`]);
    expect(r.timerOps).toEqual([]);
  });
});

describe("a timer's firing sets no timer less than a second after it", () => {
  // `after: "PT0.001S"` from a timer's own firing passed the not-after-now rule and fired a
  // thousand times a second (a server recorded over 500 decisions in 5 s for one object).
  const firing = input({ trigger: { kind: "timer", name: "tick" } });
  const soon = (ms: number) => iso(NOW + ms);

  test("a timer asked for sooner is set for a second after the firing, and the notes say so", () => {
    const r = resolve({ ...firing, fired: [ev("again", "schedule", { name: "tick", after: "PT0.001S" })] });
    expect(r.timerOps).toEqual([{ name: "tick", op: "set", dueAt: NOW + TIMER_FLOOR_MS, kind: "schedule" }]);
    expect(r.notes).toEqual([
      `timer "tick" of rule again is due at ${soon(1)}, less than 1 s after this timer's firing: set for ${soon(TIMER_FLOOR_MS)}`,
    ]);
  });

  test("a second or more is kept as asked", () => {
    const r = resolve({ ...firing, fired: [ev("again", "schedule", { name: "tick", after: "PT1S" })] });
    expect(r.timerOps).toEqual([{ name: "tick", op: "set", dueAt: NOW + 1_000, kind: "schedule" }]);
    expect(r.notes).toEqual([]);
  });

  test("a hold's end and a wake alarm asked for sooner move too", () => {
    const held = resolve({ ...firing, fired: [ev("busy", "hold-active", { for: "PT0.1S" })] });
    expect(held.holdUntil).toBe(NOW + TIMER_FLOOR_MS);
    const slept = resolve({ ...firing, fired: [ev("idle", "dormancy", { wakeAfter: "PT0.1S" })] });
    expect(slept.timerOps).toContainEqual({ name: "wake", op: "set", dueAt: NOW + TIMER_FLOOR_MS, kind: "wake" });
  });

  test("a fact's evaluation sets what it asks for", () => {
    const r = resolve({ ...input({}), fired: [ev("again", "schedule", { name: "tick", after: "PT0.001S" })] });
    expect(r.timerOps).toEqual([{ name: "tick", op: "set", dueAt: NOW + 1, kind: "schedule" }]);
  });
});
