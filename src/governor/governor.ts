// The governor: objects hot in memory, the database as the durable truth. Every arrival runs
// in its object's mailbox: merge -> evaluate -> resolve -> transition -> ONE commit (grouped
// with other objects' arrivals) -> update the hot copy -> hand actions to the dispatcher ->
// reply. Nothing is acknowledged before it is committed.
//
// The arrival path and the substrate's side (confirmations, failures, observations,
// adoption, reconciliation) live in one class because they share the hot object table and
// the mailboxes; the pieces without that state are in records.ts, dispatcher.ts,
// group-commit.ts, replay.ts and the scheduler.

import { createHash } from "node:crypto";
import { objectView, decisionView, type DecisionView, type ObjectView, type PutObjectBody } from "../contracts/api.ts";
import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import { applyTimerOps, decide, MemoryLimitError, type Arrival, type DecideResult } from "../core/decide.ts";
import { cronTimerOps, nextTicksFrom } from "../core/schedule.ts";
import { invalid, notFound, problemOf, VigilError } from "../core/errors.ts";
import { confirmedState, observedState } from "../core/lifecycle.ts";
import {
  canonicalJson,
  checkDocument,
  DEFAULT_LIMITS,
  isPlainObject,
  jsonBytes,
  type MemoryLimits,
} from "../core/merge-patch.ts";
import type { ActionRecord, CommitBatch, Store } from "../core/store.ts";
import type { Json, JsonObject, ObjectRecord, Observation, TimerOp, Trigger } from "../core/types.ts";
import { prefixProblems } from "../core/validate.ts";
import type { Driver } from "../substrate/driver.ts";
import type { BatchItemResult, FactsReply, GovernorApi } from "./api.ts";
import { Dispatcher, DEFAULT_RETRY, type RetryPolicy } from "./dispatcher.ts";
import { GovernorEvents } from "./events.ts";
import { GroupCommitter } from "./group-commit.ts";
import { idFactory } from "./ids.ts";
import { Mailboxes } from "./mailboxes.ts";
import { loadCandidate, type PolicyRegistry } from "./policies.ts";
import { OBJECT_ID_PATTERN } from "../contracts/api.ts";
import { Scheduler } from "../timers/scheduler.ts";
import { readHistory, replay, type ReplayReport } from "./replay.ts";
import { checkId, emptyBatch, failureDecision, isQuietTick, recordedDecision } from "./records.ts";

export interface GovernorOptions {
  store: Store;
  policies: PolicyRegistry;
  drivers: Driver[];
  clock: Clock;
  limits?: MemoryLimits;
  retry?: RetryPolicy;
  random?: () => number;
  /** The driver of objects created without `substrate` (default `simulated`). */
  defaultDriver?: string;
}

const DEFAULT_SUBSTRATE = "simulated";

/** This many exits Vigil did not ask for within the window make an object `failed`. */
export const CRASH_LOOP = { exits: 5, windowMs: 60_000 };

/** What an idempotency row keeps: the request's fingerprint and the first reply. */
interface IdempotentRecord {
  request: string;
  reply: FactsReply;
}

export class Governor implements GovernorApi {
  readonly events = new GovernorEvents();
  private readonly objects = new Map<string, ObjectRecord>();
  private readonly mailboxes = new Mailboxes();
  private readonly committer: GroupCommitter;
  private readonly dispatcher: Dispatcher;
  private readonly scheduler: Scheduler;
  private readonly drivers = new Map<string, Driver>();
  private readonly newId;
  private readonly limits: MemoryLimits;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly policies: PolicyRegistry;
  private readonly defaultDriver: string;
  private started = false;
  /** Times of recent exits Vigil did not ask for, per object (crash-loop detection). */
  private readonly exits = new Map<string, number[]>();
  /** Evaluations, and how many of them left a decision (quiet timer ticks are only counted). */
  readonly counters = { evaluations: 0, decisions: 0 };

