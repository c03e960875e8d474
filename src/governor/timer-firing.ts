// Timers from the governor's side: evaluating an object when one of its timers falls due, and
// keeping every object's cron timers in step with its policy's schedules.

import { BoundedMap } from "../core/bounded-map.ts";
import type { Clock } from "../core/clock.ts";
import { eachConcurrently } from "../core/concurrency.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import { LeaseLost, VigilError } from "../core/errors.ts";
import { cronTimerOps, nextTick, nextTicksFrom, scheduleSpec } from "../core/schedule.ts";
import { LATE_AFTER_MS } from "../core/timers.ts";
import type { ObjectRecord, Timer, TimerOp, Trigger } from "../core/types.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { GovernorEvents } from "./events.ts";
import { canonicalJson } from "../core/json.ts";
import type { DueTimer, Store } from "../core/store.ts";
import type { ObjectTable } from "./object-table.ts";

export interface TimerFiringDeps {
  table: ObjectTable;
  store: Store;
  /** The names of the policies loaded now. */
  loaded: () => string[];
  arrival: ArrivalPipeline;
  policy: (name: string) => CompiledPolicy | null;
  clock: Clock;
  events: GovernorEvents;
  onError: (error: Error, context: string) => void;
  /** False once the governing lease is lost, or the governor stops: no schedule is armed then. */
  governing: () => boolean;
}

export class TimerFiring {
  /**
   * Policies whose armed schedules were forgotten (see rearmOnLoad) since they were last armed,
   * each with its clearing of the record (every tick used up meanwhile waits for that write).
   */
  private readonly unarmed = new Map<string, Promise<void>>();
  /**
   * Timers this server put off while their policy was not loaded, by object and name, with the
   * due time they were put off to: what tells a timer put off again from one first put off, so
   * that it is logged once per server. When each was first due is its row's (timers.first_due).
   */
  private readonly postponed = new BoundedMap<string, number>(POSTPONED_MAX);
  /**
   * The version each policy's objects were last all armed for, and when that arming ended: a tick
   * due after then is of its schedules, and is not looked up (see stale). One due before may be a
   * stale tick the walk found already due, and left to its firing.
   */
  private readonly armedFor = new Map<string, { policy: CompiledPolicy; after: number }>();
  /** The arming of each policy under way (see armInTurn). */
  private readonly arming = new Map<string, Promise<number>>();

  constructor(private readonly d: TimerFiringDeps) {}

