// A signal while the server is still starting: the handlers are set before start-up, so that it
// stops start-up once the step under way is done, closes what it had opened, releases the
// database's lease (a replacement need not wait 15 s for it) and exits 0 as after a drain. It
// used to kill the server at once (143), the lease left held. The signal is sent when a given
// start-up line is logged: whenever it is handled from there, the outcome must be the same.

import { createClient } from "@libsql/client";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "vigil-startup-signal-"));
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `vigil serve` on a new database file; `when(log, send)` is called with the log so far
 * at each chunk of it, and may send signals. Resolves how it ended and what it logged.
 */
function serve(db: string, when: (log: string, send: (s: NodeJS.Signals) => void) => void) {
  const child = spawn(process.execPath, ["bin/vigil.js", "serve"], {
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: `file:${db}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let log = "";
  child.stderr.on("data", (d: Buffer) => {
    log += d.toString();
    when(log, (s) => child.kill(s));
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; log: string }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, log })),
  );
}

/** The lease rows a database holds (none when start-up stopped before the tables were made). */
async function leaseRows(db: string): Promise<unknown[]> {
  const c = createClient({ url: `file:${db}` });
  try {
    const table = await c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lease'");
    return table.rows.length === 0 ? [] : (await c.execute("SELECT owner, host, pid FROM lease")).rows;
  } finally {
    c.close();
  }
}

test.each([
  ["SIGTERM", "drivers enabled"],
  ["SIGTERM", "policies loaded"],
  ["SIGINT", "policies loaded"],
  ["SIGTERM", "listening"],
] as const)("%s when %j is logged: exit 0, the lease released", async (signal, line) => {
  const db = join(dir, `${signal}-${line.replace(/ /g, "-")}.db`);
  let sent = false;
  const r = await serve(db, (log, send) => {
    if (!sent && log.includes(`"msg":"${line}"`)) {
      sent = true;
      send(signal);
    }
  });
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  expect(r.log).toContain(`"reason":"${signal}","msg":"shutting down"`);
  expect(r.log).not.toContain('"level":"error"');
  expect(await leaseRows(db)).toEqual([]);
});

test("a second signal during start-up's stop does not cut it short", async () => {
  const db = join(dir, "twice.db");
  let sent = 0;
  const r = await serve(db, (log, send) => {
    if (sent === 0 && log.includes('"msg":"policies loaded"')) {
      sent = 1;
      send("SIGTERM");
    }
    if (sent === 1 && log.includes('"msg":"shutting down"')) {
      sent = 2;
      send("SIGTERM");
    }
  });
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  expect(await leaseRows(db)).toEqual([]);
});
