// A stop whose signals the kernel refuses (EPERM: a process of the tree running as another user
// than the server, as a setuid program or a server restarted as another user meets). Found in
// a review: a refused signal was taken for a process gone (ESRCH), so a stop whose leader
// refused waited for its exit for ever, and one whose other processes refused reported the tree
// stopped while they ran. Now such a stop fails, for good, naming the processes, and so does the
// next one while they still refuse. Real processes:
// this test (root) starts the trees, and the driver runs as `nobody` (test/helpers/stop-as.ts),
// adopting them as a restarted server would.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, expect, test } from "vitest";
import { bootId, groupMembers, isGone, pidNamespace, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
afterEach(() => killGroups(groups));

const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/** A tree this test starts (it leads its own session and group), recorded as a server would have. */
async function tree(script: string): Promise<{ pid: number; recorded: Record<string, unknown> }> {
  const leader = spawn("sh", ["-c", script], { stdio: "ignore", detached: true });
  leader.unref();
  const pid = leader.pid!;
  groups.push(pid);
  expect(await eventually(() => groupMembers(pid).length >= 2)).toBe(true);
  const recorded = {
    status: "running",
    at: 0,
    pid,
    startTime: readStat(pid)!.startTime,
    bootId: bootId(),
    pidNamespace: pidNamespace(),
    pgid: pid,
  };
  return { pid, recorded };
}

/** The stop's answer from the driver run as nobody. */
async function stopAsNobody(recorded: Record<string, unknown>): Promise<Record<string, unknown>> {
  const input = JSON.stringify({ objectId: "refused", graceMs: 300, recorded });
  const child: ChildProcess = spawn(
    "setpriv",
    [...NOBODY, process.execPath, "--import", "tsx", "test/helpers/stop-as.ts", input],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const answered = await eventually(() => out.includes("\n"));
  child.kill("SIGKILL");
  expect(answered, `no answer from the driver; its stderr: ${err}`).toBe(true);
  return JSON.parse(out) as Record<string, unknown>;
}

/** The real uid of `pid` (/proc/<pid>/status), or null when it is gone. */
function statusUid(pid: number): number | null {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  } catch {
    return null;
  }
}

/** The pids a failed stop names as refusing its signals. */
function refused(answer: Record<string, unknown>): number[] {
  const list = /process(?:es)? ([\d, ]+) of it/.exec(String(answer.error))?.[1] ?? "";
  return list.split(", ").map(Number);
}

const running = (pid: number) => readStat(pid) !== null && !isGone(readStat(pid)!);

test("a stop whose leader refuses its signals fails, naming it, instead of waiting for its exit", async () => {
  const { pid, recorded } = await tree("while :; do sleep 0.05; done");
  const answer = await stopAsNobody(recorded);
  expect(answer.adopted).toMatchObject({ status: "running", pid });
  expect(answer).toMatchObject({ retryable: false, error: expect.stringContaining("EPERM") });
  expect(refused(answer)).toContain(pid);
  // Stopped again, it fails again: the tree is still there.
  const again = answer.again as Record<string, unknown>;
  expect(again).toMatchObject({ retryable: false, error: expect.stringContaining("EPERM") });
  expect(refused(again)).toContain(pid);
  expect(running(pid)).toBe(true);
});

test("a stop whose other processes refuse their signals fails, naming them, instead of reporting stopped", async () => {
  // The leader runs as nobody (setpriv keeps its pid); the sleep it forked first stays root's.
  const { pid, recorded } = await tree(
    `sleep 1000 & exec setpriv ${NOBODY.join(" ")} sh -c 'while :; do sleep 0.05; done'`,
  );
  expect(await eventually(() => statusUid(pid) === 65534)).toBe(true);
  const rooted = groupMembers(pid).filter((p) => p !== pid && statusUid(p) === 0);
  expect(rooted).toHaveLength(1);
  const answer = await stopAsNobody(recorded);
  expect(answer.adopted).toMatchObject({ status: "running", pid });
  expect(answer).toMatchObject({ retryable: false, error: expect.stringContaining("EPERM") });
  expect(refused(answer)).toEqual(rooted);
  // Stopped again, with its leader gone, it fails again instead of finding nothing running.
  expect(answer.again).toMatchObject({ retryable: false, error: answer.error });
  // The leader, which nobody may signal, is gone; the root's sleep runs on.
  expect(running(pid)).toBe(false);
  expect(running(rooted[0]!)).toBe(true);
});