  /**
   * Evaluates an object for a timer that fell due (called by the scheduler, with the row it read:
   * a row put off while its policy was not loaded keeps when it was first due).
   */
  fire(objectId: string, name: string, late: boolean, row: Pick<DueTimer, "dueAt" | "firstDue">): Promise<void> {
    const { table } = this.d;
    return table.run(objectId, async () => {
      const object = await table.take(objectId);
      const now = this.d.clock.now();
      const timer = object?.timers.find((t) => t.name === name);
      // Replaced by a later one or cancelled since the scheduler read it: nothing to do.
      if (!object || !timer || timer.dueAt > now) return;
      const policy = this.d.policy(object.policy);
      if (!policy) {
        const why = `policy ${object.policy} is not loaded`;
        // A tick comes back with the policy (below); any other timer (the object's own alarm,
        // a hold's end, a dwell's, an author's) would be lost: it waits for the policy instead.
        return timer.kind === "cron"
          ? this.consume(object, name, why)
          : this.postpone(object, timer, why, row.dueAt === timer.dueAt ? row.firstDue : undefined);
      }
      // A tick of a schedule the serving version no longer has: a reload removed it, and its
      // arming has not reached this object yet (a large policy's walk takes a while) or failed.
      // The arming would cancel it; so does its firing, rather than evaluating the object for
      // a schedule its policy no longer has.
      // So does a tick armed for a schedule of that name whose cron or time zone the reload changed.
      if (
        timer.kind === "cron" &&
        (!policy.schedules.some((s) => s.name === name) || (await this.stale(object, timer, policy)))
      ) {
        const rest = object.timers.filter((t) => t !== timer);
        const ops: TimerOp[] = [{ name, op: "cancel", kind: "cron" }, ...cronTimerOps(policy.schedules, rest, now)];
        await table.commitTimers({ ...object, updatedAt: now }, ops);
        return;
      }
      this.postponed.delete(postponedKey(objectId, name));
      // The timer put off, not one set again since: it was due when it was first due, which its
      // row keeps (a timer set again since has no first due time).
      const dueAt = (row.dueAt === timer.dueAt ? row.firstDue : undefined) ?? timer.dueAt;
      // Late by the time it is evaluated, not launched: a busy mailbox may have held it long.
      if (now - dueAt > LATE_AFTER_MS) late = true;
      const trigger: Trigger = late ? { kind: "timer", name, late: true } : { kind: "timer", name };
      try {
        await this.d.arrival.run(object, policy, { trigger, at: now });
      } catch (e) {
        if (!(e instanceof VigilError)) throw e;
        // With where its problems are (a rule's throw: "an operator of rules[1] of p.json ..."),
        // as a facts arrival's 422 says them; a request body's `$` means nothing for a timer.
        const where = e.problems.map((p) => (p.path === "$" ? p.message : `${p.path}: ${p.message}`));
        await this.consume(object, name, [e.message, ...where].join("; "));
        this.d.events.emit("timer:failed", objectId, name, late, now - dueAt);
        return;
      }
      this.d.events.emit("timer:fired", objectId, name, late, now - dueAt);
    });
  }

  /**
   * Whether a due cron tick was armed for another schedule of its name than `policy` has (a reload
   * changed its cron or time zone, and the arming has not reached the object yet). A tick the new
   * schedule has at that moment is not stale, whatever it was armed for; nor is one of a store
   * that does not keep schedules. One armed before the store kept them (migration 0009: its row
   * has none) may be of a cron changed while the server was down, and is told by its due time
   * alone: stale unless the schedule has a tick then.
   */
  private async stale(object: ObjectRecord, timer: Timer, policy: CompiledPolicy): Promise<boolean> {
    const armed = this.armedFor.get(policy.name);
    if (armed?.policy === policy && timer.dueAt > armed.after) return false;
    const schedule = policy.schedules.find((s) => s.name === timer.name);
    if (!schedule || !this.d.store.timerSpec) return false;
    const spec = await this.d.store.timerSpec(object.id, timer.name);
    return spec !== scheduleSpec(schedule) && nextTick(schedule, timer.dueAt - 1) !== timer.dueAt;
  }

  /**
   * A timer that cannot be evaluated is used up all the same (a schedule re-arms its next
   * tick), rather than fired again every round.
   */
  private async consume(object: ObjectRecord, name: string, why: string): Promise<void> {
    const now = this.d.clock.now();
    const timer = object.timers.find((t) => t.name === name)!;
    const rest = object.timers.filter((t) => t !== timer);
    const policy = this.d.policy(object.policy);
    // Without its policy the object's schedules are not known: its other cron timers stay as
    // they are, and the policy's next load arms its objects again (the used-up tick with them).
    // That is recorded first: were the tick used up and the record's clearing to fail, the
    // record would still say "armed", and the policy's next load would not give the tick back.
    // A clearing that fails leaves the tick, tried again as any timer whose firing failed.
    if (!policy && timer.kind === "cron") await this.rearmOnLoad(object.policy);
    const ops: TimerOp[] = [
      { name, op: "cancel", kind: timer.kind },
      ...(policy ? cronTimerOps(policy.schedules, rest, now) : []),
    ];
    await this.d.table.commitTimers({ ...object, updatedAt: now }, ops);
    this.d.onError(new Error(`${why}; timer used up without an evaluation`), `timer ${name} of ${object.id}`);
  }

