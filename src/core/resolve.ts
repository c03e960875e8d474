// Resolution: the fired events of one evaluation become one outcome, under the fixed
// precedence hold-active > wake > dormancy > none, with hold leases, dwell and the object's
// own timers. Every veto, deferral and fallback leaves a note.

import { durationMs } from "./durations.ts";
import { HOLD_LEASE_RULE, WAKE_ALARM_RULE } from "./policy.ts";
import type { FiredEvent, LifecycleState, Outcome, SleepMode, Timer, TimerOp, Trigger } from "./types.ts";

export interface ResolveInput {
  fired: FiredEvent[];
  trigger: Trigger;
  now: number;
  state: LifecycleState;
  stateSince: number;
  /** When the current wake began (see ObjectRecord.wokeAt); dwell.minActive counts from it. */
  wokeAt: number | null;
  holdUntil: number | null;
  timers: Timer[];
  sleep: SleepMode;
  minActiveMs: number;
  minDormantMs: number;
}

export interface Resolution {
  /** The fired events, with the synthetic `timer:wake` and `hold:lease` ones added. */
  fired: FiredEvent[];
  outcome: Outcome;
  /** How dormancy puts compute to sleep, when the outcome is dormancy. */
  mode: SleepMode;
  holdUntil: number | null;
  timerOps: TimerOp[];
  notes: string[];
}

const rulesOf = (events: FiredEvent[]) => events.map((e) => e.rule).join(", ");
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The timers of one resolution as they change, and the operations that change them. (A class
 * rather than closures per call: the TypeScript loader wraps every named closure it creates.)
 */
class TimerPlan {
  readonly timers: Map<string, Timer>;
  readonly ops = new Map<string, TimerOp>();

  constructor(timers: readonly Timer[]) {
    this.timers = new Map(timers.map((t) => [t.name, t]));
  }

  set(name: string, dueAt: number, kind: TimerOp["kind"]): void {
    // Setting a timer to the time it already has changes nothing, and the decision says so.
    const current = this.timers.get(name);
    if (current && current.dueAt === dueAt && current.kind === kind && !this.ops.has(name)) return;
    this.ops.set(name, { name, op: "set", dueAt, kind });
    this.timers.set(name, { name, dueAt, kind });
  }

  cancel(name: string, kind: TimerOp["kind"]): boolean {
    const t = this.timers.get(name);
    if (!t) return false;
    this.ops.set(name, { name, op: "cancel", kind: t.kind ?? kind });
    this.timers.delete(name);
    return true;
  }
}

/**
 * The soonest after its own firing a timer's evaluation may set a timer: a second, the finest
 * step of a cron schedule. A timer set sooner from a timer's firing is set for then.
 */
export const TIMER_FLOOR_MS = 1_000;

