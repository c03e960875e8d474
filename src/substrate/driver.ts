// The substrate driver interface: where an object's compute runs and how Vigil starts,
// suspends and stops it there. One contract suite (test/substrate.contract.ts) runs on every
// driver.

import type { JsonObject, Observation } from "../core/types.ts";
import type { Problem } from "../core/errors.ts";

export interface DriverTarget {
  objectId: string;
  config: JsonObject;
  /** The outbox action the call carries out, when it is one (its id is durable before the call). */
  action?: string;
}

/** What becomes of an object's compute when Vigil stops governing it. */
export type Release = "stop" | "keep";

/** An observation the driver made on its own: an exit, a crash, a machine stopped elsewhere. */
export type ObservationListener = (objectId: string, observation: Observation) => void;

export interface Driver {
  readonly name: string;
  /** False when the substrate has no suspend; dormancy then stops instead. */
  readonly canSuspend: boolean;
  /** Problems with a config, paths relative to the config (`$.startMs`); empty when valid. */
  validateConfig(config: unknown): Problem[];
  /**
   * A valid config with its defaults filled in: two configs are the same binding when these are
   * equal (a PUT that spells out a default rebinds nothing). Optional: the config as given.
   */
  canonicalConfig?(config: JsonObject): JsonObject;
  /**
   * Whether two valid configs name the same compute (a Fly machine by its app and id), so that
   * a PUT moving an object from one to the other changes only how the driver reaches or handles
   * it, and stops nothing. Optional: without it, every other config is other compute.
   */
  sameCompute?(a: JsonObject, b: JsonObject): boolean;
  /** Each resolves with the observation once the substrate confirms; rejects on failure. */
  start(target: DriverTarget): Promise<Observation>;
  suspend(target: DriverTarget): Promise<Observation>;
  stop(target: DriverTarget): Promise<Observation>;
  /**
   * The compute's state now. `signal`, when given, aborts once the caller no longer waits for the
   * answer (reconciliation's deadline): a driver may stop its work then. Optional to heed.
   */
  observe(target: DriverTarget, signal?: AbortSignal): Promise<Observation>;
  /**
   * After a server restart: takes the compute `last` (the observation stored before it) names
   * back under governance when it still runs; otherwise observes it as stopped. Optional: a
   * driver whose substrate outlives no restart, or needs no adoption, leaves it out.
   */
  adopt?(target: DriverTarget, last: Observation | null, starts?: string[]): Promise<Observation>;
  /**
   * The object is deleted or rebound (to another driver, or to another config on this one):
   * with `stop` its compute is stopped first, with `keep` it is left running; either way the
   * driver forgets it, so that an object of the same id, or the next wake under the new config,
   * starts afresh. Optional: a driver that keeps nothing per object leaves it out.
   */
  release?(target: DriverTarget, mode: Release): Promise<void>;
  /** Registers the listener for changes Vigil did not ask for. */
  onObservation(listener: ObservationListener): void;
  close(): Promise<void>;
}

/** An error the driver may retry (429, 5xx, a busy machine) versus a final refusal. */
export class DriverError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** How long the substrate asked to be left alone (its Retry-After), when it did: the outbox's next try waits at least as long. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "DriverError";
  }
}
