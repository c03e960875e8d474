// The governor: wires the hot object table, the arrival pipeline, the outbox dispatcher, the durable
// scheduler and the substrate side into one service, and owns their lifecycle (start, idle, close).
// The file is past 400 lines because it is where the parts meet: the wiring and the recovery
// must see them all, and each method of the API is a few lines handing over to the part that
// does the work.

import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import type { PolicyDocument } from "../core/policy.ts";
import { checkObjectId } from "../core/object.ts";
import { invalid, LeaseLost, notFound, PolicyNotLoaded, type Precondition } from "../core/errors.ts";
import { DEFAULT_LIMITS, type MemoryLimits } from "../core/memory-limits.ts";
import type { LeaseHolder, StateChange, StateChangeQuery, Store } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";
import type { Driver, Release } from "../substrate/driver.ts";
import { Scheduler } from "../timers/scheduler.ts";
import { ArrivalPipeline } from "./arrival.ts";
import { CrashLoopGuard } from "./crash-loop.ts";
import { Dispatcher, DEFAULT_RETRY, type RetryPolicy } from "./dispatcher.ts";
import { dryRun, type DryRunDeps } from "./dry-run.ts";
import { GovernorEvents } from "./events.ts";
import { idFactory, type IdFactory } from "./ids.ts";
import { Ingest } from "./ingest.ts";
import { ObjectTable } from "./object-table.ts";
import { Objects } from "./objects.ts";
import type { PolicyRegistry } from "./policy-registry.ts";
import type {
  BatchItem,
  BatchItemResult,
  DryRunInput,
  FactsResult,
  GovernorApi,
  GovernorStatsApi,
  ObjectListQuery,
  ObjectPage,
  PutObjectInput,
  LiveChange,
  ObjectUsage,
  PolicyUsagePage,
  PolicyUsageQuery,
  UsageQuery,
} from "./services.ts";
import { Lease, type LeaseIdentity, type LeaseWaiting } from "./lease.ts";
import { fenced } from "./fence.ts";
import { Census, type CensusRow } from "./metrics.ts";
import { BEFORE_ANY_DECISION, decisionCursor, watchChanges } from "./live.ts";
import { currentObjectUsage, policyUsage, usageWindow } from "./usage.ts";
import { databaseNotReady, timersPending, WriteRefusals } from "./readiness.ts";
import { SubstrateSync } from "./substrate-sync.ts";
import { TimerFiring } from "./timer-firing.ts";

export { READY_TIMEOUT_MS } from "./readiness.ts";

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
  /** The most dormant objects kept in memory (VIGIL_HOT_OBJECTS). */
  hotObjects?: number;
  /** How many requests may wait in one object's mailbox (VIGIL_MAILBOX_LIMIT); past it, a 429. */
  mailboxLimit?: number;
  /**
   * Who this server is: with it, start takes the database's governing lease before anything
   * else (and fails if another server holds it), and close gives it up.
   */
  lease?: { identity: LeaseIdentity; waiting?: LeaseWaiting; onLost: (holder: LeaseHolder | null) => void };
  /** Whether its policies came in a request (a replay's candidate): see ArrivalDeps. */
  candidates?: boolean;
}

export class Governor implements GovernorApi, GovernorStatsApi {
  readonly events = new GovernorEvents();
  readonly clock: Clock;
  private readonly store: Store;
  private readonly table: ObjectTable;
  private readonly arrival: ArrivalPipeline;
  private readonly dispatcher: Dispatcher;
  private readonly scheduler: Scheduler;
  private readonly substrate: SubstrateSync;
  private readonly timers: TimerFiring;
  private readonly objects: Objects;
  private readonly ingest: Ingest;
  private readonly policies: PolicyRegistry;
  private readonly drivers: readonly Driver[];
  private readonly dryRun: DryRunDeps;
  private started = false;
  /** Set once close has closed the drivers: what a driver still reports is not recorded. */
  private shut = false;
  /** Set when start-up is stopped (a signal) or the governor closes: recovery stops at its next step. */
  private stopping = false;
  private leaseLost = false;
  /** False once the governing lease is lost: nothing is evaluated or written then (retention too). */
  readonly governs = (): boolean => !this.leaseLost;
  private readonly lease: Lease | null;
  private readonly newId: IdFactory;
  private readonly census: Census;
  /** The newest decision id stored at start or published since (newestDecisionId). */
  private newestDecision: string | null = null;
  private readonly refusals: WriteRefusals;
  /** What the latest readiness probe found (null: ready). */
  private lastReadiness: string | null = null;

