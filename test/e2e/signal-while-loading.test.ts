// A signal while `vigil serve` is still loading its code (tsx registering, the CLI's modules
// being transpiled: most of a second, before the first log line). README, "Shutdown": a signal
// during start-up is handled too, and the server exits 0. A review found SIGTERM killing the
// process then (143 to a shell), and a container whose node is PID 1 ignores a signal nothing
// handles, so `docker stop` would wait out its whole grace period. The signal is sent 150 ms
// after node has booted (a preload module's marker line): while tsx and the CLI still load.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "vigil-loading-signal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MARK = "node-booted";
const preload = `data:text/javascript,process.stderr.write(${JSON.stringify(MARK + "\n")})`;

test.each(["SIGTERM", "SIGINT"] as const)(
  "%s while the code is loading: exit 0, not killed",
  async (signal) => {
    const child = spawn(process.execPath, ["--import", preload, "bin/vigil.js", "serve"], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: `file:${join(dir, `${signal}.db`)}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    let sent = false;
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      if (!sent && log.includes(MARK)) {
        sent = true;
        setTimeout(() => child.kill(signal), 150);
      }
    });
    const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, sig) => resolve({ code, signal: sig })),
    );
    expect(sent).toBe(true);
    expect(end).toEqual({ code: 0, signal: null });
    expect(log).toContain(`"reason":"${signal}"`);
    expect(log).not.toContain('"msg":"listening"');
  },
  30_000,
);
