// spawnProcess run as a program of its own, for tests that need a server started without PATH
// (run under `env -u PATH`, and in a mount namespace of the test's making): it starts `sleep 30`
// (argv[3] = "wrapped": through the cgroup wrapper shell, with argv[2] standing in for
// `cgroup.procs`), waits until the command is exec'd, and prints one JSON line: {pid, cmdline}.

import { readFileSync } from "node:fs";
import { spawnProcess } from "../../src/substrate/process/spawn.ts";
import { eventually } from "./eventually.ts";

const [procs, how] = process.argv.slice(2);
// The waits' timers do not keep a process alive, nor does the (unref'd) child: this does, meanwhile.
const alive = setInterval(() => {}, 1000);
const config = { command: "sleep", args: ["30"], graceMs: 1000 };
const child = await spawnProcess(config, "no-path", how === "wrapped" ? procs : undefined);
const cmdline = () => {
  try {
    return readFileSync(`/proc/${child.pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};
// The wrapper shell (`sh -c ...`), or a script's interpreter, until a sleep itself is exec'd (the
// line reads empty while an exec is under way): `sleep 30` from /usr/bin, or the other one's
// `/usr/bin/sleep 31`. What was read last is printed, matched or not.
let seen = "";
await eventually(() => /^(sleep|\/usr\/bin\/sleep)\0/.test((seen = cmdline())));
process.stdout.write(`${JSON.stringify({ pid: child.pid, cmdline: seen })}\n`);
clearInterval(alive);
