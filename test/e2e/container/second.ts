// The container restarted (a new pid namespace): an unrelated program makes a process group
// whose id is the pid the first life's leader had, and leaves it without its leader. Then the
// restarted server adopts the stored observation (argv[2]); what became of the group is printed.
import { spawn } from "node:child_process";
import { readlinkSync, writeFileSync } from "node:fs";
import { stat as statOf } from "node:fs/promises";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { isGone, pidNamespace, readStat, until } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";

const recorded = JSON.parse(process.argv[2]!) as { pid: number; pidNamespace: string };
// The kernel hands a freed namespace's number out again (here, about a second after the first
// life ended): made certain, by giving the record this namespace's number.
const stored = {
  ...recorded,
  pidNamespace: recorded.pidNamespace.replace(/^pid:\[\d+\]/, readlinkSync("/proc/self/ns/pid")),
};
await statOf("/"); // libuv's pool threads, started before the pid is chosen
writeFileSync("/proc/sys/kernel/ns_last_pid", String(stored.pid - 1));
const leader = spawn("sh", ["-c", "sleep 1000 >/dev/null 2>&1 & echo $!"], {
  detached: true,
  stdio: ["ignore", "pipe", "ignore"],
});
let text = "";
leader.stdout!.on("data", (chunk) => (text += chunk));
await new Promise((resolve) => leader.on("exit", resolve));
const member = Number(text.trim());
const driver = new ProcessDriver({ clock: new VirtualClock(0) });
const adopted = await driver.adopt({ objectId: "w", config: { command: "sleep", args: ["1000"] } }, stored as never);
// A sweep would have sent SIGTERM by now; give it the time to land.
await until(() => false, 2000);
const stat = readStat(member);
process.stdout.write(
  JSON.stringify({
    leaderPid: leader.pid,
    group: readStat(member)?.pgrp ?? null,
    namespace: pidNamespace(),
    recorded: stored.pidNamespace,
    adopted,
    memberAlive: stat !== null && !isGone(stat),
  }),
);
process.exit(0);
