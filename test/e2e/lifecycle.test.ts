// The server's life as an operator sees it: a graceful shutdown drains (readyz turns 503, the
// requests inside finish and commit, exit 0; SIGHUP as SIGTERM, with a stderr that refuses every
// line too, and in a terminal that was closed, which it leaves by SIGHUP; a second signal does
// not cut it short; one that overruns its timeout still releases the lease); a port that cannot
// be bound stops everything with a non-zero exit; a second server on the same database refuses
// to start, naming the holder; and `npm start` does not leave the server running when npm itself
// is killed.

import { createClient } from "@libsql/client";
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, onTestFinished, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-life-"));
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function started(env: Record<string, string>): Promise<VigilProcess> {
  const p = await startVigil(env);
  running.push(p);
  return p;
}

/**
 * Sends a POST's head with `Expect: 100-continue` and holds its body back: once the server
 * answers "100 Continue" it has let the request in. `finish` sends the body.
 */
async function heldBack(url: string, path: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let reply = "";
  socket.on("data", (d) => (reply += d.toString()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n`,
  );
  await until(() => reply.includes("100 Continue"));
  return {
    finish: async () => {
      socket.write(body);
      await closed;
      return reply;
    },
  };
}

/** Polls until `check` holds; the loop is bounded by the test's own timeout. */
/** The lease's rows in the database file `db`: none once a server released it. */
async function leaseRows(db: string): Promise<unknown[]> {
  const c = createClient({ url: `file:${db}` });
  try {
    return (await c.execute("SELECT owner FROM lease")).rows;
  } finally {
    c.close();
  }
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

describe("graceful shutdown", () => {
  test("SIGTERM: readyz 503, new requests 503, the arrival inside finishes and commits, exit 0", async () => {
    const db = join(dir, "drain.db");
    const vigil = await started({ VIGIL_DB_URL: `file:${db}` });
    const put = await fetch(`${vigil.url}/v1/objects/w`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    expect(put.status).toBe(201);

    const inside = await heldBack(vigil.url, "/v1/objects/w/facts", JSON.stringify({ facts: { queue: { depth: 4 } } }));
    vigil.kill("SIGTERM");
    await until(async () => (await fetch(`${vigil.url}/readyz`)).status === 503);

    const refused = await fetch(`${vigil.url}/v1/objects/w`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(((await refused.json()) as { detail: string }).detail).toContain("shutting down");
    expect((await fetch(`${vigil.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${vigil.url}/healthz?probe=liveness`)).status).toBe(200);

    const reply = await inside.finish();
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(await vigil.exited).toBe(0);

    const c = createClient({ url: `file:${db}` });
    const row = await c.execute("SELECT memory, memory_version FROM objects WHERE id = 'w'");
    c.close();
    expect(JSON.parse(String(row.rows[0]!.memory))).toEqual({ queue: { depth: 4 } });
    expect(Number(row.rows[0]!.memory_version)).toBe(1);
  });
});

describe("graceful shutdown, pressed", () => {
  async function serverWithObject(name: string, env: Record<string, string>) {
    const db = join(dir, `${name}.db`);
    const vigil = await started({ VIGIL_DB_URL: `file:${db}`, ...env });
    const put = await fetch(`${vigil.url}/v1/objects/w`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    expect(put.status).toBe(201);
    return { vigil, db };
  }

  test("a second SIGTERM during the drain does not cut it short: the request inside gets its reply, exit 0", async () => {
    const { vigil } = await serverWithObject("twice", {});
    const inside = await heldBack(vigil.url, "/v1/objects/w/facts", JSON.stringify({ facts: { queue: { depth: 4 } } }));
    vigil.kill("SIGTERM");
    await until(async () => (await fetch(`${vigil.url}/readyz`)).status === 503);
    vigil.kill("SIGTERM");
    await until(() => vigil.log().includes("already shutting down"));
    expect(await inside.finish()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(await vigil.exited).toBe(0);
    expect(vigil.child.signalCode).toBeNull();
  });

  test("SIGHUP (a closed terminal or ssh session) drains as SIGTERM does: the request inside gets its reply, the lease is released, exit 0", async () => {
    const { vigil, db } = await serverWithObject("hangup", {});
    const inside = await heldBack(vigil.url, "/v1/objects/w/facts", JSON.stringify({ facts: { queue: { depth: 4 } } }));
    vigil.kill("SIGHUP");
    expect(await inside.finish()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(await vigil.exited).toBe(0);
    expect(vigil.child.signalCode).toBeNull();
    expect(vigil.log()).toContain('"reason":"SIGHUP"');
    expect(await leaseRows(db)).toEqual([]);
  });

  // A closed terminal's stderr refuses every line (EIO), as /dev/full does (ENOSPC): the drain's
  // first line threw, before the drain began, and the process died with the lease held.
  test("a stderr that refuses every line (a closed terminal, a full disk): the server starts, and SIGHUP still drains, releases the lease, exit 0", async () => {
    const db = join(dir, "stderr-full.db");
    const full = openSync("/dev/full", "w");
    const child = spawn(process.execPath, ["bin/vigil.js", "serve", "--port", "0"], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_LOG_LEVEL: "info", VIGIL_DB_URL: `file:${db}` },
      stdio: ["ignore", "pipe", full],
    });
    closeSync(full);
    onTestFinished(() => void child.kill("SIGKILL"));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    await until(() => stdout.includes("listening on") || child.exitCode !== null);
    const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    expect(url, `exited ${child.exitCode} before listening`).toBeDefined();
    const put = await fetch(`${url}/v1/objects/w`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    expect(put.status).toBe(201);
    const inside = await heldBack(url!, "/v1/objects/w/facts", JSON.stringify({ facts: { queue: { depth: 4 } } }));
    child.kill("SIGHUP");
    expect(await inside.finish()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(await exited).toBe(0);
    expect(await leaseRows(db)).toEqual([]);
  });

  // A terminal closed under the server (run in it by a shell, through `script`'s
  // pseudo-terminal): the shell is told, and hangs its jobs up. Node's exit then aborted, after
  // the drain, on restoring the closed terminal's settings.
  // `script` is util-linux's (Debian's bsdutils, an essential package: every Debian has it).
  test("a terminal closed under the server: SIGHUP drains, releases the lease, and ends it by SIGHUP, not an abort", async () => {
    const db = join(dir, "closed-terminal.db");
    const pidFile = join(dir, "closed-terminal.pid");
    const statusFile = join(dir, "closed-terminal.status");
    // The shell ignores the hang-up, so that it is there to write how its job ended.
    const command =
      `trap "" HUP; "${process.execPath}" bin/vigil.js serve --port 0 & echo $! > "${pidFile}"; ` +
      `wait $!; echo $? > "${statusFile}"`;
    const terminal = spawn("script", ["-qfec", command, "/dev/null"], {
      env: {
        ...process.env,
        SHELL: "/bin/sh",
        VIGIL_TOKENS: "",
        VIGIL_LOG_LEVEL: "info",
        VIGIL_DB_URL: `file:${db}`,
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    let pid = 0;
    onTestFinished(() => {
      terminal.kill("SIGKILL");
      if (pid > 0 && !existsSync(statusFile)) process.kill(pid, "SIGKILL");
    });
    let shown = "";
    terminal.stdout.on("data", (d: Buffer) => (shown += d.toString()));
    await until(() => shown.includes("listening on") && existsSync(pidFile));
    pid = Number(readFileSync(pidFile, "utf8"));
    // The terminal closes: its pseudo-terminal's other side is gone with `script`.
    const closed = new Promise((resolve) => terminal.once("exit", resolve));
    terminal.kill("SIGKILL");
    await closed;
    process.kill(pid, "SIGHUP");
    await until(() => existsSync(statusFile) && readFileSync(statusFile, "utf8").endsWith("\n"));
    // 128 + 1: SIGHUP, where an abort is 134.
    expect(readFileSync(statusFile, "utf8").trim()).toBe("129");
    expect(await leaseRows(db)).toEqual([]);
  });

  test("a drain that overruns VIGIL_DRAIN_TIMEOUT exits 1, and still closes everything and releases the lease", async () => {
    const { vigil, db } = await serverWithObject("overrun", { VIGIL_DRAIN_TIMEOUT: "PT1S" });
    await heldBack(vigil.url, "/v1/objects/w/facts", JSON.stringify({ facts: { queue: { depth: 4 } } })); // never finished
    vigil.kill("SIGTERM");
    expect(await vigil.exited).toBe(1);
    // A replacement (another host, another container) need not wait for the lease to run out.
    expect(await leaseRows(db)).toEqual([]);
  });
});

describe("start-up failures", () => {
  test("a port that is taken: the second server says so and exits non-zero", async () => {
    const first = await started({ VIGIL_DB_URL: `file:${join(dir, "port-a.db")}` });
    const port = new URL(first.url).port;
    const second = spawn(process.execPath, ["bin/vigil.js", "serve", "--port", port], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: `file:${join(dir, "port-b.db")}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    second.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    // The first one is untouched.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
  });
});