  constructor(options: GovernorOptions) {
    const { clock, policies } = options;
    const governing = this.governs;
    this.refusals = new WriteRefusals(clock);
    // Every part writes through the fence: nothing is written once the lease is lost (fence.ts).
    // Every write is watched too: readiness says when the database refuses them (readiness.ts).
    const store = fenced(options.store, governing, this.refusals.watch);
    this.clock = clock;
    this.store = store;
    this.policies = policies;
    // Decisions are stored against the version they were taken under (looked up on first use).
    store.knowPolicies?.((hash) => {
      const p = policies.list().items.find((i) => i.hash === hash);
      return p ? { name: p.name, version: p.version, hash, document: p.document as PolicyDocument } : null;
    });
    this.drivers = options.drivers;
    // Lost, at once (even during recovery): no timer fires, no action is sent, nothing is evaluated.
    const lost = (holder: LeaseHolder | null) => {
      this.leaseLost = true;
      this.scheduler.stop();
      this.dispatcher.close();
      options.lease!.onLost(holder);
    };
    const leaseError = (e: Error) => this.events.emit("governor:error", e, "renewing the lease");
    this.lease = options.lease ? new Lease(store, clock, options.lease, lost, leaseError) : null;
    const limits = options.limits ?? DEFAULT_LIMITS;
    const drivers = new Map(options.drivers.map((d) => [d.name, d]));
    const onError = (e: Error, context: string) => this.events.emit("governor:error", e, context);
    const newId = (this.newId = idFactory(clock, (e) => onError(e, "minting ids")));
    const compiled = (name: string) => policies.compiled(name);
    const crashLoops = new CrashLoopGuard();
    const census = (this.census = new Census(clock));
    // Before any other listener: a stream that begins while a decision is published sees it
    // either as its cursor or as its first live event.
    this.events.on("decision:recorded", (d) => {
      if (this.newestDecision === null || d.id > this.newestDecision) this.newestDecision = d.id;
    });
    this.scheduler = new Scheduler(store, clock, {
      fire: (t, late) => this.timers.fire(t.objectId, t.name, late, t),
      onError,
    });
    this.table = new ObjectTable(
      store,
      (dueAt) => this.scheduler.notify(dueAt),
      options.hotObjects,
      options.mailboxLimit,
      {
        // Inside the group committer: a listener that throws must not look like a failed commit.
        committed: (n) => {
          try {
            this.events.emit("commit:completed", n);
          } catch (e) {
            onError(e as Error, "a commit:completed listener");
          }
        },
        replaced: (before, after, decision) => census.replaced(before, after, decision),
        deleted: (before) => census.deleted(before),
        deletionFound: (id) => this.objects.deletionFound(id),
        outbox: (id, pending) => this.dispatcher.resync(id, pending),
        found: (d) => this.events.emit("decision:recorded", d),
        closed: (a) => this.substrate.toldClosed(a),
      },
    );
    this.dispatcher = new Dispatcher(
      clock,
      {
        send: (a, detached) => this.substrate.send(a, detached),
        confirmed: (a, obs, detached) =>
          this.shut ? Promise.resolve() : this.table.run(a.objectId, () => this.substrate.confirm(a, obs, detached())),
        failed: (a, err, final, detached, requeue) =>
          this.shut
            ? Promise.resolve()
            : this.table.run(a.objectId, async () => {
                if (await this.substrate.failed(a, err, final, detached())) requeue();
              }),
        exclusive: (id, task) => this.table.run(id, task),
        onError,
      },
      options.retry ?? DEFAULT_RETRY,
      options.random,
    );
    const table = this.table;
    this.arrival = new ArrivalPipeline({
      table,
      dispatcher: this.dispatcher,
      events: this.events,
      newId,
      canSuspend: (d) => drivers.get(d)?.canSuspend ?? false,
      limits,
      candidates: options.candidates,
    });
    const { arrival, events } = this;
    this.substrate = new SubstrateSync({
      table,
      store,
      arrival,
      crashLoops,
      drivers,
      policy: compiled,
      clock,
      events,
      newId,
      onError,
      dispatcher: this.dispatcher,
      governing,
    });
    for (const d of drivers.values())
      d.onObservation((id, obs) => {
        if (!this.shut) void this.substrate.observed(id, obs).catch((e) => onError(e, `observation of ${id}`));
      });
    const loaded = () => policies.list().items.map((p) => p.name);
    const arming = () => governing() && !this.stopping;
    const timerDeps = { table, store, loaded, arrival, policy: compiled, clock, events, onError, governing: arming };
    this.timers = new TimerFiring(timerDeps);
    this.objects = new Objects({
      table,
      arrival,
      store,
      drivers,
      policy: (name, path) => this.policy(name, path),
      loadedPolicy: compiled,
      clock,
      limits,
      defaultDriver: options.defaultDriver ?? "simulated",
      forgotten: (id) => {
        this.dispatcher.forget(id);
        crashLoops.forget(id);
        this.substrate.deleted(id);
      },
      created: (id) => this.substrate.created(id),
      deleted: (id, at) => this.events.emit("object:deleted", id, at),
      // Other compute: the old one's exits say nothing of it (counted, the new one's first exit
      // within the minute was a crash loop). A rebind refused keeps the old compute, and its count.
      rebound: (id) => {
        const remember = crashLoops.forget(id);
        const observed = this.substrate.forget(id);
        const detached = this.dispatcher.detach(id);
        return {
          ...detached,
          undo: () => {
            remember();
            observed();
            detached.undo();
          },
          // An exit the old compute reported during the rebind's own turn (while it was stopped,
          // say) waits behind it too, and is of the old compute as well.
          recorded: () => void this.substrate.forget(id),
        };
      },
      superseded: (actions, at, driver) => this.events.superseded(actions, at, driver),
      counts: () => census.counts(),
      governing,
    });
    // An object's own policy missing is not the request's fault: a 503 to send again, not a 422.
    const bound = (name: string) => this.bound(name);
    this.ingest = new Ingest({ table, arrival, store, policy: bound, loaded: compiled, clock });
    this.dryRun = { table, arrival, policy: bound, clock };
  }

