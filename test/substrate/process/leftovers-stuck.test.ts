// What is left of a tree whose leader exited on its own gets its SIGKILL at the end of the grace
// period, and 10 s to exit. A process of it still there after them (stuck in state `D`; here one
// frozen in a v1 freezer cgroup, which a SIGKILL does not end until it is thawed) was forgotten:
// no longer listed, and a stop waiting for the leftovers was confirmed while it was there (found
// in review). It now stays listed, and a stop fails for it, retryable, as a stop of a tree does
// (stop-stuck.test.ts), until it has exited. Real processes.

import { afterEach, expect, test } from "vitest";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { groupStats, liveStat } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { eventually } from "../../helpers/eventually.ts";
import { Freezers, freezerV1 } from "../../helpers/freezer.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const drivers: ProcessDriver[] = [];
const freezers = new Freezers();
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  killGroups(groups);
  await freezers.thawAll();
});

test.skipIf(!freezerV1)(
  "leftovers with a process that outlasts the wait after its SIGKILL stay listed, and a stop fails for them",
  async () => {
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = { objectId: "left-stuck", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
    const pid = (await d.start({ ...t, action: "act_1" })).pid as number;
    groups.push(pid);
    expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
    const child = groupStats(pid).find((m) => m.pid !== pid)!;
    const dir = await freezers.freeze("vigil-left-stuck", child.pid);

    // The leader exits on its own (SIGHUP); its child, frozen, is the object's leftovers.
    process.kill(pid, "SIGHUP");
    expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);
    expect(await d.observe(t)).toMatchObject({ status: "stopped", signal: "SIGHUP", leftovers: [{ pgid: pid }] });
    const stopping = d.stop(t).then(
      (o) => ({ o, childRuns: liveStat(child.pid, child.startTime) !== null }),
      (e: unknown) => ({ e, childRuns: liveStat(child.pid, child.startTime) !== null }),
    );
    await clock.advance(1000); // the grace period: SIGKILL, and 10 s for its exit
    const answer = await stopping;
    expect(answer.childRuns).toBe(true);
    expect(answer).toMatchObject({
      e: {
        retryable: true,
        message: `cannot confirm the stop of the process tree of ${pid}: process ${child.pid} of it has not exited 10 s after its SIGKILL`,
      },
    });
    expect(await d.observe(t)).toMatchObject({ status: "stopped", leftovers: [{ pgid: pid }] });

    // Thawed, it exits of its SIGKILL; the stop sent again is confirmed, and lists nothing left.
    freezers.thaw(dir);
    expect(await d.stop(t)).toEqual({ status: "stopped", at: clock.now(), pid, exitCode: null, signal: "SIGHUP" });
    expect(await d.observe(t)).not.toHaveProperty("leftovers");
  },
);

// With two such trees left (the object's leader exited on its own twice, each time leaving a child
// stuck), the stop's failure named only the first tree and its process (found in review): the
// error of the first tree's stop was kept, the second's dropped. It now names both, as a stop
// whose leftovers refuse their signals does (stop-refused.test.ts).
test.skipIf(!freezerV1)(
  "a stop failing for several stuck leftover trees names them all",
  async () => {
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = { objectId: "left-stuck-2", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
    const trees: { pid: number; child: number }[] = [];
    for (const action of ["act_1", "act_2"]) {
      const pid = (await d.start({ ...t, action })).pid as number;
      groups.push(pid);
      expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
      const child = groupStats(pid).find((m) => m.pid !== pid)!.pid;
      await freezers.freeze(`vigil-left-stuck-${action}`, child);
      // The leader exits on its own; its child, frozen, is the object's leftovers.
      process.kill(pid, "SIGHUP");
      expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);
      expect(await d.observe(t)).toMatchObject({ status: "stopped", signal: "SIGHUP" });
      trees.push({ pid, child });
    }
    expect((await d.observe(t)).leftovers).toEqual(trees.map(({ pid }) => expect.objectContaining({ pgid: pid })));

    const stopping = d.stop(t).then(
      () => null,
      (e: unknown) => e,
    );
    await clock.advance(1000); // the grace period of both: SIGKILL, and 10 s for their exit
    // In the order their kills ended, which is the kernel's: either tree may come first.
    const failure = await stopping;
    const named = trees.map(({ pid, child }) => ({ pid, child }));
    const messages = [named, [...named].reverse()].map(
      ([a, b]) =>
        `cannot confirm the stop of the process trees of ${a!.pid}, ${b!.pid}: processes ${a!.child}, ${b!.child} of them have not exited 10 s after their SIGKILL`,
    );
    expect(failure).toMatchObject({ retryable: true });
    expect(messages).toContain((failure as Error).message);
    for (const { child } of trees) expect(liveStat(child, null)).not.toBeNull();
  },
  60_000,
);