  /**
   * Moves a timer whose policy is not loaded on by a minute, so that it fires once the policy is
   * back; its row keeps when it was first due (`stored`: what its row kept, put off before a restart).
   */
  private async postpone(object: ObjectRecord, timer: Timer, why: string, stored: number | undefined): Promise<void> {
    const now = this.d.clock.now();
    const putOffTo = now + UNLOADED_RETRY_MS;
    const key = postponedKey(object.id, timer.name);
    const again = this.postponed.get(key) === timer.dueAt;
    const firstDue = stored ?? timer.dueAt;
    const ops: TimerOp[] = [{ name: timer.name, op: "set", dueAt: putOffTo, kind: timer.kind, firstDue }];
    await this.d.table.commitTimers({ ...object, updatedAt: now }, ops);
    this.postponed.set(key, putOffTo);
    // Told when first put off, not at every minute after: a policy missing at start (a file
    // refused or deleted) would otherwise log a line a minute for every such timer of its
    // objects, burying the line that says why the policy is not loaded.
    if (!again)
      this.d.onError(
        new Error(`${why}; timer put off a minute at a time until the policy is loaded`),
        `timer ${timer.name} of ${object.id}`,
      );
  }

  /** Forgets the schedules a policy's objects were armed for, so that its next load arms them all. */
  private rearmOnLoad(policy: string): Promise<void> {
    let clearing = this.unarmed.get(policy);
    if (!clearing) {
      clearing = this.d.store.setArmedSchedules(policy, "");
      this.unarmed.set(policy, clearing);
      // Not cleared: the ticks that waited for it stay, and the next one tried clears it again.
      const sent = clearing;
      void sent.catch(() => {
        if (this.unarmed.get(policy) === sent) this.unarmed.delete(policy);
      });
    }
    return clearing;
  }

  /**
   * Gives every object of every loaded policy (or of one) the cron timers its schedules call
   * for, and removes those of schedules that are gone. The schedules a policy's objects were
   * armed for are kept in the store, so this reads the objects of a policy only when its
   * schedules changed (at start, after a reload): start-up reads no object rows otherwise.
   * Returns how many objects changed.
   */
  async armSchedules(policyName?: string): Promise<number> {
    let changed = 0;
    for (const name of policyName === undefined ? this.d.loaded() : [policyName]) changed += await this.armInTurn(name);
    return changed;
  }

  /**
   * One arming of a policy at a time, each for the version serving when it begins: two reloads
   * close together (an edit and its undo) would otherwise arm side by side, the second finding
   * the schedules it serves still recorded as armed while the first put every object on its own.
   */
  private armInTurn(name: string): Promise<number> {
    const run = (this.arming.get(name) ?? Promise.resolve(0))
      .catch(() => 0)
      .then(() => {
        const policy = this.d.policy(name);
        return policy ? this.armPolicy(policy) : 0;
      });
    this.arming.set(name, run);
    const forget = () => {
      if (this.arming.get(name) === run) this.arming.delete(name);
    };
    run.then(forget, forget);
    return run;
  }

