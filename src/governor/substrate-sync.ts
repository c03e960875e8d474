// The substrate's side of governance: sending committed actions to drivers, recording their
// confirmations and failures, and following changes Vigil did not ask for (an exit, a crash, a
// machine stopped elsewhere) found by a driver, by re-adoption at start or by reconciliation.
// The file is past 400 lines because these share one path into the object's mailbox (an
// observation followed, with the checks of whether it still applies) and are read together.

import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import { confirmedState, enter, observedState } from "../core/lifecycle.ts";
import { emptyBatch, pendingAction, type ActionRecord, type Store } from "../core/store.ts";
import type { ObjectRecord, Observation } from "../core/types.ts";
import type { Driver } from "../substrate/driver.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { CrashLoopGuard } from "./crash-loop.ts";
import type { GovernorEvents } from "./events.ts";
import type { ActionChange, ObjectTable } from "./object-table.ts";
import { failureDecision, recordedDecision } from "./recorded-decisions.ts";
import { eachConcurrently } from "../core/concurrency.ts";
import { jsonEqual } from "../core/json.ts";
import { answerWithin } from "../timers/within.ts";

export interface SubstrateSyncDeps {
  table: ObjectTable;
  store: Store;
  arrival: ArrivalPipeline;
  crashLoops: CrashLoopGuard;
  drivers: ReadonlyMap<string, Driver>;
  policy: (name: string) => CompiledPolicy | null;
  clock: Clock;
  events: GovernorEvents;
  newId: (kind: "decision" | "action") => string;
  onError: (error: Error, context: string) => void;
  /** The outbox's queues: what waits behind an action, and where a recorded decision's go. */
  dispatcher: Pick<Dispatcher, "queuedActions" | "enqueue" | "supersede">;
  /** False once the governing lease is lost: nothing a driver reports is evaluated then. */
  governing: () => boolean;
}

/** Objects read from the store at a time by adoption and reconciliation. */
const PAGE = 500;
/** Objects adopted at once at start (their observations' commits share groups). */
export const ADOPT_CONCURRENCY = 16;
/** Objects observed at once by a reconciliation pass. */
export const RECONCILE_CONCURRENCY = 16;
/** How long one observation may take before the pass gives up on it (a Fly call retries for up to ~30 s). */
export const RECONCILE_DEADLINE_MS = 60_000;

export class SubstrateSync {
  /** Per object, the observations waiting for their turn in its mailbox (see forget). */
  private readonly waiting = new Map<string, Set<{ stale: boolean }>>();

  /**
   * Objects deleted while their mailbox still holds what was queued before the deletion ended
   * (a PUT that creates the id again): each with the deletion's mark, dropped when the id is
   * created again or once that queue has run (see deleted).
   */
  private readonly gone = new Map<string, object>();

  constructor(private readonly d: SubstrateSyncDeps) {}

  /**
   * The object is deleted (call in its mailbox): as forget, and an exit of its compute reported
   * from now on is of no object, even if its turn comes after a PUT queued meanwhile has created
   * the id again (that object's compute never ran). The mark lasts until the id is created again,
   * or until what is queued in the mailbox now has run (a report after that finds no object).
   */
  deleted(objectId: string): void {
    this.forget(objectId);
    const mark = {};
    this.gone.set(objectId, mark);
    void this.d.table
      .run(objectId, async () => {
        if (this.gone.get(objectId) === mark) this.gone.delete(objectId);
      })
      .catch(() => undefined);
  }

  /** The object is created (in its mailbox): what is reported from now on is of its compute. */
  created(objectId: string): void {
    this.gone.delete(objectId);
  }

  /**
   * The object is deleted, or bound to other compute: what was observed of it and still waits
   * for its turn in the mailbox is of the compute it had (an exit reported just before), and
   * moves nothing: neither the object created again under its id nor the new binding. Returns
   * `undo`, for a rebind that fails (the compute observed is the object's again).
   */
  forget(objectId: string): () => void {
    const marked = [...(this.waiting.get(objectId) ?? [])].filter((w) => !w.stale);
    for (const w of marked) w.stale = true;
    return () => {
      for (const w of marked) w.stale = false;
    };
  }