/** Resolves fired events into one outcome, timer changes and notes. Pure. */
export function resolve(input: ResolveInput): Resolution {
  const { now, trigger } = input;
  const notes: string[] = [];
  const fired = [...input.fired];
  if (trigger.kind === "timer" && trigger.name === "wake") {
    fired.push({ rule: WAKE_ALARM_RULE, event: "wake", params: {} });
  }
  const liveHold = input.holdUntil !== null && input.holdUntil > now;
  if (liveHold) fired.push({ rule: HOLD_LEASE_RULE, event: "hold-active", params: { until: iso(input.holdUntil!) } });

  /**
   * When a timer's evaluation sets a timer for `at` (its own again, another, the wake alarm, a
   * hold's end): a moment not after now would fire at once, and its evaluation set it (or the
   * timer that set it) again, forever: null, not set. One less than TIMER_FLOOR_MS after now
   * (`after: "PT0.001S"`) would do the same a thousand times a second: it is moved to that
   * floor, a tick a second at most, as the finest cron schedule. The notes say either. `what`
   * names the timer and how it is due (`timer "x" of rule r is due`).
   */
  const afterThisFiring = (at: number, what: string): number | null => {
    if (trigger.kind !== "timer") return at;
    if (at <= now) {
      notes.push(`${what} at ${iso(at)}, not after this timer's firing: not set`);
      return null;
    }
    if (at >= now + TIMER_FLOOR_MS) return at;
    notes.push(`${what} at ${iso(at)}, less than 1 s after this timer's firing: set for ${iso(now + TIMER_FLOOR_MS)}`);
    return now + TIMER_FLOOR_MS;
  };

  const plan = new TimerPlan(input.timers);
  const setTimer = plan.set.bind(plan);
  const cancelTimer = plan.cancel.bind(plan);
  const { timers, ops } = plan;

  for (const e of fired) {
    if (e.event === "schedule") {
      const name = String(e.params.name);
      const asked =
        e.params.at !== undefined ? Date.parse(String(e.params.at)) : now + durationMs(String(e.params.after));
      const due = afterThisFiring(asked, `timer "${name}" of rule ${e.rule} is due`);
      if (due !== null) setTimer(name, due, "schedule");
    } else if (e.event === "cancel") {
      const name = String(e.params.name);
      if (!cancelTimer(name, "schedule")) notes.push(`cancel of timer "${name}" by rule ${e.rule}: no such timer`);
    }
  }

  const holds = fired.filter((e) => e.event === "hold-active");
  const wakes = fired.filter((e) => e.event === "wake");
  const dormancies = fired.filter((e) => e.event === "dormancy");

  // Hold leases: `for` keeps the hold after the rule stops firing; the longest lease wins.
  let holdUntil = liveHold ? input.holdUntil : null;
  let leasedBy = "";
  for (const h of holds) {
    if (typeof h.params.for !== "string") continue;
    const until = now + durationMs(h.params.for);
    if (holdUntil === null || until > holdUntil) [holdUntil, leasedBy] = [until, h.rule];
  }
  // A lease over by now (`for: "PT0S"`), or nearly: its hold timer would fire at once, and take
  // it again. A live one kept as it was is not moved.
  if (holdUntil !== null && !(liveHold && holdUntil === input.holdUntil))
    holdUntil = afterThisFiring(holdUntil, `hold lease of rule ${leasedBy} ends`);
  if (holdUntil !== null && holdUntil !== input.holdUntil) setTimer("hold", holdUntil, "hold");
  if (holdUntil === null && input.holdUntil !== null) {
    notes.push(`hold lease expired at ${iso(input.holdUntil)}`);
    cancelTimer("hold", "hold");
  }

  let outcome: Outcome =
    holds.length > 0 ? "hold-active" : wakes.length > 0 ? "wake" : dormancies.length > 0 ? "dormancy" : "none";
  if (dormancies.length > 0 && outcome !== "dormancy") {
    const by = outcome === "hold-active" ? holds : wakes;
    notes.push(`dormancy (${rulesOf(dormancies)}) vetoed by ${outcome} rule ${rulesOf(by)}`);
  }

  // Dwell: the opposite outcome waits until the object has been in its state long enough.
  const activeLike = input.state === "active" || input.state === "waking";
  // The object's own alarm wakes it from a sleep, and a wake Vigil issues cancels it (below). An
  // awake object that still has one woke without either: found running (started elsewhere, as by
  // a platform's autostart). That alarm is spent: it neither fires on the object awake (a wake
  // that would veto its dormancy) nor is kept, as the earlier, by the object's next sleep.
  const staleAlarm = activeLike && timers.has("wake");
  if (outcome === "dormancy" && activeLike && input.minActiveMs > 0) {
    // Waking counts as active from the moment the wake began, so neither evaluations while
    // waking nor a slow start can push the deferral back.
    const until = (input.wokeAt ?? input.stateSince) + input.minActiveMs;
    if (until > now) {
      notes.push(`dormancy (${rulesOf(dormancies)}) deferred by dwell.minActive until ${iso(until)}`);
      setTimer("dwell", until, "dwell");
      outcome = "none";
    }
  }
  // Sleeping counts as dormant, from when the sleep began (as waking counts as active): a wake
  // while the suspend or stop is in flight is what the dwell is there to hold back.
  if (
    (outcome === "wake" || outcome === "hold-active") &&
    (input.state === "dormant" || input.state === "sleeping") &&
    input.minDormantMs > 0
  ) {
    const until = input.stateSince + input.minDormantMs;
    if (until > now) {
      // Every rule held back is named: a wake that fired beside a hold is deferred with it.
      const what =
        outcome === "wake"
          ? `wake (${rulesOf(wakes)})`
          : `hold-active (${rulesOf(holds)})${wakes.length > 0 ? ` and wake (${rulesOf(wakes)})` : ""}`;
      notes.push(`${what} deferred by dwell.minDormant until ${iso(until)}`);
      // The object's own alarm, used up by this firing, is set again for the dwell's end: the
      // rules that re-evaluate then do not know it rang (a dwell timer alone would lose it).
      if (wakes.some((w) => w.rule === WAKE_ALARM_RULE)) setTimer("wake", until, "wake");
      else setTimer("dwell", until, "dwell");
      outcome = "none";
    }
  }

  // A dwell that is over, or that no longer defers anything, needs no timer.
  if (outcome !== "none" && ops.get("dwell")?.op !== "set") cancelTimer("dwell", "dwell");

  let mode = input.sleep;
  /** Whether this dormancy leaves the object with its alarm (set now, or kept). */
  let alarmSet = false;
  if (outcome === "dormancy") {
    const withMode = dormancies.find((d) => d.params.mode === "suspend" || d.params.mode === "stop");
    if (withMode) mode = withMode.params.mode as SleepMode;
    // The object's own alarm: the earliest asked for, and never later than one already set. A
    // rule's alarm not after now is left out on a timer's evaluation (it would wake the object
    // just put to sleep, at every firing), the others' kept.
    let due: number | null = null;
    for (const d of dormancies) {
      const at =
        typeof d.params.wakeAt === "string"
          ? Date.parse(d.params.wakeAt)
          : typeof d.params.wakeAfter === "string"
            ? now + durationMs(d.params.wakeAfter)
            : null;
      if (at === null) continue;
      const alarm = afterThisFiring(at, `wake timer of rule ${d.rule} is due`);
      if (alarm !== null && (due === null || alarm < due)) due = alarm;
    }
    if (due !== null) {
      const pending = staleAlarm ? undefined : timers.get("wake");
      if (pending && pending.dueAt <= due) {
        if (pending.dueAt < due) notes.push(`wake timer kept at ${iso(pending.dueAt)}, earlier than ${iso(due)}`);
      } else setTimer("wake", due, "wake");
      alarmSet = true;
    }
  }
  if (staleAlarm && !alarmSet) {
    cancelTimer("wake", "wake");
    notes.push("wake timer cancelled: the object is awake");
  }
  if ((outcome === "wake" || outcome === "hold-active") && !activeLike && timers.has("wake")) {
    cancelTimer("wake", "wake");
    notes.push("wake timer cancelled: the object is waking anyway");
  }
  return { fired, outcome, mode, holdUntil, timerOps: [...ops.values()], notes };
}
