// signalled: a SIGTERM is seen the moment kill() returns, and an untouched process is not.

import { spawn } from "node:child_process";
import { afterEach, expect, test } from "vitest";
import { readStat } from "../../src/substrate/process/proc.ts";
import { eventually } from "./eventually.ts";
import { signalled } from "./signalled.ts";

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

test.each(["SIGTERM", "SIGKILL"] as const)(
  "a process sent %s is signalled at once; one left alone is not",
  async (signal) => {
    const [sent, left] = [spawn("sleep", ["300"]), spawn("sleep", ["300"])];
    children.push(sent, left);
    const pids = [sent.pid as number, left.pid as number];
    // Both have exec'd sleep (a process still starting is not what is asked about).
    expect(await eventually(() => pids.every((p) => readStat(p)?.state === "S"))).toBe(true);
    expect(pids.map(signalled)).toEqual([false, false]);
    process.kill(pids[0]!, signal);
    expect(pids.map(signalled)).toEqual([true, false]);
  },
);