  /**
   * Sends an action to its object's driver; resolves with the driver's observation. The object is
   * read after the action's claim left the mailbox: `detached` says whether a deletion or a
   * rebind has taken its turn there since (a read from the store can take a while), and then what
   * was read may be another object of its id or the new binding, which the action was not decided
   * for: it is not sent, and fails detached (recorded superseded, as its answer would have been).
   */
  async send(action: ActionRecord, detached: () => boolean = () => false): Promise<Observation> {
    const object = await this.d.table.load(action.objectId);
    if (detached())
      throw new Error(
        `action ${action.id} was not sent: its object was deleted or bound to other compute while it was being sent`,
      );
    if (!object) throw new Error(`object ${action.objectId} is gone`);
    const driver = this.d.drivers.get(object.substrate.driver);
    if (!driver) throw new Error(`driver ${object.substrate.driver} is not configured`);
    this.d.events.emit("action:dispatched", action, object.substrate.driver);
    return driver[action.kind]({ objectId: object.id, config: object.substrate.config, action: action.id });
  }

  /**
   * The object an action was decided for, or undefined: deleted, or created again under the
   * same id since (a call still in flight for the deleted one must not move the new one).
   */
  private async ownerOf(action: ActionRecord): Promise<ObjectRecord | undefined> {
    const object = await this.d.table.take(action.objectId);
    return object && object.createdAt <= action.createdAt ? object : undefined;
  }

  /**
   * An action a write whose answer was lost closed, found so when its object was read again:
   * told as that write would have told it (its decision is told by the table).
   */
  toldClosed(update: ActionChange): void {
    const { object, decision: _decision, ...action } = update;
    if (action.status === "confirmed" && object?.substrate.observed)
      this.d.events.emit("action:confirmed", action, object.substrate.observed);
    else if (action.status === "failed") this.d.events.emit("action:failed", action, action.lastError ?? "");
    else if (action.status === "superseded") this.d.events.superseded([action], this.d.clock.now());
  }

  /** Records a driver's confirmation; moves waking -> active, sleeping -> dormant. No evaluation. */
  async confirm(action: ActionRecord, observation: Observation, detached = false): Promise<void> {
    const object = await this.ownerOf(action);
    const now = this.d.clock.now();
    const done = { ...action, status: "confirmed" as const, lastError: null, updatedAt: now };
    if (!object) return;
    // Recorded by a write whose answer was lost, and told when the object was read again.
    if (this.d.table.recorded(action.objectId, action.id)) return;
    if (detached) {
      // Sent to a binding the object has left: the rebind superseded it. Its answer closes it
      // and moves nothing; nor is it the object's confirmation (usage reads those).
      await this.d.table.commitAction({ ...action, status: "superseded", lastError: null, updatedAt: now });
      this.d.events.superseded([action], now);
      return;
    }
    const next = confirmedState(object.state, action.kind);
    const updated: ObjectRecord = {
      ...object,
      substrate: { ...object.substrate, observed: observation },
      ...(next ? enter(object, next, now) : {}),
      updatedAt: now,
    };
    await this.d.table.commitAction({ ...done, object: updated });
    this.d.events.emit("action:confirmed", done, observation);
  }

  /**
   * Records a retry, or a final failure: then the object is `failed` and a decision says why.
   * Resolves false when a retry is not to be made (the action is closed instead).
   */
  async failed(action: ActionRecord, error: string, final: boolean, detached = false): Promise<boolean> {
    const { table, events } = this.d;
    const now = this.d.clock.now();
    const object = await this.ownerOf(action);
    // Its object was deleted (its rows with it): as for a confirmation, the answer is for no one,
    // and nothing is recorded or told (it was no failure of a governed object's action).
    if (!object) return false;
    if (this.d.table.recorded(action.objectId, action.id)) return false;
    if (detached) {
      // Sent to a binding the object has left: the rebind superseded it, whatever its answer
      // (as a confirmation of it is closed, in `confirm`). The error is kept on the row.
      await table.commitAction({ ...action, status: "superseded", lastError: error, updatedAt: now });
      events.superseded([action], now);
      return false;
    }
    if (!final && action.kind === "start" && object.state !== "waking") {
      // Its object moved on while it was with the driver (a waking object seen stopped, left
      // dormant by its rules): tried again, it would bring up compute nothing governs. (A stop
      // or a suspend is always tried again: taking compute down is never ungoverned.)
      await table.commitAction({ ...action, status: "superseded", lastError: error, updatedAt: now });
      events.superseded([action], now);
      return false;
    }
    if (!final) {
      await table.commitAction({ ...action, status: "pending", lastError: error, updatedAt: now });
      events.emit("action:retrying", action, error);
      return true;
    }
    const failed = { ...action, status: "failed" as const, lastError: error, updatedAt: now };
    // A newer decision's action waits behind this one (it could not supersede an action in
    // flight): that one decides where the object goes, not this failure.
    const newer = this.d.dispatcher.queuedActions(action.objectId).some((a) => a.id > action.id);
    if (newer || confirmedState(object.state, action.kind) === null) {
      // A newer decision moved the object on already: the failure only closes the action.
      await table.commitAction(failed);
      events.emit("action:failed", failed, error);
      return false;
    }
    // No rule is evaluated; a later arrival or timer may wake it again.
    const policy = this.d.policy(object.policy);
    const decision = failureDecision(this.d.newId("decision"), object, policy, failed, error, now);
    const updated: ObjectRecord = {
      ...object,
      ...enter(object, "failed", now),
      lastDecisionId: decision.id,
      updatedAt: now,
    };
    await table.commitAction({ ...failed, object: updated, decision }, () => {
      events.emit("action:failed", failed, error);
      events.emit("decision:recorded", decision);
    });
    return false;
  }