// Found in review: while the leftovers' SIGKILL was under way (the up to 10 s given to what it
// reached to exit), the object's observations listed them no more, though their processes were
// still there, against docs/substrates.md's "until then [they are empty] the object's observations
// list it"; they came back once the wait ran out. A reconciliation in between stored an
// observation without them, and a server that crashed then left them to no one. They are listed
// throughout now.
test.skipIf(!freezerV1)("leftovers whose SIGKILL is under way are still listed", async () => {
  const clock = new VirtualClock(0);
  const d = new ProcessDriver({ clock });
  drivers.push(d);
  const t = { objectId: "left-killing", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
  const pid = (await d.start({ ...t, action: "act_1" })).pid as number;
  groups.push(pid);
  expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
  const child = groupStats(pid).find((m) => m.pid !== pid)!;
  await freezers.freeze("vigil-left-killing", child.pid);
  process.kill(pid, "SIGHUP");
  expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);
  expect(await d.observe(t)).toMatchObject({ status: "stopped", leftovers: [{ pgid: pid }] });

  await clock.advance(1000); // the grace period: SIGKILL, and 10 s for its exit, which it cannot
  expect(liveStat(child.pid, child.startTime)).not.toBeNull();
  expect(await d.observe(t)).toMatchObject({ status: "stopped", leftovers: [{ pgid: pid }] });
});

// Found in the same review: a stop whose own tree had a process stuck so failed at once, naming it
// alone, without a look at the object's leftovers stuck too (their failure came only at the next
// try, once the tree was gone); and a stop whose tree refused its signals (EPERM, final) while
// leftovers were stuck failed for the leftovers alone, retryable. The tree's failure and the
// leftovers' are now one, as for trees that refuse (stop-refused.test.ts): both stuck, one failure
// naming both; a refusal wins over being stuck, as among the leftovers themselves.
test.skipIf(!freezerV1)(
  "a stop whose tree and leftovers both have a process stuck names them all",
  async () => {
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = { objectId: "both-stuck", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
    const trees: { pid: number; child: number }[] = [];
    for (const action of ["act_1", "act_2"]) {
      const pid = (await d.start({ ...t, action })).pid as number;
      groups.push(pid);
      expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
      const child = groupStats(pid).find((m) => m.pid !== pid)!.pid;
      await freezers.freeze(`vigil-both-stuck-${action}`, child);
      trees.push({ pid, child });
      if (action === "act_2") break;
      // The first tree's leader exits on its own; its child, frozen, is the object's leftovers.
      process.kill(pid, "SIGHUP");
      expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);
      expect(await d.observe(t)).toMatchObject({ status: "stopped", leftovers: [{ pgid: pid }] });
    }
    const [left, live] = trees as [{ pid: number; child: number }, { pid: number; child: number }];

    const waiting = clock.waiting; // the leftovers' check and their grace period's end
    const stopping = d.stop(t).then(
      () => null,
      (e: unknown) => e,
    );
    expect(await eventually(() => clock.waiting === waiting + 1)).toBe(true); // the stop's grace period
    await clock.advance(1000); // both grace periods: SIGKILL, and 10 s for their exit
    expect(await stopping).toMatchObject({
      retryable: true,
      message: `cannot confirm the stop of the process trees of ${live.pid}, ${left.pid}: processes ${live.child}, ${left.child} of them have not exited 10 s after their SIGKILL`,
    });
    for (const { child } of trees) expect(liveStat(child, null)).not.toBeNull();
  },
  60_000,
);
