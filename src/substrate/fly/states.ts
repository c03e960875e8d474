// Fly's machine states as the driver reads them (Fly's "Machine states" table): which ones a
// command can be sent from, which are in motion and how each is waited out, and what Vigil
// observes of each.

import type { Observation } from "../../core/types.ts";
import { FlyApiError } from "./client.ts";

/** What Vigil asks of a machine, and the Fly state that confirms it. */
export type Goal = "start" | "suspend" | "stop";
export const GOAL_STATE: Record<Goal, string> = { start: "started", suspend: "suspended", stop: "stopped" };

/** States a command can be sent from (`failed` stays until one is). */
export const SETTLED = new Set(["started", "stopped", "suspended", "created", "failed"]);

/**
 * Fly's states as Vigil statuses. Nothing runs on a machine that never started (`created`),
 * could not start (`failed`, which stays until someone acts; `launch_failed`, on its way to
 * `destroyed`) or is gone or going (`destroyed`, `destroying`). Any other is in motion, or
 * unknown to Vigil.
 */
export function statusOf(state: string): Observation["status"] {
  switch (state) {
    case "started":
      return "running";
    case "suspended":
      return "suspended";
    case "stopped":
    case "created":
    case "failed":
    case "launch_failed":
    case "destroying":
    case "destroyed":
      return "stopped";
    default:
      return "unknown";
  }
}

/**
 * How a state in motion is waited out: the settled state a `wait` can target, `"poll"` for those
 * whose end a `wait` cannot name (an update or a replacement ends started or stopped, a creation
 * created or started: the machine is read again), null for a settled (or unknown) state.
 */
export function settlesTo(state: string): string | null {
  switch (state) {
    case "starting":
    case "restarting":
      return "started";
    case "stopping":
      return "stopped";
    case "suspending":
      return "suspended";
    case "destroying":
    case "launch_failed":
      return "destroyed";
    case "creating":
    case "updating":
    case "replacing":
      return "poll";
    default:
      return null;
  }
}

/**
 * Whether Fly could not reach the machine's host (`host_status: unreachable`): the machine it
 * answers is incomplete (fly.io: "the information returned is incomplete"), its `state` the last
 * one Fly knew, and nothing confirms that the machine runs.
 */
export const hostUnreachable = (m: { host_status?: string }) => m.host_status === "unreachable";

/**
 * Whether Fly vouches for the machine's host: not when it cannot reach it, nor when it does not
 * know (`host_status: unknown`); then `started` is not a running machine Fly confirms. (A reply
 * without `host_status` is read as `ok`.)
 */
export const hostUnconfirmed = (m: { host_status?: string }) =>
  m.host_status === "unreachable" || m.host_status === "unknown";

/** Whether a machine in `state` is gone or going: a start of it cannot succeed. */
export const isGone = (state: string) => state === "destroyed" || settlesTo(state) === "destroyed";

/**
 * Whether a machine in `state` already satisfies `goal`: stopping (or suspending) a machine on
 * which nothing runs is done.
 */
export function satisfies(goal: Goal, state: string): boolean {
  if (goal === "start") return state === "started";
  return state === GOAL_STATE[goal] || statusOf(state) === "stopped";
}

/**
 * Whether a machine read while waiting for `state` is there (true) or still on its way (false:
 * also while `replacing`, an update in progress); one that settled elsewhere (a start that
 * crashed, an update that stopped it) or is going away is a 412, for another round.
 */
export function reachedOrElsewhere(now: string, state: string): boolean {
  if (now === state) return true;
  if (SETTLED.has(now) || isGone(now)) throw new FlyApiError(412, `machine is ${now}, not ${state}`);
  return false;
}

/**
 * A wait on a machine in motion; a 400 (Fly will not wait on these terms: an instance that
 * changed under us) is answered by reading the machine again instead, as after a command.
 * False when Fly refused the wait.
 */
export async function waitOrRead(wait: () => Promise<unknown>): Promise<boolean> {
  try {
    await wait();
    return true;
  } catch (e) {
    if (!(e instanceof FlyApiError && e.status === 400)) throw e;
    return false;
  }
}
