// What a restarted server finds of an object's trees besides the one its observation records:
// leftovers the observation lists, and a tree whose start was never recorded.
//
// A tree whose start was never recorded. A server that dies between a start's spawn and the
// commit of what it observed (kill -9, the OOM killer; or the commit was refused and it died
// while it tried again) leaves the tree running and the start action pending: after the restart
// the start would be sent again, and a second tree would run beside the first, which nothing
// governs. Each tree carries the id of the start action that spawned it (ACTION_ENV), unique to
// that action and so to this database and this object: adoption looks for the trees of the
// object's pending starts, and takes one back as the object's compute. Nothing else is touched.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Observation } from "../../core/types.ts";
import { CgroupTree, treeOfObservation, type CgroupParent } from "./cgroup.ts";
import { ACTION_ENV, OBJECT_ID_ENV } from "./config.ts";
import { bootId, environHas, inThisNamespace, isGone, listPids, procfs, readStat, type ProcStat } from "./proc.ts";
import { ProcessGroupTree, type ProcessTree } from "./tree.ts";

/**
 * What is left of a tree one of `starts` (the object's pending start actions) spawned: its leader
 * and its tree when the leader runs (the oldest, should a start have spawned twice), or else the
 * tree its other processes are in (`leader` null: to be stopped, as what is left of a tree whose
 * leader died). Null when no process carries the marks.
 */
export function unrecordedTree(
  objectId: string,
  starts: string[],
  cgroup: CgroupParent | null,
): { leader: { pid: number; stat: ProcStat } | null; tree: ProcessTree } | null {
  if (!procfs || starts.length === 0) return null;
  const marks = new Set(starts.map((a) => `${ACTION_ENV}=${a}`));
  const mark = `${OBJECT_ID_ENV}=${objectId}`;
  const found: { pid: number; stat: ProcStat }[] = [];
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (!stat || isGone(stat)) continue;
    const env = environ(pid);
    if (env.includes(mark) && env.some((e) => marks.has(e))) found.push({ pid, stat });
  }
  if (found.length === 0) return null;
  const treeOf = (p: { pid: number; stat: ProcStat }) =>
    (cgroup && cgroupOf(cgroup, objectId, p.pid)) || new ProcessGroupTree(p.stat.pgrp);
  // The spawned command is the oldest of its tree, and leads a session and group of its own.
  // When the oldest left does not lead one, the leader died: what is left of the oldest's group
  // is stopped, and nothing is taken back. (When the leader died and the oldest left is a
  // descendant that called setsid, nothing tells it from the leader: it is taken back.)
  // Started in the same clock tick: the group's leader first, then the lower pid.
  const rank = (p: { pid: number; stat: ProcStat }) => [p.stat.startTime, p.stat.pgrp === p.pid ? 0 : 1, p.pid];
  const before = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  const oldest = found.reduce((a, b) => (before(rank(b), rank(a)) < 0 ? b : a));
  if (oldest.stat.pgrp !== oldest.pid) return { leader: null, tree: treeOf(oldest) };
  return { leader: oldest, tree: treeOf(oldest) };
}

/** The object's cgroup under `parent` (`obj-<id>.<nonce>`) that `pid` is in, or null. */
function cgroupOf(parent: CgroupParent, objectId: string, pid: number): CgroupTree | null {
  let names: string[];
  try {
    names = readdirSync(parent.dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.startsWith(`obj-${objectId}.`) || name.slice(`obj-${objectId}.`.length).includes(".")) continue;
    const tree = new CgroupTree(join(parent.dir, name), parent.version);
    if (tree.members().includes(pid)) return tree;
  }
  return null;
}

/** A process's environment, as its entries; none when it cannot be read (gone, another user's). */
function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
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
