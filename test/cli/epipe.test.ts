// A reader that stops reading (`vigil ... | head -1`) ends the command quietly, not with an
// EPIPE stack trace, and with exit 2 when the command had not finished (never 0).

import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

test("a command cut short by a closed stdout exits 2, not 0: `vigil test | head -1` passes no fixture it did not run", async () => {
  // A fixture that passes, then one that fails: the first line printed (the pass) meets a closed
  // pipe while the failing fixture is still to run.
  const dir = mkdtempSync(join(tmpdir(), "vigil-epipe-"));
  try {
    copyFileSync(
      fileURLToPath(new URL("../../fixtures/on-demand/freeze-thaw.json", import.meta.url)),
      join(dir, "a.json"),
    );
    const failing = {
      policy: "on-demand",
      start: "2026-03-01T12:00:00Z",
      steps: [{ facts: { work: { pending: 2 } }, expect: { state: "dormant" } }],
    };
    writeFileSync(join(dir, "b.json"), JSON.stringify(failing));
    const child = spawn(process.execPath, [BIN, "test", dir], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 2, stderr: "" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.each([
  [["validate", "/nonexistent/policy.json"], 2],
  [["objects", "get", "worker-1", "--url", "http://127.0.0.1:6666"], 2],
])("vigil %j with its stderr closed still exits %i, not 1 from a crash on the lost message", async (args, expected) => {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr.destroy();
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  expect(code).toBe(expected);
});

test("vigil serve whose stdout reader is gone goes on serving, and drains on SIGTERM (exit 0)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-epipe-serve-"));
  try {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", `file:${join(dir, "vigil.db")}`], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_HOST: "127.0.0.1" },
    });
    // Gone before `vigil listening on ...` is written to it.
    child.stdout.destroy();
    let stderr = "";
    const closed = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    await new Promise<void>((resolve) =>
      child.stderr.setEncoding("utf8").on("data", (s: string) => {
        stderr += s;
        if (stderr.includes('"msg":"listening"')) resolve();
      }),
    );
    child.kill("SIGTERM");
    expect(await closed).toBe(0);
    expect(stderr).toContain('"reason":"SIGTERM"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