  constructor(options: GovernorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.policies = options.policies;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.defaultDriver = options.defaultDriver ?? DEFAULT_SUBSTRATE;
    for (const d of options.drivers) {
      this.drivers.set(d.name, d);
      d.onObservation((id, obs) => void this.observed(id, obs).catch((e) => this.fail(e, `observation of ${id}`)));
    }
    this.newId = idFactory(this.clock);
    this.committer = new GroupCommitter(this.store);
    this.dispatcher = new Dispatcher(
      this.clock,
      {
        send: (a) => this.send(a),
        confirmed: (a, obs) => this.mailboxes.run(a.objectId, () => this.confirm(a, obs)),
        failed: (a, err, final) => this.mailboxes.run(a.objectId, () => this.actionFailed(a, err, final)),
        exclusive: (id, task) => this.mailboxes.run(id, task),
        onError: (e, ctx) => this.fail(e, ctx),
      },
      options.retry ?? DEFAULT_RETRY,
      options.random,
    );
    this.scheduler = new Scheduler(this.store, this.clock, {
      fire: (t, late) => this.fireTimer(t.objectId, t.name, late),
      onError: (e, ctx) => this.fail(e, ctx),
    });
  }

  /** Loads every object into memory and re-dispatches the actions still pending. */
  async start(): Promise<void> {
    await this.store.migrate();
    for (const o of await this.store.loadObjects()) this.objects.set(o.id, o);
    // Drivers whose compute outlives the server re-adopt it first, so that a pending stop
    // reaches a driver that knows the process.
    await this.adoptAll();
    const pending = await this.store.pendingActions();
    this.dispatcher.enqueue(pending);
    await this.armSchedules();
    await this.scheduler.start();
    this.started = true;
  }

  async close(): Promise<void> {
    this.scheduler.stop();
    this.dispatcher.close();
    await this.mailboxes.idle();
    await this.committer.idle();
    for (const d of this.drivers.values()) await d.close();
  }

  /**
   * Resolves when no evaluation, commit or dispatch step is in progress. A driver call that
   * waits on the clock (a simulated latency) does not count: under a virtual clock it
   * completes only when time is moved.
   */
  async idle(): Promise<void> {
    const quiet = () =>
      this.mailboxes.busy === 0 && !this.committer.busy && this.dispatcher.working === 0 && !this.scheduler.busy;
    for (;;) {
      await this.scheduler.idle();
      await this.mailboxes.idle();
      await this.committer.idle();
      await new Promise<void>((r) => setImmediate(r));
      if (quiet()) {
        await new Promise<void>((r) => setImmediate(r));
        if (quiet()) return;
      }
    }
  }

  async ready(): Promise<boolean> {
    if (!this.started) return false;
    try {
      await this.store.getObject("\u0000readyz");
      return true;
    } catch {
      return false;
    }
  }

  get commitStats() {
    return this.committer.stats;
  }

  get dispatchBacklog(): number {
    return this.dispatcher.backlog;
  }

  // ---- objects ------------------------------------------------------------------------

