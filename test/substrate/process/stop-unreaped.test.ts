// A stop between the leader's own exit and its exit event (/proc shows it `Z` until Node reaps it,
// a turn of the event loop later): the stop found the leader gone, waited for the exit event,
// whose sweep made the rest of the tree the object's leftovers, and answered `stopped` at once, for
// it waited only for the leftovers known when it began (found in review). The rest of the tree
// ran on while the stop was confirmed. It now waits for those the exit event left as well, as a
// stop of a tree whose leader was reaped before it began does. Real processes.

import { afterEach, expect, test } from "vitest";
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

test("a stop between the leader's exit and its exit event is confirmed once the rest of the tree is gone", async () => {
  const clock = new VirtualClock(0);
  const d = new ProcessDriver({ clock });
  drivers.push(d);
  // The child ignores SIGTERM: only the grace period's SIGKILL ends it.
  const script = "trap '' TERM; sleep 1000 & wait";
  const t = { objectId: "stop-unreaped", config: { command: "sh", args: ["-c", script], graceMs: 1000 } };
  const pid = (await d.start({ ...t, action: "act_1" })).pid as number;
  groups.push(pid);
  expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
  const child = groupStats(pid).find((m) => m.pid !== pid)!;
  // SIGHUP to the leader alone ends it, not its child.
  process.kill(pid, "SIGHUP");
  // Without a turn of the event loop, Node cannot reap it: /proc shows it exited, not reaped.
  const start = performance.now();
  while (readStat(pid)?.state !== "Z") if (performance.now() - start > 30_000) throw new Error("no exit");
  const stopping = d.stop(t).then((o) => ({ o, childRuns: liveStat(child.pid, child.startTime) !== null }));
  // Answered once the exit event has come: the child is the object's leftovers now.
  expect(await d.observe(t)).toMatchObject({ status: "stopped", signal: "SIGHUP", leftovers: [{ pgid: pid }] });
  await clock.advance(1000);
  const { o, childRuns } = await stopping;
  expect(o).toMatchObject({ status: "stopped", pid, signal: "SIGHUP" });
  expect(childRuns).toBe(false);
});
