// The simulated substrate: compute that exists only in this process, with configurable
// latencies and failure rate on the injected clock. The default driver for demos and tests.

import { z } from "zod";
import type { Clock } from "../../core/clock.ts";
import type { JsonObject, Observation } from "../../core/types.ts";
import { zodProblems } from "../../contracts/problems.ts";
import { DriverError, type Driver, type DriverTarget, type ObservationListener, type Release } from "../driver.ts";

export const simulatedConfigSchema = z.strictObject({
  startMs: z.number().int().min(0).max(600_000).default(0).describe("Latency of start"),
  suspendMs: z.number().int().min(0).max(600_000).default(0).describe("Latency of suspend"),
  stopMs: z.number().int().min(0).max(600_000).default(0).describe("Latency of stop"),
  resumeMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .optional()
    .describe("Latency of a start from suspended (default startMs)"),
  failRate: z.number().min(0).max(1).default(0).describe("Probability that a command fails (retryable)"),
});

type Status = Observation["status"];

export interface SimulatedOptions {
  clock: Clock;
  /** Random numbers in [0, 1); inject a seeded one for deterministic failures. */
  random?: () => number;
}

export class SimulatedDriver implements Driver {
  readonly name = "simulated";
  readonly canSuspend = true;
  private readonly status = new Map<string, Status>();
  /** Releases per object id: a command that finishes after its object was released changes nothing. */
  private readonly releases = new Map<string, number>();
  private readonly listeners: ObservationListener[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: SimulatedOptions) {
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
  }

  validateConfig(config: unknown) {
    const r = simulatedConfigSchema.safeParse(config ?? {});
    return r.success ? [] : zodProblems(r.error);
  }

  canonicalConfig(config: JsonObject): JsonObject {
    const r = simulatedConfigSchema.safeParse(config);
    // `resumeMs` defaults to `startMs` (command() reads it so).
    return r.success ? ({ ...r.data, resumeMs: r.data.resumeMs ?? r.data.startMs } as JsonObject) : config;
  }

  /**
   * A start of suspended compute is a resume, which may be quicker than a start from stopped. A
   * start of running compute is done at once, as the other drivers answer it.
   */
  start(t: DriverTarget) {
    const status = this.status.get(t.objectId);
    if (status === "running") return Promise.resolve<Observation>({ status, at: this.clock.now() });
    return this.command(t, status === "suspended" ? "resumeMs" : "startMs", "running");
  }

  /** Compute that is not running has nothing resident to suspend: it stays stopped (as the other drivers say). */
  suspend(t: DriverTarget) {
    if ((this.status.get(t.objectId) ?? "stopped") === "stopped")
      return Promise.resolve<Observation>({ status: "stopped", at: this.clock.now() });
    return this.command(t, "suspendMs", "suspended");
  }

  stop(t: DriverTarget) {
    return this.command(t, "stopMs", "stopped");
  }

  async observe(t: DriverTarget): Promise<Observation> {
    return { status: this.status.get(t.objectId) ?? "stopped", at: this.clock.now() };
  }

  /** Its simulated compute goes away with the object either way: there is nothing to keep. */
  async release(t: DriverTarget, _mode: Release): Promise<void> {
    this.status.delete(t.objectId);
    this.releases.set(t.objectId, (this.releases.get(t.objectId) ?? 0) + 1);
  }

  onObservation(listener: ObservationListener): void {
    this.listeners.push(listener);
  }

  /**
   * Simulates a change Vigil did not ask for (a crash, an exit). With `notify` false nobody is
   * told, as when a machine is stopped from elsewhere: only reconciliation will find out.
   */
  crash(objectId: string, status: Status = "stopped", notify = true): void {
    this.status.set(objectId, status);
    if (!notify) return;
    for (const l of this.listeners) l(objectId, { status, at: this.clock.now(), reason: "simulated crash" });
  }

  async close(): Promise<void> {}

  private command(
    t: DriverTarget,
    latency: "startMs" | "resumeMs" | "suspendMs" | "stopMs",
    to: Status,
  ): Promise<Observation> {
    const config = simulatedConfigSchema.parse(t.config ?? {});
    const ms = latency === "resumeMs" ? (config.resumeMs ?? config.startMs) : config[latency];
    const releases = this.releases.get(t.objectId) ?? 0;
    return new Promise((resolve, reject) => {
      const finish = () => {
        if (config.failRate > 0 && this.random() < config.failRate) {
          reject(new DriverError(`simulated failure of ${latency.replace("Ms", "")}`, true));
          return;
        }
        // Released meanwhile: the compute went away with its object, whatever has its id now.
        if ((this.releases.get(t.objectId) ?? 0) === releases) this.status.set(t.objectId, to);
        resolve({ status: to, at: this.clock.now() });
      };
      if (ms === 0) queueMicrotask(finish);
      else this.clock.setTimeout(finish, ms);
    });
  }
}