  /**
   * Re-adoption at start, for drivers whose compute outlives the server: the objects bound to
   * them, read a page at a time through the index on driver, ADOPT_CONCURRENCY at a time (one at
   * a time, each waiting for a commit of its own, 2,000 process objects took 3.7-6.1 s of start-up;
   * sixteen at a time, 0.9-2.3 s). What a driver finds there is handled like any observation.
   */
  async adoptAll(): Promise<void> {
    for (const driver of this.d.drivers.values()) {
      const adopt = driver.adopt?.bind(driver);
      if (!adopt) continue;
      await eachConcurrently(this.objects({ driver: driver.name }), ADOPT_CONCURRENCY, async (object) => {
        try {
          // The object's starts still pending (queued before adoption): one sent before the
          // restart may have made compute whose observation was never recorded.
          const starts = this.d.dispatcher.queuedActions(object.id).filter((a) => a.kind === "start");
          const found = await adopt(
            { objectId: object.id, config: object.substrate.config },
            object.substrate.observed,
            starts.map((a) => a.id),
          );
          await this.observed(object.id, found);
        } catch (e) {
          this.d.onError(e as Error, `adopting ${object.id}`);
        }
      });
    }
  }

  /**
   * Reconciliation: observes every settled object on its substrate and treats a divergence
   * from the governed state (active but not running, dormant but running) like a crash: the
   * state follows and the object is evaluated with trigger `substrate`. Objects waking,
   * sleeping or failed are left to their actions, except that a failed one whose stored
   * observation lists leftovers is observed for them alone (leftoversSeen: a crash loop leaves
   * some, and nothing else may observe it for a long while). The objects are read from the
   * store a page at a time, without filling the hot set. Returns how many diverged. Once
   * `signal` aborts (shutdown), no further object is observed nor page read, and the
   * observations in flight are cut (their drivers' signals abort; what they would have found is
   * left to the next pass), so that a substrate that does not answer holds up no shutdown.
   */
  async reconcile(signal?: AbortSignal): Promise<number> {
    let diverged = 0;
    for (const state of ["active", "dormant", "failed"] as const) {
      // Of the failed objects, those with leftovers alone are read (by an index of them alone).
      const query = state === "failed" ? { failedWithLeftovers: true } : { state };
      // A few observations at a time (a slow substrate does not hold the others up for long),
      // each within a deadline (one that never answers does not hold the pass up at all).
      await eachConcurrently(this.objects(query, signal), RECONCILE_CONCURRENCY, async (row) => {
        if (!signal?.aborted && (await this.reconcileOne(row, state, signal))) diverged++;
      });
    }
    return diverged;
  }

