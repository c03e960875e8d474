// eventually: a wait on another process is bounded by real time, not by turns of the event loop.

import { spawn } from "node:child_process";
import { expect, test } from "vitest";
import { isGone, readStat } from "../../src/substrate/process/proc.ts";
import { eventually } from "./eventually.ts";

test("a process that takes two seconds to end is seen gone (10,000 turns of the loop are over in one)", async () => {
  const child = spawn("sleep", ["2"], { stdio: "ignore" });
  const pid = child.pid as number;
  // Reaped by node once it exits: then /proc has no entry for it.
  const gone = () => readStat(pid) === null || isGone(readStat(pid)!);
  expect(gone()).toBe(false);
  expect(await eventually(gone)).toBe(true);
});

test("a wait for what never happens ends at its bound, saying so", async () => {
  expect(await eventually(() => false, 50)).toBe(false);
});