  /**
   * Recovery: finishes the deletions a stopped server left half done (storage/deletion.ts),
   * re-adopts compute, re-dispatches pending actions, arms the schedules that changed, then fires
   * the timers that fell due. Reads no object rows but those these need.
   */
  async start(signal?: AbortSignal): Promise<void> {
    const stop = () => {
      this.stopping = true;
      this.scheduler.stop();
    };
    if (signal?.aborted) stop();
    signal?.addEventListener("abort", stop);
    try {
      await this.recover();
    } finally {
      signal?.removeEventListener("abort", stop);
    }
  }

  /**
   * Stopped by `start`'s signal, it returns at its next step: an arming stops between objects (and
   * is not recorded as done), the firing of the timers that fell due starts no more; what is left
   * is done at the next start. Only a deletion under way, and the re-adoption of compute once
   * begun, finish first.
   */
  private async recover(): Promise<void> {
    const going = () => !this.stopping && !this.leaseLost;
    // Before anything is evaluated, dispatched or fired (and, where the schema allows, before it
    // is migrated): one governor per database.
    const lease = this.lease;
    // The lease is taken paused: the migration's write lock keeps its renewals out as it keeps out
    // any other server's claim, and a migration longer than the lease lasts lost it. It is
    // claimed again, and renewed, once the migration is done.
    await this.store.migrate(lease ? () => lease.acquire({ paused: true }) : undefined);
    await lease?.resume();
    // Before any id is minted: the ids of this server sort after those stored before it.
    for (const id of await this.store.newestIds()) {
      this.newId.after(id);
      if (id.startsWith("dec_") && (this.newestDecision === null || id > this.newestDecision)) this.newestDecision = id;
    }
    await this.store.finishDeletions();
    if (!going()) return;
    // The census counts from here: nothing is committed yet, every commit reaches it (metrics.ts).
    const counts = await this.store.countObjects();
    this.census.reset(counts);
    // Before anything is evaluated or armed: a policy objects are bound to whose file did not
    // load serves the stored version its objects used last, as hot reload keeps serving a version
    // whose file was refused or deleted. Its objects are armed for that version's schedules below.
    for (const name of new Set(counts.filter((c) => c.objects > 0).map((c) => c.policy)))
      if (!this.policies.get(name)) {
        const stored = await this.store.storedPolicy?.(name);
        if (stored) this.policies.loadStored(stored);
      }
    // What serves now is recorded: a later start whose file is refused or gone serves it again.
    await this.recordServed();
    // Drivers whose compute outlives the server re-adopt it before anything is sent, so that
    // a pending stop reaches a driver that knows the process; the pending actions are queued
    // first, so that an evaluation the adoption brings finds them (and supersedes them).
    this.dispatcher.hold();
    this.dispatcher.enqueue(await this.store.pendingActions());
    if (!going()) return;
    await this.substrate.adoptAll();
    // Stopping: nothing is sent; the outbox keeps the actions for the next start.
    if (!going()) return;
    this.dispatcher.release();
    await this.timers.armSchedules();
    if (going()) await this.scheduler.start();
    this.started = going();
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.scheduler.stop();
    this.dispatcher.close();
    await this.table.idle();
    for (const d of this.drivers) await d.close();
    // A driver's answer or observation from now on (a call that outlived the close) is not
    // recorded: its row stays pending for the next server, as a failure during the close leaves
    // it. Those already in a mailbox are, before the lease goes (a write after its release would
    // be into a database another server may govern, or one closed: a misleading error).
    this.shut = true;
    await this.table.idle();
    await this.lease?.release();
  }

