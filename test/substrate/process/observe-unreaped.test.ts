// observe() of a tree whose leader has exited but is not reaped yet (/proc shows it `Z` until
// Node's exit event, which comes at a later turn of the event loop): it answered `stopped`, with
// neither the exit's code nor `leftovers`, while the rest of the tree ran on (found in review).
// It now waits for the exit event, as a stop or a start do, and answers as after it: the exit
// code, and what is left of the tree listed while it is being stopped. Real processes.

import { afterEach, expect, test } from "vitest";
import type { Observation } from "../../../src/core/types.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { groupStats, liveStat, readStat } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { eventually } from "../../helpers/eventually.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const drivers: ProcessDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  killGroups(groups);
});

test("an observation between the leader's exit and its exit event lists what is left of the tree", async () => {
  const d = new ProcessDriver({ clock: new VirtualClock(0) });
  drivers.push(d);
  const t = { objectId: "unreaped", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
  const started = await d.start({ ...t, action: "act_1" });
  const pid = started.pid as number;
  groups.push(pid);
  expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
  // SIGHUP to the leader alone ends it, not its child.
  process.kill(pid, "SIGHUP");
  // Without a turn of the event loop, Node cannot reap it: /proc shows it exited, not reaped.
  const start = performance.now();
  while (readStat(pid)?.state !== "Z") if (performance.now() - start > 30_000) throw new Error("no exit");
  expect(liveStat(pid, null)).toBeNull();
  expect(groupStats(pid).length).toBe(1); // the child runs on
  const o: Observation = await d.observe(t);
  expect(o).toMatchObject({ status: "stopped", pid, signal: "SIGHUP", leftovers: [{ pgid: pid }] });
});