  async putObject(id: string, body: PutObjectBody): Promise<{ created: boolean; object: ObjectView }> {
    checkId(id);
    const policy = this.policy(body.policy, "$.policy");
    // Without `substrate`, a new object gets the default driver and an existing one keeps its
    // binding: a PUT that only changes the policy must not orphan running compute.
    const substrate = body.substrate ?? { driver: this.defaultDriver, config: {} };
    const driver = this.drivers.get(substrate.driver);
    if (!driver)
      throw invalid(`unknown substrate driver "${substrate.driver}"`, [
        { path: "$.substrate.driver", message: `unknown driver; known: ${[...this.drivers.keys()].join(", ")}` },
      ]);
    const configProblems = driver.validateConfig(substrate.config);
    if (configProblems.length > 0)
      throw invalid(`invalid ${driver.name} substrate config`, prefixProblems(configProblems, "$.substrate.config"));
    const memory = (body.memory ?? {}) as JsonObject;
    this.checkMemory(memory, "$.memory");

    return this.mailboxes.run(id, async () => {
      const now = this.clock.now();
      const existing = this.objects.get(id);
      if (existing) {
        if (body.memory !== undefined && JSON.stringify(body.memory) !== JSON.stringify(existing.memory))
          throw new VigilError(
            "conflict",
            "memory of an existing object changes only through facts; POST a patch to /v1/objects/{id}/facts",
          );
        const policyChanged = existing.policy !== policy.name;
        const updated: ObjectRecord = {
          ...existing,
          policy: policy.name,
          substrate: body.substrate
            ? {
                driver: substrate.driver,
                config: substrate.config as JsonObject,
                // What was observed belongs to the old binding unless the driver stays.
                observed: substrate.driver === existing.substrate.driver ? existing.substrate.observed : null,
              }
            : existing.substrate,
          updatedAt: now,
        };
        if (policyChanged) {
          // A new policy governs from now on: evaluate at once, as an operator would expect.
          await this.evaluateAndCommit(updated, policy, {
            trigger: { kind: "manual", name: "policy-changed" },
            at: now,
          });
        } else {
          await this.committer.commit(emptyBatch(updated));
          this.objects.set(id, updated);
        }
        return { created: false, object: this.view(this.objects.get(id)!) };
      }
      const record: ObjectRecord = {
        id,
        policy: policy.name,
        state: "dormant",
        stateSince: now,
        memory,
        memoryVersion: 0,
        substrate: { driver: substrate.driver, config: substrate.config as JsonObject, observed: null },
        holdUntil: null,
        timers: [],
        lastDecisionId: null,
        lastFactAt: now,
        createdAt: now,
        updatedAt: now,
      };
      await this.evaluateAndCommit(record, policy, { trigger: { kind: "create" }, at: now });
      return { created: true, object: this.view(this.objects.get(id)!) };
    });
  }

  getObject(id: string): ObjectView | null {
    const o = this.objects.get(id);
    return o ? this.view(o) : null;
  }

  /** The hot record itself, for the scheduler and tests. */
  record(id: string): ObjectRecord | null {
    return this.objects.get(id) ?? null;
  }

  async listObjects(q: { state?: ObjectRecord["state"]; policy?: string; limit: number; cursor?: string }) {
    let after: string | undefined;
    if (q.cursor !== undefined) {
      after = Buffer.from(q.cursor, "base64url").toString("utf8");
      if (!OBJECT_ID_PATTERN.test(after))
        throw invalid("invalid cursor", [{ path: "$.query.cursor", message: "not a cursor this server issued" }]);
    }
    const rows = await this.store.listObjects({ state: q.state, policy: q.policy, after, limit: q.limit + 1 });
    const items = rows.slice(0, q.limit).map((o) => this.view(this.objects.get(o.id) ?? o));
    const last = items[items.length - 1];
    return rows.length > q.limit && last
      ? { items, nextCursor: Buffer.from(last.id, "utf8").toString("base64url") }
      : { items };
  }

  async deleteObject(id: string): Promise<boolean> {
    checkId(id);
    return this.mailboxes.run(id, async () => {
      const deleted = await this.store.deleteObject(id);
      this.objects.delete(id);
      this.dispatcher.forget(id);
      this.exits.delete(id);
      return deleted;
    });
  }

  // ---- facts --------------------------------------------------------------------------

  async postFacts(id: string, facts: unknown, idempotencyKey?: string): Promise<FactsReply & { replayed: boolean }> {
    checkId(id);
    if (!isPlainObject(facts))
      throw invalid("facts must be a JSON object (a merge patch for memory)", [
        { path: "$.facts", message: "expected an object" },
      ]);
    const fingerprint =
      idempotencyKey === undefined ? "" : createHash("sha256").update(canonicalJson(facts)).digest("hex");
    return this.mailboxes.run(id, async () => {
      const object = this.objects.get(id);
      if (!object) throw notFound(`object "${id}"`);
      if (idempotencyKey !== undefined) {
        const seen = (await this.store.getIdempotent(id, idempotencyKey)) as IdempotentRecord | null;
        if (seen) {
          if (seen.request !== fingerprint)
            throw new VigilError("conflict", `Idempotency-Key "${idempotencyKey}" was used with a different body`);
          return { ...seen.reply, replayed: true };
        }
      }
      const policy = this.policy(object.policy, "$.policy");
      const result = await this.evaluateAndCommit(
        object,
        policy,
        { trigger: { kind: "facts" }, at: this.clock.now(), patch: facts },
        idempotencyKey === undefined
          ? undefined
          : (reply) => ({ key: idempotencyKey, response: { request: fingerprint, reply } as unknown as Json }),
      );
      return { ...result.reply, replayed: false };
    });
  }