  /**
   * Resolves when no evaluation, commit or dispatch step is in progress. A driver call that
   * waits on the clock (a simulated latency) does not count: under a virtual clock it
   * completes only when time is moved.
   */
  async idle(): Promise<void> {
    const quiet = () =>
      this.table.busy === 0 && !this.table.committing && this.dispatcher.working === 0 && !this.scheduler.busy;
    for (;;) {
      await this.scheduler.idle();
      await this.table.idle();
      await new Promise<void>((r) => setImmediate(r));
      if (quiet()) {
        await new Promise<void>((r) => setImmediate(r));
        if (quiet()) return;
      }
    }
  }

  /**
   * Why the governor is not ready, or null: recovery is done, the database takes writes and
   * answers a read in time (readiness.ts).
   */
  async notReady(): Promise<string | null> {
    const why = await this.readiness();
    // Told once per change, for the log: a probe's own access line is at debug.
    if (why !== this.lastReadiness) this.events.emit("readiness:changed", (this.lastReadiness = why));
    return why;
  }

  private readiness(): Promise<string | null> | string | null {
    if (this.leaseLost) return "the governing lease was lost";
    if (!this.started) return "recovery is not done";
    return this.refusals.why(this.store).then((why) => why ?? databaseNotReady(this.store, this.clock));
  }

  /** Evaluations, and how many of them left a decision (quiet timer ticks are only counted). */
  get counters() {
    return this.arrival.counters;
  }

  get commitStats() {
    return this.table.commitStats;
  }

  /** Objects in memory: those not dormant, and the dormant ones recently used. */
  get hotObjects(): { awake: number; dormant: number } {
    return this.table.size;
  }

  get dispatchBacklog(): number {
    return this.dispatcher.backlog;
  }

  // ---- what metrics read at a scrape (http/metrics.ts) -----------------------------------

  /** Objects per policy and state now, and the seconds spent in each since start. */
  censusRows(): CensusRow[] {
    return this.census.rows();
  }

  pendingTimers(): Promise<number | null> {
    return timersPending(this.store, this.clock);
  }

  /** The driver of an object in memory (every object that is not dormant is). */
  driverOf(objectId: string): string | undefined {
    return this.table.peek(objectId)?.substrate.driver;
  }

  // ---- the API the edges call -----------------------------------------------------------

  putObject(
    id: string,
    input: PutObjectInput,
    precondition?: Precondition,
  ): Promise<{ created: boolean; object: ObjectRecord }> {
    return this.objects.put(id, input, precondition);
  }

  getObject(id: string): Promise<ObjectRecord | null> {
    return this.objects.get(id);
  }

  listObjects(q: ObjectListQuery): Promise<ObjectPage> {
    return this.objects.list(q);
  }

  deleteObject(id: string, compute: Release = "stop", precondition?: Precondition): Promise<boolean> {
    return this.objects.delete(id, compute, precondition);
  }

  postFacts(id: string, facts: unknown, idempotencyKey?: string, precondition?: Precondition): Promise<FactsResult> {
    return this.ingest.post(id, facts, idempotencyKey, precondition);
  }

  postFactsBatch(items: BatchItem[]): Promise<BatchItemResult[]> {
    return this.ingest.postBatch(items);
  }

  evaluate(id: string, input: DryRunInput): Promise<Decision> {
    return dryRun(this.dryRun, id, input);
  }

