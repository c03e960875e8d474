// A reader that stops reading (`vigil ... | head -1`) ends the command quietly, not with an
// EPIPE stack trace.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

test("a closed stdout ends the command quietly", async () => {
  const child = spawn(process.execPath, [BIN, "schema"], { stdio: ["ignore", "pipe", "pipe"] });
  // Close the read end before the command writes: its write then fails with EPIPE.
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  expect(stderr).not.toContain("EPIPE");
  expect(code).toBe(0);
});
