// A container restart, made with real pid namespaces (`unshare`): the restarted server must not
// take a process group of the new container for the leftovers of a tree it recorded before,
// though the group has the same id and the kernel may give the namespace the same number.

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const inContainer = (script: string, ...args: string[]): unknown =>
  JSON.parse(
    execFileSync(
      "unshare",
      [
        "-Urpf",
        "--mount-proc",
        process.execPath,
        "--import",
        "tsx",
        fileURLToPath(new URL(`./container/${script}`, import.meta.url)),
        ...args,
      ],
      { encoding: "utf8", timeout: 20_000 },
    ),
  );

// The test needs user and pid namespaces, and to choose the next pid in one (ns_last_pid, which
// a kernel without checkpoint/restore lacks, and a read-only /proc/sys refuses).
const canUnshare =
  spawnSync("unshare", ["-Urpf", "--mount-proc", "sh", "-c", "echo 100 > /proc/sys/kernel/ns_last_pid"]).status === 0;
const title = canUnshare
  ? "after a container restart"
  : "after a container restart: SKIPPED, this machine cannot make user and pid namespaces and pick pids in them (unshare -Urpf, ns_last_pid)";

describe.skipIf(!canUnshare)(title, () => {
  test("a group of the new container with the recorded leader's id is not swept as a leftover", () => {
    const stored = inContainer("first.ts") as { pid: number; pidNamespace: string };
    expect(stored).toMatchObject({ status: "running", pgid: stored.pid, pidNamespace: expect.any(String) });
    const second = inContainer("second.ts", JSON.stringify(stored));
    expect(second).toMatchObject({
      // What the test sets up: the same group id, its leader gone, in a new namespace.
      leaderPid: stored.pid,
      group: stored.pid,
      adopted: { status: "stopped", reason: "not running after restart" },
      memberAlive: true,
    });
    // The same namespace number, told apart all the same.
    const { namespace, recorded } = second as { namespace: string; recorded: string };
    expect(namespace.split("@")[0]).toBe(recorded.split("@")[0]);
    expect(namespace).not.toBe(recorded);
  });
});