  async postFactsBatch(
    items: { objectId: string; facts: unknown; idempotencyKey?: string }[],
  ): Promise<BatchItemResult[]> {
    return Promise.all(
      items.map(async (item): Promise<BatchItemResult> => {
        try {
          const r = await this.postFacts(item.objectId, item.facts, item.idempotencyKey);
          return { objectId: item.objectId, decisionId: r.decision.id, outcome: r.decision.outcome };
        } catch (e) {
          return { objectId: item.objectId, error: problemOf(e) };
        }
      }),
    );
  }

  // ---- dry runs and history ------------------------------------------------------------

  async evaluate(
    id: string,
    body: { facts?: Record<string, unknown>; at?: string; policy?: unknown },
  ): Promise<DecisionView> {
    checkId(id);
    const object = this.objects.get(id);
    if (!object) throw notFound(`object "${id}"`);
    let policy: CompiledPolicy;
    if (body.policy !== undefined) {
      const loaded = loadCandidate(body.policy, this.clock.now());
      if (!loaded.ok) throw invalid("the candidate policy is invalid", prefixProblems(loaded.error.errors, "$.policy"));
      policy = loaded.policy.compiled;
    } else policy = this.policy(object.policy, "$.policy");
    const at = body.at !== undefined ? Date.parse(body.at) : this.clock.now();
    const arrival: Arrival = body.facts
      ? { trigger: { kind: "facts" }, at, patch: body.facts as JsonObject }
      : { trigger: { kind: "manual" }, at };
    const result = await this.decideChecked(policy, object, arrival, true);
    return decisionView(result.decision);
  }

  async listDecisions(objectId: string, limit: number, before?: string): Promise<DecisionView[]> {
    checkId(objectId);
    if (!this.objects.has(objectId)) throw notFound(`object "${objectId}"`);
    return (await this.store.listDecisions(objectId, limit, before)).map(decisionView);
  }

  async replay(objectId: string, policy: unknown): Promise<ReplayReport> {
    checkId(objectId);
    const object = this.objects.get(objectId);
    if (!object) throw notFound(`object "${objectId}"`);
    return replay(object, await readHistory(this.store, objectId), policy);
  }

  async getDecision(id: string): Promise<DecisionView | null> {
    const d = await this.store.getDecision(id);
    return d ? decisionView(d) : null;
  }

  // ---- timers and the substrate -----------------------------------------------------------

  /**
   * Gives every object (or those of one policy) the cron timers its policy's schedules call
   * for and removes those of schedules that are gone. Runs at start and after a policy
   * changes; objects already in step cost one comparison each.
   */
  async armSchedules(policyName?: string): Promise<number> {
    let changed = 0;
    const now = this.clock.now();
    const next = nextTicksFrom(now);
    for (const id of this.objects.keys()) {
      const current = this.objects.get(id)!;
      if (policyName !== undefined && current.policy !== policyName) continue;
      const policy = this.policies.compiled(current.policy);
      if (!policy || cronTimerOps(policy.schedules, current.timers, now, next).length === 0) continue;
      await this.mailboxes.run(id, async () => {
        const object = this.objects.get(id);
        if (!object) return;
        const ops = cronTimerOps(policy.schedules, object.timers, now, next);
        if (ops.length === 0) return;
        const updated = { ...object, timers: applyTimerOps(object.timers, ops) };
        await this.committer.commit({ ...emptyBatch(updated), timerOps: ops });
        this.objects.set(id, updated);
        for (const op of ops) if (op.op === "set") this.scheduler.notify(op.dueAt!);
        changed++;
      });
    }
    return changed;
  }

