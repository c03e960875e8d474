// Objects: create (evaluated at once, trigger `create`), rebind or re-policy, read, list and
// delete. Every change runs in the object's mailbox.

import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import {
  afterStop,
  checkPrecondition,
  conflict,
  invalid,
  leaseLost,
  prefixProblems,
  SubstrateBusy,
  unavailable,
  type Precondition,
} from "../core/errors.ts";
import { describeJson, isPlainObject, jsonEqual } from "../core/json.ts";
import { enter } from "../core/lifecycle.ts";
import { memoryProblems, type MemoryLimits } from "../core/memory-limits.ts";
import { checkNewObjectId, checkObjectId, newObject } from "../core/object.ts";
import { cronTimerOps, nextTicksFrom } from "../core/schedule.ts";
import { emptyBatch, type ActionRecord, type Store } from "../core/store.ts";
import type { JsonObject, ObjectRecord } from "../core/types.ts";
import { DriverError, type Driver, type Release } from "../substrate/driver.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { ObjectTable } from "./object-table.ts";
import type { ObjectListQuery, ObjectPage, PutObjectInput } from "./services.ts";

export interface ObjectsDeps {
  table: ObjectTable;
  arrival: ArrivalPipeline;
  store: Store;
  drivers: ReadonlyMap<string, Driver>;
  /** The policy by name, or an `invalid` error naming `path`. */
  policy: (name: string, path: string) => CompiledPolicy;
  /** The version of a policy serving now, if it is loaded. */
  loadedPolicy: (name: string) => CompiledPolicy | null;
  clock: Clock;
  limits: MemoryLimits;
  /** The driver of objects created without `substrate`. */
  defaultDriver: string;
  /** Told when an object is gone, so that nothing keeps state for it. */
  forgotten: (id: string) => void;
  /** Told when an object is created (in its mailbox, before its first decision). */
  created: (id: string) => void;
  /** Tells watchers that the object was deleted (after the commit that deletes it). */
  deleted: (id: string, at: number) => void;
  /**
   * The object is being bound to other compute: the action in flight to the old binding is
   * detached, and those queued for it are returned (dropped, to be recorded as superseded), with
   * the id of the one in flight (recorded superseded too) and `undo` for a rebind that fails
   * before it is recorded.
   */
  rebound: (id: string) => {
    dropped: ActionRecord[];
    inFlight: string | null;
    undo: () => void;
    /** The rebind is committed: what the old compute reported meanwhile is of it alone. */
    recorded: () => void;
  };
  /** Tells watchers that these actions were superseded (after the commit that records it). */
  superseded: (actions: readonly ActionRecord[], at: number, driver?: string) => void;
  /** About how many objects there are of each policy in each state (the census). */
  counts: () => readonly { policy: string; state: string; objects: number }[];
  /** False once the governing lease is lost: no compute is stopped or let go of then. */
  governing: () => boolean;
}

export class Objects {
  /** The default binding passed its driver's check once (a verdict depends on the config alone). */
  private defaultBindingChecked = false;

  constructor(private readonly d: ObjectsDeps) {}

