// The first life of a container (run by container-restart.test.ts as pid 1 of a new pid
// namespace): the process driver starts a tree whose leader gets pid 5000, the observation the
// server would store is printed, and the container ends, which ends everything in it.
import { writeFileSync } from "node:fs";
import { stat as statOf } from "node:fs/promises";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";

// Threads Node starts on first use (libuv's pool) are started before the pid is chosen.
await statOf("/");
writeFileSync("/proc/sys/kernel/ns_last_pid", "4999");
const driver = new ProcessDriver({ clock: new VirtualClock(0) });
const observed = await driver.start({ objectId: "w", config: { command: "sleep", args: ["1000"] } });
process.stdout.write(JSON.stringify(observed));
process.exit(0);