  /** Evaluates an object for a timer that fell due (called by the scheduler). */
  async fireTimer(objectId: string, name: string, late: boolean): Promise<void> {
    await this.mailboxes.run(objectId, async () => {
      const object = this.objects.get(objectId);
      const now = this.clock.now();
      const timer = object?.timers.find((t) => t.name === name);
      // Replaced by a later one or cancelled since the scheduler read it: nothing to do.
      if (!object || !timer || timer.dueAt > now) return;
      const policy = this.policies.compiled(object.policy);
      // A timer that cannot be evaluated is used up all the same (a schedule re-arms its next
      // tick), rather than fired again every round.
      const consume = async (why: string) => {
        const rest = object.timers.filter((t) => t !== timer);
        const ops: TimerOp[] = [
          { name, op: "cancel", kind: timer.kind },
          ...cronTimerOps(policy?.schedules ?? [], rest, now),
        ];
        const updated = { ...object, timers: applyTimerOps(rest, ops), updatedAt: now };
        await this.committer.commit({ ...emptyBatch(updated), timerOps: ops });
        this.objects.set(objectId, updated);
        for (const op of ops) if (op.op === "set") this.scheduler.notify(op.dueAt!);
        this.fail(new Error(`${why}; timer used up without an evaluation`), `timer ${name} of ${objectId}`);
      };
      if (!policy) return consume(`policy ${object.policy} is not loaded`);
      const trigger: Trigger = late ? { kind: "timer", name, late: true } : { kind: "timer", name };
      try {
        await this.evaluateAndCommit(object, policy, { trigger, at: now });
      } catch (e) {
        if (!(e instanceof VigilError)) throw e;
        return consume(e.message);
      }
      this.events.emit("timer:fired", objectId, name, late);
    });
  }

  /** Re-adoption at start; what a driver finds there is handled like any observation. */
  private async adoptAll(): Promise<void> {
    for (const object of this.objects.values()) {
      const driver = this.drivers.get(object.substrate.driver);
      if (!driver?.adopt) continue;
      try {
        const found = await driver.adopt(
          { objectId: object.id, config: object.substrate.config },
          object.substrate.observed,
        );
        await this.observed(object.id, found);
      } catch (e) {
        this.fail(e as Error, `adopting ${object.id}`);
      }
    }
  }

  /**
   * Reconciliation: observes every settled object on its substrate and treats a divergence
   * from the governed state (active but not running, dormant but running) like a crash: the
   * state follows and the object is evaluated with trigger `substrate`. Objects waking,
   * sleeping or failed are left to their actions. Returns how many diverged.
   */
  async reconcile(): Promise<number> {
    let diverged = 0;
    for (const [id, object] of this.objects) {
      if (object.state !== "active" && object.state !== "dormant") continue;
      const driver = this.drivers.get(object.substrate.driver);
      if (!driver) continue;
      let observation: Observation;
      try {
        observation = await driver.observe({ objectId: id, config: object.substrate.config });
      } catch (e) {
        this.fail(e as Error, `observing ${id}`);
        continue;
      }
      const follows = observedState(observation.status);
      const current = this.objects.get(id);
      if (!current || follows === null || follows === current.state) continue;
      if (current.state !== "active" && current.state !== "dormant") continue;
      diverged++;
      await this.observed(id, { ...observation, reason: observation.reason ?? "reconciliation" });
    }
    return diverged;
  }