  async put(
    id: string,
    input: PutObjectInput,
    precondition?: Precondition,
  ): Promise<{ created: boolean; object: ObjectRecord }> {
    checkObjectId(id);
    const { table } = this.d;
    const asked = this.d.policy(input.policy, "$.policy");
    // Without `substrate`, a new object gets the default driver and an existing one keeps its
    // binding: a PUT that only changes the policy must not orphan running compute.
    const substrate = input.substrate ?? { driver: this.d.defaultDriver, config: {} };
    if (input.substrate) this.checkBinding(substrate.driver, substrate.config);
    const memory = input.memory ?? {};
    this.checkMemory(memory, "$.memory");

    return table.admit(id, async () => {
      const now = this.d.clock.now();
      const existing = await table.take(id);
      // The version serving when its turn comes, as facts and timers have: a reload may have come
      // while the request waited in the mailbox.
      const policy = this.d.loadedPolicy(asked.name) ?? asked;
      checkPrecondition(precondition, id, existing !== undefined);
      if (!existing && table.deletionUnfinished(id))
        throw conflict(`the deletion of "${id}" did not finish; send the DELETE again before creating it anew`);
      if (!existing) {
        checkNewObjectId(id);
        if (!input.substrate) this.checkDefaultBinding();
        const record = newObject({ id, policy: policy.name, at: now, memory, substrate });
        this.d.created(id);
        const done = await this.d.arrival.run(record, policy, { trigger: { kind: "create" }, at: now });
        return { created: true, object: await this.followReload(done.object, policy) };
      }
      if (input.memory !== undefined && !jsonEqual(input.memory, existing.memory))
        throw conflict(
          "memory of an existing object changes only through facts; POST a patch to /v1/objects/{id}/facts",
        );
      // A new binding (another driver, or another config on the same one): the compute of the
      // old one is stopped, not left running ungoverned, and its driver forgets it, so that the
      // next wake starts what the new binding says.
      const driver = this.d.drivers.get(substrate.driver);
      const canonical = (config: JsonObject) => driver?.canonicalConfig?.(config) ?? config;
      const changed =
        input.substrate !== undefined &&
        (substrate.driver !== existing.substrate.driver ||
          !jsonEqual(canonical(substrate.config), canonical(existing.substrate.config)));
      // Another config of the same compute (a Fly machine's stop signal, or its API's other
      // address) is a change of settings: nothing is stopped, and what was observed still holds.
      const retuned =
        changed &&
        substrate.driver === existing.substrate.driver &&
        (driver?.sameCompute?.(existing.substrate.config, substrate.config) ?? false);
      const rebound = changed && !retuned;
      const detached = rebound
        ? this.d.rebound(id)
        : { dropped: [], inFlight: null, undo: () => {}, recorded: () => {} };
      let recorded = false;
      let stoppedCompute = false;
      try {
        // Its compute is stopped: an object that was awake (or on its way to sleep) is dormant
        // now, and is evaluated at once, so that its policy may wake it on the new binding.
        const stopped = rebound && existing.state !== "dormant" && existing.state !== "failed";
        const updated: ObjectRecord = {
          ...existing,
          ...(stopped ? enter(existing, "dormant", now) : {}),
          policy: policy.name,
          // What was observed belongs to the old binding.
          substrate: rebound
            ? { driver: substrate.driver, config: substrate.config, observed: null }
            : retuned
              ? { ...existing.substrate, config: substrate.config }
              : existing.substrate,
          updatedAt: now,
        };
        const repolicied = existing.policy !== policy.name;
        const evaluated = repolicied || stopped;
        const arrival = {
          trigger: { kind: "manual" as const, name: repolicied ? "policy-changed" : "rebound" },
          at: now,
          ...(repolicied ? { resyncSchedules: true } : {}),
        };
        if (rebound) {
          // The new policy may refuse the object (a rule that throws on its memory is a 422):
          // found out before the old compute is stopped, so that a refused PUT changes nothing.
          if (evaluated) await this.d.arrival.decide(policy, updated, arrival, true);
          stoppedCompute = await this.release(existing, "stop", "rebind");
        }
        const { dropped, inFlight } = detached;
        // The action in flight to the old binding is recorded superseded now, though its event
        // comes when it answers: a server that stops before then must not send it again, to the
        // new binding, after its restart (rows still pending are sent again at start).
        const stale = inFlight === null ? dropped.map((a) => a.id) : [...dropped.map((a) => a.id), inFlight];
        // Once the superseded actions are committed: the rebind is on record.
        const tell = () => {
          recorded = true;
          detached.recorded();
          this.d.superseded(dropped, now, existing.substrate.driver);
        };
        if (!evaluated) {
          await table.commit({ ...emptyBatch(updated), supersede: stale });
          tell();
          return { created: false, object: updated };
        }
        // A new policy governs from now on: evaluate at once, as an operator would expect. The
        // new binding and the superseded actions are committed with the evaluation: a PUT that
        // fails records none of it, and the same PUT tried again does all of it.
        const done = await this.d.arrival.run(updated, policy, arrival, { superseded: { ids: stale, tell } });
        return { created: false, object: repolicied ? await this.followReload(done.object, policy) : done.object };
      } catch (e) {
        // The rebind is not recorded (the old compute may be stopped, or not): the old binding's
        // actions are the object's again, their rows still pending. The one in flight reports
        // as before; those queued are sent, or dropped and recorded by the rebind tried again.
        if (!recorded) detached.undo();
        throw stoppedCompute && !recorded ? afterStop(e, id, "new binding") : e;
      }
    });
  }