  private async armPolicy(policy: CompiledPolicy): Promise<number> {
    const { table, store } = this.d;
    const schedules = canonicalJson(policy.schedules);
    // A tick used up while the policy was not loaded may be clearing the record now: read before
    // that write lands, the record would still say "armed", and the object the tick was taken
    // from would be passed over. (Had it failed, the tick is still there, and fires now.)
    await this.unarmed.get(policy.name)?.catch(() => undefined);
    this.unarmed.delete(policy.name);
    if ((await store.armedSchedules(policy.name)) === schedules) {
      // Armed by a walk that ended before (this server's, or the one before a restart).
      this.armedFor.set(policy.name, { policy, after: -Infinity });
      return 0;
    }
    if (!this.d.governing()) return 0;
    // The record is cleared as the walk begins: a walk that does not finish (a signal at start,
    // a crash, a lost lease) is walked again at the next start whatever schedules that serves.
    // Left as it was, an edit undone before then would find the old record "already armed", and
    // the objects armed before the stop would keep the edit's ticks (or none). A clearing that
    // failed otherwise is told, and the walk goes on: its end writes the record either way.
    await store.setArmedSchedules(policy.name, "").catch((e: unknown) => {
      if (e instanceof LeaseLost) throw e;
      this.d.onError(e as Error, `clearing the armed schedules of ${policy.name}`);
    });
    let changed = 0;
    let failed = false;
    let lostTold = false;
    // The next ticks from now, computed once per moment: arming a large policy takes a while,
    // and a tick that fires meanwhile re-arms its object for the tick after it. A stale "now"
    // would move that object back to the tick that just fired, and it would fire twice.
    let ticks = { at: this.d.clock.now(), next: nextTicksFrom(this.d.clock.now()) };
    const fresh = () => {
      const now = this.d.clock.now();
      if (ticks.at !== now) ticks = { at: now, next: nextTicksFrom(now) };
      return ticks;
    };
    for (let after: string | undefined; ;) {
      const page = await store.listObjects({ policy: policy.name, after, limit: ARM_PAGE });
      // A few objects at a time, so that their commits share a group; and a turn of the event
      // loop after each (a page read and skipped whole would otherwise hold the server).
      await eachConcurrently(page, ARM_CONCURRENCY, async (row) => {
        // Skipped when its timers already agree, unless its mailbox is working or a tick of it is
        // due: a tick being evaluated under the old schedules (or evaluated since this page was
        // read, for a cold row) sets the old cron's next tick, which only its mailbox sees.
        const current = table.peek(row.id) ?? row;
        const before = fresh();
        const ticking = current.timers.some((t) => t.kind === "cron" && t.dueAt <= before.at);
        if (
          !ticking &&
          !table.working(row.id) &&
          cronTimerOps(policy.schedules, current.timers, before.at, before.next).length === 0
        )
          return;
        try {
          await table.run(row.id, async () => {
            if (!this.d.governing()) return;
            const object = await table.take(row.id);
            if (!object || object.policy !== policy.name) return;
            const { at, next } = fresh();
            const ops = cronTimerOps(policy.schedules, object.timers, at, next);
            if (ops.length === 0) return;
            await table.commitTimers(object, ops);
            changed++;
          });
        } catch (e) {
          // Its timers could not be written: the other objects are armed all the same, and the
          // arming is not recorded as done, so that the next start or reload tries it again.
          // The lease lost is told once (the objects armed beside it fail with it).
          const lost = e instanceof LeaseLost;
          if (!lost || !lostTold) this.d.onError(e as Error, `arming the schedules of ${row.id}`);
          lostTold ||= lost;
          failed = true;
        }
      });
      if (page.length < ARM_PAGE || !this.d.governing()) break;
      after = page[page.length - 1]!.id;
    }
    // Lost the lease or stopped meanwhile: the arming is not done, and not recorded as done.
    if (!this.d.governing()) return changed;
    // Another version loaded meanwhile: what this one armed is not what serves, and the record
    // may still hold the schedules the new version has (an edit undone during its arming). It is
    // cleared, so that the arming queued behind this one walks every object again.
    const done = !failed && this.d.policy(policy.name) === policy;
    await store.setArmedSchedules(policy.name, done ? schedules : "");
    if (done) this.armedFor.set(policy.name, { policy, after: this.d.clock.now() });
    return changed;
  }
}

/** Objects of a policy read at a time while arming its schedules. */
const ARM_PAGE = 500;
/** Objects of a page armed at once (their commits go in the same groups). */
const ARM_CONCURRENCY = 32;
/** How long a timer whose policy is not loaded waits before it is tried again. */
const UNLOADED_RETRY_MS = 60_000;
/** The most postponed timers remembered (those of deleted objects are never fired). */
const POSTPONED_MAX = 100_000;
const postponedKey = (objectId: string, name: string) => `${objectId}\u0000${name}`;