  /** A change the driver reports that Vigil did not ask for: state follows, rules decide. */
  private async observed(objectId: string, observation: Observation): Promise<void> {
    await this.mailboxes.run(objectId, async () => {
      const object = this.objects.get(objectId);
      if (!object) return;
      this.events.emit("substrate:observed", objectId, observation);
      const now = this.clock.now();
      const follows = observedState(observation.status);
      // Waking and running, or sleeping and suspended/stopped, is the pending action's
      // business: its confirmation moves the state.
      const underway =
        (follows === "active" && object.state === "waking") || (follows === "dormant" && object.state === "sleeping");
      // A failed object stays failed until a fact or a timer wakes it: observing it (at a
      // restart, by reconciliation) must not restart a crash loop.
      const moved = follows !== null && follows !== object.state && !underway && object.state !== "failed";
      const updated: ObjectRecord = {
        ...object,
        substrate: { ...object.substrate, observed: observation },
        ...(moved ? { state: follows, stateSince: now } : {}),
        updatedAt: now,
      };
      const policy = this.policies.compiled(object.policy);
      if (!moved || !policy) {
        await this.committer.commit(emptyBatch(updated));
        this.objects.set(objectId, updated);
        return;
      }
      if (follows === "dormant" && this.crashLoop(objectId, now)) {
        // Compute that dies as soon as it starts would be restarted by its rules without end:
        // stop here; the next fact or timer may wake it again.
        const note = `crash loop: ${CRASH_LOOP.exits} exits Vigil did not ask for within ${CRASH_LOOP.windowMs / 1000} s; not evaluated, so not restarted`;
        const decision = recordedDecision(
          this.newId("decision"),
          object,
          policy,
          { name: "crash-loop", toState: "failed", note },
          now,
        );
        const failed: ObjectRecord = { ...updated, state: "failed", lastDecisionId: decision.id };
        await this.committer.commit({ ...emptyBatch(failed), decision });
        this.objects.set(objectId, failed);
        this.events.emit("decision:recorded", decision);
        return;
      }
      await this.evaluateAndCommit(updated, policy, {
        trigger: { kind: "substrate", name: observation.status },
        at: now,
      });
    });
  }

  /** Records an unrequested exit; true when the object has had too many of them lately. */
  private crashLoop(objectId: string, now: number): boolean {
    const recent = (this.exits.get(objectId) ?? []).filter((t) => now - t < CRASH_LOOP.windowMs);
    recent.push(now);
    this.exits.set(objectId, recent);
    return recent.length >= CRASH_LOOP.exits;
  }

  private async send(action: ActionRecord): Promise<Observation> {
    const object = this.objects.get(action.objectId);
    if (!object) throw new Error(`object ${action.objectId} is gone`);
    const driver = this.drivers.get(object.substrate.driver);
    if (!driver) throw new Error(`driver ${object.substrate.driver} is not configured`);
    this.events.emit("action:dispatched", action);
    const target = { objectId: object.id, config: object.substrate.config };
    return driver[action.kind](target);
  }

  /** Records a driver's confirmation; moves waking -> active, sleeping -> dormant. No evaluation. */
  private async confirm(action: ActionRecord, observation: Observation): Promise<void> {
    const object = this.objects.get(action.objectId);
    const now = this.clock.now();
    const done = { ...action, status: "confirmed" as const, lastError: null, updatedAt: now };
    if (!object) return;
    const next = confirmedState(object.state, action.kind);
    const updated: ObjectRecord = {
      ...object,
      substrate: { ...object.substrate, observed: observation },
      ...(next ? { state: next, stateSince: now } : {}),
      updatedAt: now,
    };
    await this.store.updateAction({ ...done, object: updated });
    this.objects.set(object.id, updated);
    this.events.emit("action:confirmed", done, observation);
  }

  private async actionFailed(action: ActionRecord, error: string, final: boolean): Promise<void> {
    const now = this.clock.now();
    const object = this.objects.get(action.objectId);
    if (!final) {
      await this.store.updateAction({ ...action, status: "pending", lastError: error, updatedAt: now });
      this.events.emit("action:retrying", action, error);
      return;
    }
    const failed = { ...action, status: "failed" as const, lastError: error, updatedAt: now };
    if (!object || confirmedState(object.state, action.kind) === null) {
      // A newer decision moved the object on already: the failure only closes the action.
      await this.store.updateAction(failed);
      this.events.emit("action:failed", failed, error);
      return;
    }
    // The substrate refused for good: the object is failed, and a decision says why. No rule
    // is evaluated; a later arrival or timer may wake it again.
    const policy = this.policies.compiled(object.policy);
    const decision = failureDecision(this.newId("decision"), object, policy, failed, error, now);
    const updated: ObjectRecord = {
      ...object,
      state: "failed",
      stateSince: now,
      lastDecisionId: decision.id,
      updatedAt: now,
    };
    await this.store.updateAction({ ...failed, object: updated, decision });
    this.objects.set(updated.id, updated);
    this.events.emit("action:failed", failed, error);
    this.events.emit("decision:recorded", decision);
  }