  /**
   * An object just committed under `used` that a reload of its policy may have missed: the
   * reload's arming lists the policy's objects, and this one was not yet among them (created, or
   * moved from another policy) while it was evaluated under the version before. It gets the cron
   * ticks of the version serving now. Call inside the object's mailbox.
   */
  private async followReload(object: ObjectRecord, used: CompiledPolicy): Promise<ObjectRecord> {
    const serving = this.d.loadedPolicy(used.name);
    if (!serving || serving === used) return object;
    const now = this.d.clock.now();
    const ops = cronTimerOps(serving.schedules, object.timers, now, nextTicksFrom(now));
    return ops.length === 0 ? object : this.d.table.commitTimers({ ...object, updatedAt: now }, ops);
  }

  async get(id: string): Promise<ObjectRecord | null> {
    return (await this.d.table.load(id)) ?? null;
  }

  async list(q: ObjectListQuery): Promise<ObjectPage> {
    const rows = await this.d.store.listObjects({ ...q, limit: q.limit + 1, by: this.narrower(q) });
    const page = rows.slice(0, q.limit);
    const items = page.flatMap((o) => this.d.table.listed(o, q) ?? []);
    return { items, more: rows.length > q.limit, ...(page.length > 0 ? { last: page[page.length - 1]!.id } : {}) };
  }

  /** Of a state and a policy asked for together, the one fewer objects have, by the census. */
  private narrower(q: ObjectListQuery): "state" | "policy" | undefined {
    if (q.state === undefined || q.policy === undefined) return undefined;
    let inState = 0;
    let ofPolicy = 0;
    for (const c of this.d.counts()) {
      if (c.state === q.state) inState += c.objects;
      if (c.policy === q.policy) ofPolicy += c.objects;
    }
    return inState <= ofPolicy ? "state" : "policy";
  }

  /** A deletion whose answer was lost, found done when its object was read again (in its mailbox). */
  deletionFound(id: string): void {
    this.d.forgotten(id);
    this.d.deleted(id, this.d.clock.now());
  }

  /**
   * Deletes the object; with `stop` its compute is stopped first, with `keep` left running. A
   * client's request like a PUT or facts: past VIGIL_MAILBOX_LIMIT tasks waiting for the object,
   * a 429 that deletes nothing.
   */
  delete(id: string, compute: Release, precondition?: Precondition): Promise<boolean> {
    checkObjectId(id);
    return this.d.table.admit(id, async () => {
      const again = this.d.table.deletionUnfinished(id);
      const object = await this.d.table.take(id);
      // No object is a 404 whatever the precondition (RFC 9110 13.2.1: they apply to a 2xx); a
      // deletion that did not finish is a 204 again, for an object that is gone.
      if (object !== undefined || again) checkPrecondition(precondition, id, object !== undefined);
      const stopped = object !== undefined && object !== null && (await this.release(object, compute, "deletion"));
      let deleted: boolean;
      try {
        deleted = await this.d.table.delete(id);
      } catch (e) {
        throw stopped ? afterStop(e, id, "deletion") : e;
      }
      this.d.forgotten(id);
      // A deletion sent again after one that did not finish was told then.
      if (deleted && !again) this.d.deleted(id, this.d.clock.now());
      return deleted;
    });
  }

