// A governed object's identity and its record as it is born: dormant, with the memory it was
// given, not yet evaluated.

import { invalid } from "./errors.ts";
import type { JsonObject, LifecycleState, ObjectRecord } from "./types.ts";

export const OBJECT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const OBJECT_ID_HELP = "object ids are 1-128 characters of A-Z a-z 0-9 . _ : -";
/** The same for an id a URL names, where `.` and `..` are path segments (see checkNewObjectId). */
export const ADDRESSABLE_OBJECT_ID_HELP = `${OBJECT_ID_HELP}, but not . or .. alone (no URL can name them)`;
/** OBJECT_ID_PATTERN without `.` and `..`: the id of an object that can exist. */
export const ADDRESSABLE_OBJECT_ID_PATTERN = new RegExp(`^(?!\\.\\.?$)${OBJECT_ID_PATTERN.source.slice(1)}`);

/** A 422-kind error naming `$.id` unless `id` is a valid object id. */
export function checkObjectId(id: string): void {
  if (!OBJECT_ID_PATTERN.test(id)) throw invalid("invalid object id", [{ path: "$.id", message: OBJECT_ID_HELP }]);
}

/**
 * The id of an object facts are sent to: `.` and `..` pass the pattern, but no object has either
 * (checkNewObjectId), and README says they are not ids; a 422 rather than a 404.
 */
export function checkAddressableObjectId(id: string): void {
  if (!ADDRESSABLE_OBJECT_ID_PATTERN.test(id))
    throw invalid("invalid object id", [{ path: "$.id", message: ADDRESSABLE_OBJECT_ID_HELP }]);
}

/**
 * A new object's id: `.` and `..` pass the pattern, but no URL names them (clients resolve them
 * as path segments), so an object of that id could not be read, sent facts or deleted.
 */
export function checkNewObjectId(id: string): void {
  checkObjectId(id);
  if (id === "." || id === "..")
    throw invalid("invalid object id", [
      { path: "$.id", message: `"${id}" is a path segment no URL can name: choose another id` },
    ]);
}

export interface NewObject {
  id: string;
  policy: string;
  /** Creation time, epoch ms. */
  at: number;
  memory?: JsonObject;
  substrate?: { driver: string; config: JsonObject };
  /** Where it starts (default `dormant`); fixtures may start elsewhere. */
  state?: LifecycleState;
}

/** The record of a new object: nothing observed, no timers, no decision yet. */
export function newObject(o: NewObject): ObjectRecord {
  return {
    id: o.id,
    policy: o.policy,
    state: o.state ?? "dormant",
    stateSince: o.at,
    wokeAt: o.state === "waking" || o.state === "active" ? o.at : null,
    memory: o.memory ?? {},
    memoryVersion: 0,
    substrate: { driver: o.substrate?.driver ?? "simulated", config: o.substrate?.config ?? {}, observed: null },
    holdUntil: null,
    timers: [],
    lastDecisionId: null,
    lastFactAt: o.at,
    createdAt: o.at,
    updatedAt: o.at,
  };
}

/**
 * Whether `now`, an object read again, is still `read`: not deleted since, nor deleted and created
 * again under the same id (an id is reused; a creation time is the object's own).
 */
export function isSameObject(read: ObjectRecord, now: ObjectRecord | null): boolean {
  return now !== null && now.createdAt === read.createdAt;
}