  /** Observes one object; true when its substrate diverged from its state (a failed one never does). */
  private async reconcileOne(
    row: ObjectRecord,
    state: "active" | "dormant" | "failed",
    signal?: AbortSignal,
  ): Promise<boolean> {
    const object = this.d.table.peek(row.id) ?? row;
    if (object.state !== state) return false;
    if (state === "failed" && object.substrate.observed?.leftovers === undefined) return false;
    const driver = this.d.drivers.get(object.substrate.driver);
    if (!driver) return false;
    let observation: Observation;
    // Aborted at the deadline, or when the pass stops: the driver may stop observing what no
    // one waits for.
    const deadline = new AbortController();
    const cut = () => deadline.abort();
    const stopped = new Promise<"stopped">((resolve) =>
      deadline.signal.addEventListener("abort", () => resolve("stopped"), { once: true }),
    );
    signal?.addEventListener("abort", cut, { once: true });
    try {
      const seen = await answerWithin(
        this.d.clock,
        RECONCILE_DEADLINE_MS,
        Promise.race([
          driver.observe({ objectId: object.id, config: object.substrate.config }, deadline.signal),
          stopped,
        ]),
        null,
      );
      // The pass stopped (a shutdown): nothing was observed, and that is no failure.
      if (seen === "stopped") return false;
      if (seen === null) {
        deadline.abort();
        throw new Error(
          `observing ${object.id} on ${driver.name} took longer than ${RECONCILE_DEADLINE_MS / 1000} s; it is tried again next pass`,
        );
      }
      observation = seen;
    } catch (e) {
      if (!signal?.aborted) this.d.onError(e as Error, `observing ${object.id}`);
      return false;
    } finally {
      signal?.removeEventListener("abort", cut);
    }
    const follows = observedState(observation.status);
    if (follows === null) return false;
    if (follows === object.state || state === "failed") {
      // No divergence, so nothing is evaluated or stored, unless the stored observation lists
      // leftovers (a process driver's earlier trees being stopped) that this one does not: once
      // they are gone, what GET shows must say so. Only then is it written.
      if (sameLeftovers(object.substrate.observed, observation)) return false;
      try {
        await this.leftoversSeen(object, observation);
      } catch (e) {
        this.d.onError(e as Error, `reconciling ${object.id}`);
      }
      return false;
    }
    try {
      const current = await this.d.table.load(object.id);
      if (!current || current.state !== object.state) return false;
      return await this.observed(object.id, { ...observation, reason: observation.reason ?? "reconciliation" }, object);
    } catch (e) {
      // Its decision could not be committed (the database refused it): the pass goes on with
      // the other objects, and the next one finds this one again.
      this.d.onError(e as Error, `reconciling ${object.id}`);
      return false;
    }
  }

  /**
   * The stored observation of `seen`'s object with its `leftovers` as `observation` lists them
   * (none: the field goes), the rest as it was stored: only what is being stopped has changed.
   * Skipped when the object has moved on since it was read.
   */
  private leftoversSeen(seen: ObjectRecord, observation: Observation): Promise<void> {
    const { table } = this.d;
    return table.run(seen.id, async () => {
      if (!this.d.governing()) return;
      const object = await table.take(seen.id);
      const stored = object?.substrate.observed;
      const same = JSON.stringify(stored) === JSON.stringify(seen.substrate.observed);
      if (!object || !stored || object.state !== seen.state || !same) return;
      const { leftovers: _gone, ...rest } = stored;
      const leftovers = observation.leftovers;
      const observed: Observation = leftovers === undefined ? rest : { ...rest, leftovers };
      await table.commit(
        emptyBatch({ ...object, substrate: { ...object.substrate, observed }, updatedAt: this.d.clock.now() }),
      );
    });
  }