  // ---- the arrival path ------------------------------------------------------------------

  private async decideChecked(
    policy: CompiledPolicy,
    object: ObjectRecord,
    arrival: Arrival,
    dryRun = false,
  ): Promise<DecideResult> {
    try {
      return await decide(policy, object, arrival, {
        newId: this.newId,
        canSuspend: (d) => this.drivers.get(d)?.canSuspend ?? false,
        limits: this.limits,
        dryRun,
      });
    } catch (e) {
      if (e instanceof MemoryLimitError)
        throw invalid("the facts break a memory limit", prefixProblems(e.problems, "$.facts"));
      // json-rules-engine throws at run time on a few conditions validation cannot rule out
      // (swap:in on a missing path): the arrival is refused and nothing changes.
      throw invalid(`policy ${policy.name}@${policy.version} failed to evaluate: ${(e as Error).message}`, [
        { path: "$.policy", message: "fix the rule whose operator received a value of the wrong type" },
      ]);
    }
  }

  /** Runs inside the object's mailbox: decide, commit, then publish. */
  private async evaluateAndCommit(
    object: ObjectRecord,
    policy: CompiledPolicy,
    arrival: Arrival,
    idempotency?: (reply: FactsReply) => { key: string; response: Json },
  ): Promise<{ result: DecideResult; reply: FactsReply }> {
    const result = await this.decideChecked(policy, object, arrival);
    const now = arrival.at;
    const actions: ActionRecord[] = result.actions.map((a) => ({
      id: a.id,
      objectId: object.id,
      decisionId: result.decision.id,
      kind: a.kind,
      status: "pending",
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    }));
    const supersede = actions.length > 0 ? this.dispatcher.queued(object.id) : [];
    const store = !isQuietTick(result);
    const object2 = store ? result.object : { ...result.object, lastDecisionId: object.lastDecisionId };
    const reply: FactsReply = { object: this.view(object2, policy), decision: decisionView(result.decision) };
    const batch: CommitBatch = {
      object: object2,
      // Creation journals the initial memory as entry 0, so that history replays from the start.
      journal: arrival.trigger.kind === "create" ? { seq: 0, patch: object.memory, at: now } : result.journal,
      decision: store ? result.decision : null,
      actions,
      supersede,
      timerOps: result.timerOps,
      idempotency: idempotency ? idempotency(reply) : null,
    };
    await this.committer.commit(batch);
    this.objects.set(object.id, object2);
    this.counters.evaluations++;
    this.dispatcher.supersede(object.id, supersede);
    this.dispatcher.enqueue(actions);
    for (const op of result.timerOps) if (op.op === "set") this.scheduler.notify(op.dueAt!);
    this.events.emit("evaluation:completed", result.decision, store);
    if (store) {
      this.counters.decisions++;
      this.events.emit("decision:recorded", result.decision);
    }
    return { result, reply };
  }

  private policy(name: string, path: string): CompiledPolicy {
    const p = this.policies.compiled(name);
    if (!p) throw invalid(`policy "${name}" is not loaded`, [{ path, message: `no loaded policy named "${name}"` }]);
    return p;
  }

  private checkMemory(memory: unknown, path: string): void {
    if (!isPlainObject(memory))
      throw invalid("memory must be a JSON object", [{ path, message: "expected an object" }]);
    const problems = checkDocument(memory, this.limits);
    const size = jsonBytes(memory);
    if (size > this.limits.maxMemoryBytes)
      problems.push({ path: "$", message: `memory is ${size} bytes; the limit is ${this.limits.maxMemoryBytes}` });
    if (problems.length > 0) throw invalid("the memory breaks a limit", prefixProblems(problems, path));
  }

  private view(o: ObjectRecord, policy?: CompiledPolicy | null): ObjectView {
    return objectView(o, policy ?? this.policies.compiled(o.policy));
  }

  private fail(error: Error, context: string): void {
    this.events.emit("governor:error", error, context);
  }
}
