// Adoption after a restart: the recorded leader's pid is dead, and a process group with that id
// exists. The driver took the group's members for leftovers of Vigil's tree ("the kernel gives
// no new process the id of a group that still has members") and stopped them. But if Vigil's whole
// tree died while the server was down, the pid can be handed to an unrelated process that starts
// a session of its own and exits leaving children: they are in group <old pid> and are not
// Vigil's. Now a group's members are swept only when each carries the object's VIGIL_OBJECT_ID.
//
// Modelled as the repository's own tests model pid reuse: an unrelated session leader started by
// this test (its pid stands for the reused one) forks a child and exits; the observation Vigil
// recorded names that pid with an earlier start time (the long-dead leader of Vigil's tree).

import { spawn } from "node:child_process";
import { afterEach, expect, test } from "vitest";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { bootId, groupMembers, isGone, pidNamespace, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { signalled } from "../../helpers/signalled.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

const pgids: number[] = [];
afterEach(() => {
  killGroups(pgids);
});

test("adopt never signals a process group whose leader's pid was reused by an unrelated session leader", async () => {
  // An unrelated session leader (setsid) that forks a long-lived child and exits at once.
  const leader = spawn("sh", ["-c", "sleep 300 & exit 0"], { stdio: "ignore", detached: true });
  const pid = leader.pid!;
  pgids.push(pid);
  const leaderStart = readStat(pid)?.startTime ?? 100;
  await new Promise<void>((resolve) => leader.once("exit", () => resolve()));
  expect(await eventually(() => readStat(pid) === null || isGone(readStat(pid)!))).toBe(true);
  // Its child lives on in group <pid>; the pid itself names no process now.
  const [child] = groupMembers(pid);
  expect(child).toBeDefined();

  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const d = new ProcessDriver({ clock });
  // What Vigil stored before its restart: its tree's leader had this pid, long before.
  const recorded = {
    status: "running" as const,
    at: clock.now() - 3_600_000,
    pid,
    startTime: Math.max(1, leaderStart - 100),
    bootId: bootId()!,
    pidNamespace: pidNamespace()!,
    pgid: pid,
    processes: [{ pid, rssBytes: 1000 }],
    rssBytes: 1000,
  };
  const t = { objectId: "obj-1", config: { command: "sh", args: ["-c", "sleep 300"], graceMs: 1000 } };
  expect(await d.adopt(t, recorded)).toMatchObject({ status: "stopped", reason: "not running after restart" });
  await clock.advance(1000);
  // The unrelated child was sent nothing (a SIGTERM at adoption, the SIGKILL after the grace):
  // known at once, where a look at it alive after a while proves nothing until it has run.
  const sent = signalled(child!);
  await d.close();
  expect(sent).toBe(false);
});

test("leftovers of the object's own tree (its mark in their environment) are still swept", async () => {
  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const d = new ProcessDriver({ clock });
  const t = { objectId: "obj-2", config: { command: "sh", args: ["-c", "sleep 300 & sleep 300"], graceMs: 1000 } };
  const started = await d.start(t);
  const leader = started.pid as number;
  pgids.push(leader);
  expect(await eventually(() => groupMembers(leader).length >= 2)).toBe(true);
  const [child] = groupMembers(leader).filter((p) => p !== leader);
  await d.close();
  // The leader dies while no server runs; its child is left in the group.
  process.kill(leader, "SIGKILL");
  expect(await eventually(() => readStat(leader) === null || isGone(readStat(leader)!))).toBe(true);
  const next = new ProcessDriver({ clock });
  expect(await next.adopt(t, started)).toMatchObject({ status: "stopped" });
  expect(await eventually(() => readStat(child!) === null || isGone(readStat(child!)!))).toBe(true);
  await next.close();
});