describe("one governor per database", () => {
  test("a second server on the same database exits non-zero, naming the holder; after the first stops it starts", async () => {
    const db = `file:${join(dir, "lease.db")}`;
    const first = await started({ VIGIL_DB_URL: db });
    const second = spawn(process.execPath, ["bin/vigil.js", "serve", "--port", "0"], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: db },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    second.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("another Vigil server governs this database");
    expect(stderr).toContain(`process ${first.child.pid} on`);

    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const third = await started({ VIGIL_DB_URL: db });
    expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
  });

  test("a server killed with -9 leaves a lease the next server on this host takes over at once", async () => {
    const db = `file:${join(dir, "lease-kill.db")}`;
    const first = await started({ VIGIL_DB_URL: db });
    first.kill("SIGKILL");
    await first.exited;
    const second = await started({ VIGIL_DB_URL: db });
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
  });
});

describe("npm start", () => {
  test("when npm is killed, the server it started shuts down instead of running on", async () => {
    const db = join(dir, "npm.db");
    const npm = spawn("npm", ["start", "--silent"], {
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: `file:${db}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    npm.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    await until(() => /listening on http/.test(stdout));
    // The server's pid, from the lease it holds on its database.
    const c = createClient({ url: `file:${db}` });
    const pid = Number((await c.execute("SELECT pid FROM lease")).rows[0]!.pid);
    c.close();
    const alive = () => {
      try {
        return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    npm.kill("SIGKILL");
    await until(() => !alive());
  });
});