  async listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]> {
    checkObjectId(objectId);
    if (!(await this.table.load(objectId))) throw notFound(`object "${objectId}"`);
    return this.store.listDecisions(objectId, limit, before);
  }

  getDecision(id: string): Promise<Decision | null> {
    return this.store.getDecision(id);
  }

  // ---- what the event stream and usage read (governor/live.ts, usage.ts) ---------------

  watch(listener: (change: LiveChange) => void): () => void {
    return watchChanges(this.events, listener, (e) => this.events.emit("governor:error", e, "an event listener"));
  }

  newestDecisionId(): string {
    return this.newestDecision ?? BEFORE_ANY_DECISION;
  }

  async decisionsSince(after: string, limit: number, objectId?: string): Promise<Decision[]> {
    // After an action: after the decision that issued it (its client has seen that one).
    const cursor = after.startsWith("act_") ? await this.store.history.decisionOf(after) : after;
    return this.store.history.since(cursor ?? decisionCursor(after), limit, objectId);
  }

  async objectUsage(id: string, q: UsageQuery): Promise<ObjectUsage> {
    checkObjectId(id);
    const usage = await currentObjectUsage(this.store, () => this.table.load(id), usageWindow(q, this.clock.now()));
    if (!usage) throw notFound(`object "${id}"`);
    return usage;
  }

  stateChanges(objectId: string, q: StateChangeQuery): Promise<StateChange[]> {
    checkObjectId(objectId);
    return this.store.history.stateChanges(objectId, q);
  }

  policyUsage(q: PolicyUsageQuery): Promise<PolicyUsagePage> {
    return policyUsage(this.store, (row, filter) => this.table.listed(row, filter), q, this.clock.now());
  }

  // ---- what the server's periodic work and the policy watcher call ---------------------

  /**
   * Brings every object's (or one policy's objects') cron timers in step with its schedules.
   * After a reload the policy watcher calls it once recordServed has recorded the new version.
   */
  armSchedules(policyName?: string): Promise<number> {
    return this.timers.armSchedules(policyName);
  }

  /**
   * Records the version each loaded policy (or `name`) serves, which a start whose file is
   * refused or gone serves (Store.storedPolicy): at start, and after each reload (the policy
   * watcher, before armSchedules). Never rejects: a failure is told, and the policy serves all
   * the same; with the lease lost nothing is written, nor told (the loss is told where it is found).
   */
  async recordServed(name?: string): Promise<void> {
    const sources = this.policies
      .list()
      .items.filter((p) => name === undefined || p.name === name)
      .map((p) => ({ name: p.name, version: p.version, hash: p.hash, document: p.document as PolicyDocument }));
    if (sources.length === 0) return;
    await this.store.servePolicies?.(sources, this.clock.now()).catch((e: unknown) => {
      if (!(e instanceof LeaseLost))
        this.events.emit("governor:error", e as Error, "recording the versions policies serve");
    });
  }

  /** Runs `task` in the object's mailbox: after every task queued for it, before the next. */
  exclusive<T>(objectId: string, task: () => Promise<T>): Promise<T> {
    return this.table.run(objectId, task);
  }

  /**
   * Rereads objects whose last write's answer was lost, then observes every settled one: how many
   * diverged. Once `signal` aborts (the reconciler stopping), no further object is observed.
   */
  reconcile(signal?: AbortSignal): Promise<number> {
    const observe = () => (this.leaseLost ? 0 : this.substrate.reconcile(signal));
    return this.leaseLost ? Promise.resolve(0) : this.table.settleDoubts().then(observe);
  }

  /** The policy an object is bound to, or PolicyNotLoaded (a 503 with Retry-After). */
  private bound(name: string): CompiledPolicy {
    const p = this.policies.compiled(name);
    if (!p) throw new PolicyNotLoaded(name);
    return p;
  }

  /** The policy a request names (a PUT): one not loaded is the request's mistake, at `path`. */
  private policy(name: string, path: string): CompiledPolicy {
    const p = this.policies.compiled(name);
    if (p) return p;
    // A file the server refused is the likelier story (just written, with a mistake): say so,
    // as GET /v1/policies/{name} does, rather than that no such policy exists.
    const refused = this.policies.refusal(name);
    const message = refused
      ? `no loaded policy named "${name}": ${refused.file} was refused (GET /v1/policies/${name} says why)`
      : `no loaded policy named "${name}"`;
    throw invalid(`policy "${name}" is not loaded`, [{ path, message }]);
  }
}
