// A write to stdout that fails other than by a reader that stopped reading (here a full disk,
// /dev/full: ENOSPC) ends the command with one line that says so and exit 2, not a stack trace.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

test.skipIf(!existsSync("/dev/full")).each([[["schema"]], [["simulate", "--generate", "trickle", "--objects", "20"]]])(
  "vigil %j to a full disk: one line and exit 2",
  async (args) => {
    const full = openSync("/dev/full", "w");
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", full, "pipe"] });
    closeSync(full);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect({ code, stderr }).toEqual({
      code: 2,
      stderr: `vigil ${args[0]}: cannot write the output: ENOSPC: no space left on device, write\n`,
    });
  },
);
