// An argument or a variable longer than Linux passes to a process (MAX_ARG_STRLEN, 128 KiB with
// its NUL): the PUT answered 200 and every start failed with `spawn E2BIG`, leaving the object
// `failed`, where a value no process can be passed is a 422 (as one with a NUL is). Found by a
// review of the process driver. The longest that is refused no more is run for real.

import { expect, test } from "vitest";
import { MAX_ARG_BYTES } from "../../../src/substrate/process/config.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { spawnProcess } from "../../../src/substrate/process/spawn.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { RULES_DIR, START } from "../../helpers/services.ts";

const driver = new ProcessDriver({ clock: new VirtualClock(0) });
/** The longest argument a process can be passed, and one byte more (`é` is two bytes). */
const longest = "a".repeat(MAX_ARG_BYTES - 1);
const tooLong = "é".repeat(MAX_ARG_BYTES / 2);

test("an argument, or a NAME=value, one byte over what a process can be passed is refused, naming it", () => {
  expect(driver.validateConfig({ command: "true", args: ["x", tooLong] })).toEqual([
    { path: "$.args[1]", message: expect.stringMatching(/longer than a process can be passed/) },
  ]);
  const value = "v".repeat(MAX_ARG_BYTES - "X=".length);
  expect(driver.validateConfig({ command: "true", env: { X: value } })).toEqual([
    { path: "$.env.X", message: expect.stringMatching(/longer than a process can be passed/) },
  ]);
  expect(driver.validateConfig({ command: "true", args: [longest], env: { X: value.slice(1) } })).toEqual([]);
});

test("the longest argument and variable allowed are passed to a real process", async () => {
  const child = await spawnProcess(
    {
      command: "sh",
      args: ["-c", 'test ${#1} -eq "$2" && test ${#X} -eq "$3"', "sh", longest, String(longest.length), "131069"],
      env: { X: "v".repeat(131_069) },
      graceMs: 1000,
    },
    "len-1",
  );
  const code = await new Promise((resolve) => child.once("exit", resolve));
  expect(code).toBe(0);
});

test("a PUT with such an argument is refused at it, and creates nothing", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const governor = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  await governor.start();
  try {
    const put = governor.putObject("p1", {
      policy: "on-demand",
      substrate: { driver: "process", config: { command: "echo", args: [tooLong] } },
    });
    await expect(put).rejects.toMatchObject({
      kind: "invalid",
      problems: [{ path: "$.substrate.config.args[0]", message: expect.stringMatching(/longer than/) }],
    });
    expect(await governor.getObject("p1")).toBeNull();
  } finally {
    await governor.close();
  }
});
