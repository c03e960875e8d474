// What a server restarting finds of the trees of the object it adopts, besides the one recorded:
// leftovers its observation lists, and trees spawned and never recorded.
//
// Trees a server spawned and never recorded. A server that dies between a start's spawn and the
// commit of its observation (kill -9, the OOM killer; or the commit was refused and it died while
// it tried again) leaves a tree whose observation says nothing: after the restart the start is
// sent again, and the first tree would run on beside the second, governed by nobody. So every
// tree carries marks that find it: its object's id (VIGIL_OBJECT_ID), its database's
// (VIGIL_GOVERNOR: the same for every server of one database and for no other, so that another
// Vigil's trees on the same host are never taken for this one's) and its spawn's (VIGIL_SPAWN,
// recorded in its observations as `spawn`). When a server adopts an object after a restart, the
// trees carrying the first two marks but not the recorded spawn's are stopped like leftovers.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Observation } from "../../core/types.ts";
import { CgroupTree, treeOfObservation, type CgroupParent } from "./cgroup.ts";
import { OBJECT_ID_ENV } from "./config.ts";
import { bootId, environHas, groupMembers, inThisNamespace, listPids, procfs, readStat } from "./proc.ts";
import { ProcessGroupTree, type ProcessTree } from "./tree.ts";

export const GOVERNOR_ENV = "VIGIL_GOVERNOR";
export const SPAWN_ENV = "VIGIL_SPAWN";

/**
 * The mark of the database a server governs (VIGIL_DB_URL): of its file's absolute path, as
 * `fileOf` reads it from the URL, or else of the URL without its query (a remote server's, or
 * `:memory:`, whose servers adopt nothing).
 */
export function governorMark(url: string, fileOf: (url: string) => string | null): string {
  const file = fileOf(url);
  const where = file !== null ? `file:${resolve(file)}` : url.split("?")[0]!;
  return createHash("sha256").update(where).digest("hex").slice(0, 16);
}

/** The marks a spawn's tree carries, besides its object's id. */
export function spawnMarks(governor: string | null, spawn: string): Record<string, string> {
  return governor === null ? { [SPAWN_ENV]: spawn } : { [GOVERNOR_ENV]: governor, [SPAWN_ENV]: spawn };
}

/** A process's environment, as its entries; none when it cannot be read (gone, another user's). */
function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return [];
  }
}

/**
 * Where the trees carrying a database's mark are, by object id: the process groups of the
 * processes carrying it or, with `cgroup`, the object's cgroups under it (`obj-<id>.<nonce>`, the
 * nonce without a dot). One scan serves a whole adoption pass; unrecordedTrees looks again.
 */
export type MarkedTrees = Map<string, (number | string)[]>;

export function scanMarked(governor: string, cgroup: CgroupParent | null): MarkedTrees {
  const out: MarkedTrees = new Map();
  const add = (objectId: string, where: number | string) => {
    const list = out.get(objectId);
    if (!list) out.set(objectId, [where]);
    else if (!list.includes(where)) list.push(where);
  };
  if (!procfs) return out;
  if (cgroup) {
    for (const name of subdirectories(cgroup.dir))
      if (name.startsWith("obj-") && name.includes("."))
        add(name.slice(4, name.lastIndexOf(".")), join(cgroup.dir, name));
    return out;
  }
  const mark = `${GOVERNOR_ENV}=${governor}`;
  const idPrefix = `${OBJECT_ID_ENV}=`;
  for (const pid of listPids()) {
    const env = environ(pid);
    if (!env.includes(mark)) continue;
    const id = env.find((e) => e.startsWith(idPrefix));
    const stat = readStat(pid);
    if (id !== undefined && stat && stat.pgrp > 1) add(id.slice(idPrefix.length), stat.pgrp);
  }
  return out;
}

/**
 * The object's trees, among those `marked` found, that this database's servers spawned and that
 * `keep` (the spawn of the tree recorded, adopted or not) is not: a tree one of whose processes
 * carries the object's and the database's marks and another spawn's, or none. Looked at again
 * here, as they are now. A process group is taken only when each of its processes carries the
 * database's mark (one that cleared its environment is not known to be Vigil's); a cgroup of
 * the object's is Vigil's whatever its other processes carry.
 */
export function unrecordedTrees(
  objectId: string,
  governor: string,
  keep: string | null,
  cgroup: CgroupParent | null,
  marked: MarkedTrees,
): ProcessTree[] {
  const ours = (pid: number) => {
    const env = environ(pid);
    return (
      env.includes(`${GOVERNOR_ENV}=${governor}`) &&
      env.includes(`${OBJECT_ID_ENV}=${objectId}`) &&
      (keep === null || !env.includes(`${SPAWN_ENV}=${keep}`))
    );
  };
  const governed = (pid: number) => environ(pid).includes(`${GOVERNOR_ENV}=${governor}`);
  const out: ProcessTree[] = [];
  for (const where of marked.get(objectId) ?? []) {
    if (typeof where === "string") {
      const tree = new CgroupTree(where, cgroup!.version);
      if (tree.members().some(ours)) out.push(tree);
      continue;
    }
    const members = groupMembers(where);
    if (members.some(ours) && members.every(governed)) out.push(new ProcessGroupTree(where));
  }
  return out;
}

/** The directories in `dir`; none when it cannot be read. */
function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** The most leftovers of one observation looked at after a restart. */
const MAX_RECORDED_LEFTOVERS = 64;

/**
 * The leftovers `last` lists (their server stopped, or crashed, within their grace period) that
 * are to be stopped now. A process group is taken for them only while one of its processes
 * carries this object's mark, and never when it is the live tree the observation is of (a pid
 * may have been given again once a group emptied).
 */
export function recordedLeftovers(objectId: string, last: Observation | null): ProcessTree[] {
  const recorded = last?.leftovers;
  if (!procfs || !Array.isArray(recorded)) return [];
  const out: ProcessTree[] = [];
  for (const r of recorded.slice(0, MAX_RECORDED_LEFTOVERS)) {
    if (r === null || typeof r !== "object" || Array.isArray(r)) continue;
    if ((r.bootId !== undefined && r.bootId !== bootId()) || !inThisNamespace(r.pidNamespace)) continue;
    const cgroup = treeOfObservation(r);
    if (cgroup) {
      if (cgroup.dir !== last?.cgroup) out.push(cgroup);
      continue;
    }
    const pgid = r.pgid;
    if (typeof pgid !== "number" || !Number.isSafeInteger(pgid) || pgid <= 1) continue;
    const live = last?.status === "running" || last?.status === "suspended";
    if (live && (pgid === last.pid || pgid === last.pgid)) continue;
    const tree = new ProcessGroupTree(pgid);
    if (carriesMark(tree, objectId)) out.push(tree);
  }
  return out;
}

/** Whether a process of `tree` carries `objectId`'s mark (OBJECT_ID_ENV): it is that object's. */
export function carriesMark(tree: ProcessTree, objectId: string): boolean {
  const mark = `${OBJECT_ID_ENV}=${objectId}`;
  return tree.members().some((pid) => environHas(pid, mark));
}