  /**
   * Tells the object's driver that Vigil no longer governs it there; nothing changes if it fails.
   * True when it stopped compute that was there (awake, on its way, or kept resident asleep).
   * `why` picks the advice a refusal gives: a deletion may keep the compute (compute=keep), a
   * rebind may not, so it is told how to leave that compute running another way.
   */
  private async release(object: ObjectRecord, mode: Release, why: "deletion" | "rebind"): Promise<boolean> {
    const otherwise =
      why === "rebind"
        ? "or, to leave that compute running, delete the object with compute=keep and create it again on the new binding"
        : "or delete with compute=keep";
    // Another server governs the object now (a request that waited in its mailbox at the loss).
    if (!this.d.governing()) throw leaseLost();
    const driver = this.d.drivers.get(object.substrate.driver);
    if (!driver) {
      // Bound to a driver this server has not enabled: compute it may have runs on unwatched.
      const observed = object.substrate.observed;
      if (mode === "stop" && observed && observed.status !== "stopped")
        throw unavailable(
          `the ${object.substrate.driver} driver is not enabled on this server (VIGIL_DRIVERS), so the compute of "${object.id}" cannot be stopped; ${why === "rebind" ? "enable it and send the PUT again" : "enable it"}, ${otherwise}`,
        );
      return false;
    }
    if (!driver.release) return false;
    try {
      await driver.release({ objectId: object.id, config: object.substrate.config }, mode);
    } catch (e) {
      // A failure the driver calls lasting (no token, a config it refuses) will not pass by
      // itself: asking for another try would send the operator round in a loop.
      const lasting = e instanceof DriverError && !e.retryable;
      const message = `the ${driver.name} substrate could not ${mode === "stop" ? "stop" : "let go of"} the compute of "${object.id}": ${(e as Error).message}; ${lasting ? "fix that and try again" : "try again"}${mode === "stop" ? `, ${otherwise}` : ""}`;
      // The substrate's own pause (a Fly 429's Retry-After) goes on to the client.
      if (e instanceof DriverError && e.retryable && e.retryAfterMs !== undefined)
        throw new SubstrateBusy(message, e.retryAfterMs);
      throw unavailable(message);
    }
    const observed = object.substrate.observed;
    return (
      mode === "stop" &&
      ((object.state !== "dormant" && object.state !== "failed") ||
        (observed !== null && observed.status !== "stopped"))
    );
  }

  /** A new object without `substrate` gets the default driver, which must be enabled too. */
  private checkDefaultBinding(): void {
    if (this.defaultBindingChecked) return;
    const name = this.d.defaultDriver;
    if (!this.d.drivers.has(name))
      throw invalid(`the default substrate driver "${name}" is not enabled on this server`, [
        {
          path: "$.substrate",
          message: `required here: name one of ${[...this.d.drivers.keys()].join(", ")} (VIGIL_DRIVERS)`,
        },
      ]);
    this.checkBinding(name, {});
    this.defaultBindingChecked = true;
  }

  private checkBinding(driverName: string, config: JsonObject): void {
    const driver = this.d.drivers.get(driverName);
    // The governor has the drivers the server enabled (VIGIL_DRIVERS), and no others: a name it
    // does not know may be a driver left out on purpose, or a typo; the enabled ones say which.
    if (!driver)
      throw invalid(`the substrate driver "${driverName}" is not enabled on this server`, [
        {
          path: "$.substrate.driver",
          message: `enabled here: ${[...this.d.drivers.keys()].join(", ")}; VIGIL_DRIVERS lists the drivers objects may bind to`,
        },
      ]);
    const problems = driver.validateConfig(config);
    if (problems.length > 0)
      throw invalid(`invalid ${driver.name} substrate config`, prefixProblems(problems, "$.substrate.config"));
  }

  private checkMemory(memory: unknown, path: string): void {
    if (!isPlainObject(memory))
      throw invalid("memory must be a JSON object", [
        { path, message: `expected an object, got ${describeJson(memory)}` },
      ]);
    const problems = memoryProblems(memory, this.d.limits);
    if (problems.length > 0) throw invalid("the memory breaks a limit", prefixProblems(problems, path));
  }
}