  /** Every object matching `query`, a page at a time, in id order; none past `signal`'s abort. */
  private async *objects(
    query: { state?: "active" | "dormant"; driver?: string; failedWithLeftovers?: boolean },
    signal?: AbortSignal,
  ): AsyncGenerator<ObjectRecord> {
    for (let after: string | undefined; !signal?.aborted;) {
      const page = await this.d.store.listObjects({ ...query, after, limit: PAGE });
      for (const object of page) {
        if (signal?.aborted) return;
        yield object;
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * A change the driver reports that Vigil did not ask for: state follows, rules decide. With
   * `seen`, the object as it was when the substrate was asked (reconciliation): an observation of
   * it is of no use once the object has moved on since (its crash followed and its compute started
   * again, say, while a slow substrate answered), and moves nothing; false then. The next pass
   * observes it again. One whose object was deleted or rebound while it waited (forget) moves
   * nothing either.
   */
  observed(objectId: string, observation: Observation, seen?: ObjectRecord): Promise<boolean> {
    const { table, events } = this.d;
    // Reported while the id names no object: not of one created again before its turn.
    const turn = { stale: this.gone.has(objectId) };
    let waiting = this.waiting.get(objectId);
    if (!waiting) this.waiting.set(objectId, (waiting = new Set()));
    waiting.add(turn);
    return table.run(objectId, async () => {
      waiting.delete(turn);
      if (waiting.size === 0 && this.waiting.get(objectId) === waiting) this.waiting.delete(objectId);
      if (turn.stale || !this.d.governing()) return false;
      const object = await table.take(objectId);
      if (!object || (seen !== undefined && movedOn(seen, object))) return false;
      events.emit("substrate:observed", objectId, observation);
      const now = this.d.clock.now();
      const follows = observedState(observation.status);
      // Waking and running, or sleeping whatever the compute does, is the pending action's
      // business: its confirmation moves the state. (A sleeping object seen running, as when a
      // restart adopts a process its stop had not yet ended, is about to be stopped: moving it
      // to active would evaluate it again, and the stop's confirmation leaves active as it is.)
      // So is a waking object seen stopped whose start is queued and was never tried (at a
      // restart, one committed before the server stopped): what it will bring up is not running
      // yet, and that is no crash. (One tried and failed, waiting out its backoff, is not exempt.)
      const underway =
        (follows === "active" && object.state === "waking") ||
        (follows !== null && object.state === "sleeping") ||
        (object.state === "waking" &&
          this.d.dispatcher.queuedActions(objectId).some((a) => a.kind === "start" && a.attempts === 0));
      // A failed object stays failed until a fact or a timer wakes it: observing it (at a
      // restart, by reconciliation) must not restart a crash loop.
      const moved = follows !== null && follows !== object.state && !underway && object.state !== "failed";
      const updated: ObjectRecord = {
        ...object,
        substrate: { ...object.substrate, observed: observation },
        ...(moved ? enter(object, follows, now) : {}),
        updatedAt: now,
      };
      const policy = this.d.policy(object.policy);
      if (!moved) {
        await table.commit(emptyBatch(updated));
        return true;
      }
      if (!policy) {
        // Nothing to evaluate with; a waking object seen stopped still loses what is queued for
        // it (a start in its backoff would bring compute up under a dormant object).
        const dropped = object.state === "waking" ? this.d.dispatcher.queuedActions(objectId) : [];
        await table.commit({ ...emptyBatch(updated), supersede: dropped.map((a) => a.id) });
        this.d.dispatcher.supersede(
          objectId,
          dropped.map((a) => a.id),
        );
        events.superseded(dropped, now);
        return true;
      }
      if (follows === "dormant" && this.d.crashLoops.exited(objectId, now)) {
        const note = this.d.crashLoops.note;
        // Waking: a restart is queued or with the driver. What is queued is dropped, and a stop
        // goes behind what is in flight, so that nothing it brings up runs on ungoverned.
        const decisionId = this.d.newId("decision");
        const stop: ActionRecord[] =
          object.state === "waking" ? [pendingAction(this.d.newId("action"), object, decisionId, "stop", now)] : [];
        const dropped = stop.length > 0 ? this.d.dispatcher.queuedActions(objectId) : [];
        const supersede = dropped.map((a) => a.id);
        const decision = recordedDecision(
          decisionId,
          object,
          policy,
          {
            name: "crash-loop",
            toState: "failed",
            note,
            actions: stop.map((a) => ({ id: a.id, kind: a.kind, status: a.status })),
          },
          now,
        );
        // The state moved with the observation a moment ago; failed is where it ends up.
        const failed = { ...updated, state: "failed" as const, wokeAt: null, lastDecisionId: decision.id };
        await table.commit({ ...emptyBatch(failed), decision, actions: stop, supersede });
        this.d.dispatcher.supersede(objectId, supersede);
        this.d.dispatcher.enqueue(stop);
        events.superseded(dropped, now);
        events.emit("decision:recorded", decision);
        return true;
      }
      // A waking object seen stopped: what is queued for it (a start in its backoff) goes, and its
      // rules decide afresh (a wake queues a new start).
      await this.d.arrival.run(
        updated,
        policy,
        { trigger: { kind: "substrate", name: observation.status }, at: now },
        { supersedeQueued: object.state === "waking" },
      );
      return true;
    });
  }
}

/**
 * Whether the object has moved on since `seen` was read: another object of its id, another
 * binding, another state or stay in it, or another observation recorded of its compute.
 */
function movedOn(seen: ObjectRecord, now: ObjectRecord): boolean {
  return (
    now.createdAt !== seen.createdAt ||
    now.state !== seen.state ||
    now.stateSince !== seen.stateSince ||
    now.substrate.driver !== seen.substrate.driver ||
    !jsonEqual(now.substrate.config, seen.substrate.config) ||
    JSON.stringify(now.substrate.observed) !== JSON.stringify(seen.substrate.observed)
  );
}

/** Whether the stored observation lists the same leftovers as a new one (none in either counts). */
function sameLeftovers(stored: Observation | null | undefined, observation: Observation): boolean {
  return JSON.stringify(stored?.leftovers ?? null) === JSON.stringify(observation.leftovers ?? null);
}
