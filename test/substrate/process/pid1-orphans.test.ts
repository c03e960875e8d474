// `vigil serve` as PID 1 (node as a container's command, as the Dockerfile runs it) reaps no
// orphans: a process of a governed tree whose parent exits first is handed to PID 1, and Node
// waits only for the children it spawned, so each stays a zombie until the server exits (found
// in review). Node cannot reap what it did not spawn; the remedy is an init (docs/deploy.md), and
// a server that enables the process driver as PID 1 says so once at start. The real server runs
// here as PID 1 of a pid namespace of its own (`unshare`), as in a container; and under the
// Dockerfile's init (tini), as in its image, where it is not PID 1.

import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { ensureDebianProgram, TINI } from "../../helpers/debian-package.ts";
import { ORPHANS_AT_PID1 } from "../../../src/substrate/process/spawn.ts";
import { startVigil, type VigilProcess } from "../../helpers/process.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

const canUnshare = spawnSync("unshare", ["-Urpf", "--mount-proc", "true"]).status === 0;
const title = canUnshare
  ? "the server as PID 1"
  : "the server as PID 1: SKIPPED, this machine cannot make user and pid namespaces (unshare -Urpf)";

const running: { kill: () => void; exited: Promise<unknown> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.kill();
    await r.exited;
  }
});

/**
 * The log (stderr) of `vigil serve` run as PID 1 of a new pid namespace, once it listens; under
 * `init` (its command line), which is PID 1 then.
 */
async function serveAsPid1(env: Record<string, string>, init: string[] = []): Promise<string> {
  // Its own process group: a SIGTERM to the group reaches the server (unshare ignores it).
  const child = spawn(
    "unshare",
    ["-Urpf", "--mount-proc", ...init, process.execPath, "bin/vigil.js", "serve", "--port", "0", "--db", ":memory:"],
    {
      cwd: ROOT,
      env: { ...process.env, VIGIL_LOG_LEVEL: "info", VIGIL_TOKENS: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  running.push({ kill: () => process.kill(-child.pid!, "SIGTERM"), exited });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("listening on")) resolve();
    });
    void exited.then((code) => reject(new Error(`vigil exited with ${code} before listening:\n${stderr}`)));
  });
  return stderr;
}

const warnings = (log: string): string[] =>
  log
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: string; msg: string })
    .filter((l) => l.msg === ORPHANS_AT_PID1)
    .map((l) => l.level);

describe.skipIf(!canUnshare)(title, () => {
  test("with the process driver enabled, it warns once that it reaps no orphans", async () => {
    const log = await serveAsPid1({ VIGIL_DRIVERS: "simulated,process" });
    expect(warnings(log)).toEqual(["warn"]);
    expect(ORPHANS_AT_PID1).toContain("docker run --init");
  });

  test("without the process driver, it does not", async () => {
    const log = await serveAsPid1({ VIGIL_DRIVERS: "simulated" });
    expect(log).toContain('"msg":"drivers enabled"');
    expect(warnings(log)).toEqual([]);
  });
});

/**
 * The Dockerfile's ENTRYPOINT, with this machine's tini: Debian's package, which the Dockerfile
 * installs too (test/setup installs it as root, as in CI; otherwise the test says what to install).
 */
const entrypoint = (): string[] => {
  ensureDebianProgram(TINI);
  const line = /^ENTRYPOINT\s+(\[.*\])$/m.exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const [init, ...args] = JSON.parse(line![1]!) as string[];
  expect(init).toBe("tini");
  return [TINI.path, ...args];
};

describe.skipIf(!canUnshare)(`${title}, under the image's tini`, () => {
  test("tini is PID 1 and reaps, so the server does not warn; SIGTERM still drains it (exit 0)", async () => {
    const log = await serveAsPid1({ VIGIL_DRIVERS: "simulated,process" }, entrypoint());
    expect(log).toContain('"msg":"drivers enabled"');
    expect(warnings(log)).toEqual([]);
    const r = running.pop()!;
    r.kill();
    expect(await r.exited).toBe(0);
  });
});

test("a server that is not PID 1 does not warn", async () => {
  const vigil: VigilProcess = await startVigil({ VIGIL_DB_URL: ":memory:", VIGIL_DRIVERS: "simulated,process" });
  running.push({ kill: () => vigil.kill("SIGTERM"), exited: vigil.exited });
  expect(vigil.log()).toContain('"msg":"drivers enabled"');
  expect(warnings(vigil.log())).toEqual([]);
});
