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

import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Observation } from "../../core/types.ts";
import { CgroupTree, treeOfObservation, type CgroupParent } from "./cgroup.ts";
import { ACTION_ENV, OBJECT_ID_ENV } from "./config.ts";
import {
  bootId,
  environ,
  environHas,
  inThisNamespace,
  isGone,
  listPids,
  procfs,
  readStat,
  type ProcStat,
} from "./proc.ts";
import { ProcessGroupTree, type ProcessTree } from "./tree.ts";

/**
 * The leader of a tree one of `starts` (the object's pending start actions) spawned, and its
 * tree, when it runs; null when none is found. Nothing here signals anything.
 */
export function unrecordedTree(
  objectId: string,
  starts: string[],
  cgroup: CgroupParent | null,
): { leader: { pid: number; stat: ProcStat }; tree: ProcessTree } | null {
  if (!procfs || starts.length === 0) return null;
  const marks = new Set(starts.map((a) => `${ACTION_ENV}=${a}`));
  const mark = `${OBJECT_ID_ENV}=${objectId}`;
  // Those carrying the marks, and the live leaders of their sessions, else of their groups: a
  // leader may no longer show its environment (a process that sets its title, as perl's `$0 =` or
  // setproctitle do, writes over it), and a process can join no group or session but its own, so
  // the leader of a marked process's session (the command Vigil spawned, which called setsid), or
  // of its group, is the tree's. The session's first: a marked process that moved into a group of
  // its own within it (setpgid, as `timeout` does) leads that group, and is not the tree's leader.
  const candidates = new Map<number, ProcStat>();
  const leading = (id: number, of: (s: ProcStat) => number): ProcStat | null => {
    const leader = readStat(id);
    return leader && !isGone(leader) && of(leader) === id ? leader : null;
  };
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (!stat || isGone(stat)) continue;
    const env = environ(pid);
    if (!env.includes(mark) || !env.some((e) => marks.has(e))) continue;
    const session = stat.session === pid ? stat : leading(stat.session, (s) => s.session);
    if (session) candidates.set(stat.session, session);
    else if (stat.pgrp === pid) candidates.set(pid, stat);
    else {
      const leader = leading(stat.pgrp, (s) => s.pgrp);
      if (leader) candidates.set(stat.pgrp, leader);
    }
  }
  // The spawned command is the oldest of its tree (ties: the lower pid). When it died, the oldest
  // left may be a descendant that called setsid, which nothing tells from it: it is taken back.
  let leader: { pid: number; stat: ProcStat } | null = null;
  for (const [pid, stat] of candidates)
    if (
      !leader ||
      stat.startTime < leader.stat.startTime ||
      (stat.startTime === leader.stat.startTime && pid < leader.pid)
    )
      leader = { pid, stat };
  if (!leader) return null;
  return { leader, tree: (cgroup && cgroupOf(cgroup, objectId, leader.pid)) || new ProcessGroupTree(leader.pid) };
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

/**
 * What is found of the tree `last` (the observation stored before the restart) records: its
 * leader still running (the same pid and start time, in the same boot and pid namespace), or
 * what of it is left to stop (`sweep`, null when nothing of it is known to be left).
 */
export function recordedTree(
  objectId: string,
  last: Observation | null,
): { running: { pid: number; stat: ProcStat; tree: ProcessTree } } | { sweep: ProcessTree | null } {
  const pid = last?.pid;
  const startTime = last?.startTime;
  const boot = last?.bootId;
  const ours =
    procfs &&
    typeof pid === "number" &&
    Number.isSafeInteger(pid) &&
    pid > 0 &&
    typeof startTime === "number" &&
    (boot === undefined || boot === bootId()) &&
    inThisNamespace(last?.pidNamespace);
  if (!ours) return { sweep: null };
  const cgroup = treeOfObservation(last);
  const tree = cgroup ?? new ProcessGroupTree(pid);
  const stat = readStat(pid);
  if (!stat || isGone(stat)) {
    // A group whose every process was gone may have been made again since, under the same
    // number, by a process its pid was given to. One process carrying this object's mark
    // shows the group never emptied, so it is still this tree's (a cgroup is Vigil's own,
    // whatever is in it).
    return { sweep: cgroup || carriesMark(tree, objectId) ? tree : null };
  }
  // The pid is another process's now. A process group cannot outlive its leader's pid (the
  // kernel gives no process the id of a group with members), but a cgroup can: what is left in
  // it is Vigil's, and stopped.
  if (stat.startTime !== startTime) return { sweep: cgroup };
  return { running: { pid, stat, tree } };
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
