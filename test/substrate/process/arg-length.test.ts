// An argument or a variable longer than Linux passes to a process (MAX_ARG_STRLEN, 128 KiB with
// its NUL): the PUT answered 200 and every start failed with `spawn E2BIG`, leaving the object
// `failed`, where a value no process can be passed is a 422 (as one with a NUL is). Found by a
// review of the process driver. The longest that is refused no more is run for real.

import { expect, test } from "vitest";
import { MAX_ARG_BYTES, MAX_ARGS_ENV_BYTES } from "../../../src/substrate/process/config.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { spawnProcess } from "../../../src/substrate/process/spawn.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { putProcessObject } from "../../helpers/process-put.ts";

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

// A later review: the arguments and variables together were not bounded, and Linux refuses a
// process given more than a quarter of its stack limit (2 MiB with the usual 8 MiB) with E2BIG:
// 250,000 one-letter arguments, a 1 MB body the PUT takes, were accepted and failed every start.
// Each string counts with its NUL and its 8-byte pointer, as execve() takes them.

/** 8 arguments and 8 variables (`V0`..`V7`) that take MAX_ARGS_ENV_BYTES together, to the byte. */
const args = Array.from({ length: 8 }, () => "a".repeat(MAX_ARGS_ENV_BYTES / 16 - 9));
const env = Object.fromEntries(args.map((a, i) => [`V${i}`, a.slice(`V${i}=`.length)]));

test("arguments and variables that together take more than a process can be passed are refused, naming the total", () => {
  const many = Array.from({ length: 250_000 }, () => "a");
  expect(driver.validateConfig({ command: "true", args: many })).toEqual([
    { path: "$", message: expect.stringMatching(/^args and env together take 2500000 bytes .*\(E2BIG\)$/) },
  ]);
  expect(driver.validateConfig({ command: "true", args, env: { ...env, V7: `${env.V7}v` } })).toEqual([
    { path: "$", message: expect.stringMatching(/together take 1048577 bytes/) },
  ]);
  expect(driver.validateConfig({ command: "true", args: [...args, ""], env })).toEqual([
    { path: "$", message: expect.stringMatching(/together take 1048585 bytes/) },
  ]);
  expect(driver.validateConfig({ command: "true", args, env })).toEqual([]);
});

test("the most arguments and variables allowed together are passed to a real process", async () => {
  const child = await spawnProcess({ command: "true", args, env, graceMs: 1000 }, "len-2");
  const code = await new Promise((resolve) => child.once("exit", resolve));
  expect(code).toBe(0);
});

test.each([
  ["an argument", { command: "echo", args: [tooLong] }, "$.substrate.config.args[0]", /longer than/],
  [
    "arguments and variables too large together",
    { command: "echo", args: [...args, ""], env },
    "$.substrate.config",
    /together take/,
  ],
])("a PUT with %s is refused at it, and creates nothing", async (_, config, path, message) => {
  expect(await putProcessObject(config)).toEqual({
    rejected: expect.objectContaining({
      kind: "invalid",
      problems: [{ path, message: expect.stringMatching(message) }],
    }),
    stored: false,
  });
});
