// Two real servers on one database file, each PID 1 in a PID namespace of its own (`unshare`),
// on one host name: containers sharing the host's network. The second must be refused while
// the first lives; a review found it taking the lease from the first (the same host and pid).

import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "vigil-lease-ns-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const canUnshare = spawnSync("unshare", ["-Urpf", "--mount-proc", "true"]).status === 0;

/** `vigil serve` as PID 1 of a new PID namespace; resolves with its exit, collecting its log. */
function serveAsPid1(db: string) {
  const child = spawn("unshare", ["-Urpf", "--mount-proc", "--kill-child", process.execPath, "bin/vigil.js", "serve"], {
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: `file:${db}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", () => {
      const m = /listening on (\S+)/.exec(out.stdout);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`exited with ${code}: ${out.stderr}`)));
  });
  listening.catch(() => undefined);
  /** Signals the server itself: unshare forks it, and waits. */
  const signal = (name: NodeJS.Signals) => {
    const pid = Number(execFileSync("pgrep", ["-P", String(child.pid)], { encoding: "utf8" }).trim());
    process.kill(pid, name);
  };
  return { child, out, exit, listening, signal };
}

describe.skipIf(!canUnshare)("two servers as PID 1 of their own PID namespaces, one host name", () => {
  test("the second waits for the first's renewal, is refused, and the first governs on", async () => {
    const db = join(dir, "shared.db");
    const first = serveAsPid1(db);
    const url = await first.listening;
    const second = serveAsPid1(db);
    expect(await second.exit).toBe(1);
    expect(second.out.stderr).toContain("waiting for the lease of a holder on this host");
    expect(second.out.stderr).toMatch(/another Vigil server governs this database: process 1 on \S+ pid:\[\d+\]/);
    expect(second.out.stdout).not.toContain("listening");
    // The first still holds it: ready, and still there after its next renewal.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    first.signal("SIGTERM");
    expect(await first.exit).toBe(0);
    expect(first.out.stderr).not.toContain("lease was lost");
  });
});
