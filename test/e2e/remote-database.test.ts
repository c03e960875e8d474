// A remote libsql server (VIGIL_DB_URL http://…) that cannot be reached, does not answer, or
// refuses the token, served by a fake Hrana server (helpers/hrana-fake.ts) over a real SQLite
// file. Start-up used to wait for undici's own 300 s with no log line, ignore a signal
// meanwhile, and end with only "fetch failed"; its errors named neither VIGIL_DB_URL nor the token.
//
// Each test waits on the server's own exit, and keeps the suite's 60 s (vitest.config.ts) as its
// bound: a start of `vigil serve` loads its code for one to several seconds on a loaded machine,
// some tests start three in a row, and two wait out the 15 s start-up bound on top of one. They
// had bounds of 20 and 30 s of their own: the token test took 28.8 s of its 30 with the e2e files
// on one busy core, and ran out of them with more load.

import { spawn } from "node:child_process";
import { createServer as httpServer, type ServerResponse } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startHranaFake } from "../helpers/hrana-fake.ts";
import { refusingPort } from "../helpers/refusing-port.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-remote-"));
const children: ReturnType<typeof spawn>[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const c of cleanups) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** `vigil serve` on `env`; `when(log, send)` at each chunk of its log. Resolves how it ended. */
function serve(env: Record<string, string>, when: (log: string, send: (s: NodeJS.Signals) => void) => void = () => {}) {
  const child = spawn(process.execPath, ["bin/vigil.js", "serve"], {
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_AUTH_TOKEN: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let log = "";
  const seen = (d: Buffer) => {
    log += d.toString();
    when(log, (s) => child.kill(s));
  };
  child.stderr.on("data", seen);
  child.stdout.on("data", seen);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; log: string }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, log })),
  );
}

/** A TCP server that accepts connections and never answers. */
async function silent(): Promise<string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

const cannotStart = (log: string) =>
  log
    .split("\n")
    .filter((l) => l.includes('"msg":"cannot start"'))
    .map((l) => (JSON.parse(l) as { error: string }).error);

test.each(["http", "ws"])(
  "a signal while a %s database does not answer stops start-up at once: exit 0",
  async (scheme) => {
    const url = `${scheme}://${await silent()}`;
    let sent = false;
    const r = await serve({ VIGIL_DB_URL: url }, (log, send) => {
      if (!sent && log.includes('"msg":"policies loaded"')) {
        sent = true;
        send("SIGTERM");
      }
    });
    expect({ code: r.code, signal: r.signal }, r.log).toEqual({ code: 0, signal: null });
    expect(r.log).toContain('"reason":"SIGTERM","msg":"shutting down"');
    expect(r.log).not.toContain('"level":"error"');
  },
);

test.each(["http", "ws"])(
  "a %s database that never answers stops start-up after 15 s, naming VIGIL_DB_URL: exit 1",
  async (scheme) => {
    const url = `${scheme}://${await silent()}`;
    const r = await serve({ VIGIL_DB_URL: url });
    expect(r.code, r.log).toBe(1);
    expect(cannotStart(r.log)).toEqual([`VIGIL_DB_URL: the database at ${url} did not answer within 15 s`]);
  },
);

test("a refused connection, an unknown host: exit 1 naming VIGIL_DB_URL and why", async () => {
  // A port that refuses connections, held so while the three servers start (one let go could be
  // taken by a listen(0) meanwhile, here or in another test file's process).
  const port = await refusingPort();
  for (const [url, reason] of [
    [`http://127.0.0.1:${port}`, "refused the connection"],
    [`ws://127.0.0.1:${port}`, "refused the connection"],
    ["http://no-such-host.invalid", "could not be found (its host name does not resolve)"],
  ]) {
    const r = await serve({ VIGIL_DB_URL: url! });
    expect(r.code, r.log).toBe(1);
    expect(cannotStart(r.log)).toEqual([`VIGIL_DB_URL: the database at ${url} ${reason}`]);
  }
});

/** The URL of an HTTP server on port 0 that answers every request with `answer` (not a libsql server); closed after the test. */
async function otherHttpService(answer: (res: ServerResponse) => void): Promise<string> {
  const server = httpServer((_, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

test("a server that is not a libsql server (HTTP 404): exit 1 naming VIGIL_DB_URL", async () => {
  const url = await otherHttpService((res) => res.writeHead(404, { "content-type": "text/plain" }).end("Not Found"));
  const r = await serve({ VIGIL_DB_URL: url });
  expect(r.code, r.log).toBe(1);
  expect(cannotStart(r.log)).toEqual([
    `VIGIL_DB_URL: the database at ${url} answered HTTP 404: is VIGIL_DB_URL the address of a libsql server?`,
  ]);
});

test.each([
  ["a page", "text/html", "<html><body>hello</body></html>"],
  ["JSON of another shape", "application/json", '{"hello":"world"}'],
])("a server that answers 200 with %s: exit 1 naming VIGIL_DB_URL", async (_, type, body) => {
  // It said only JSON's SyntaxError ("Unexpected token '<'") or the client's HRANA_PROTO_ERROR.
  const url = await otherHttpService((res) => res.writeHead(200, { "content-type": type }).end(body));
  const r = await serve({ VIGIL_DB_URL: url });
  expect(r.code, r.log).toBe(1);
  expect(cannotStart(r.log)).toEqual([
    `VIGIL_DB_URL: the database at ${url} answered with a reply that is not a libsql server's: is VIGIL_DB_URL the address of a libsql server?`,
  ]);
});

test("a token the server refuses, or none: exit 1 naming VIGIL_DB_AUTH_TOKEN, never the token", async () => {
  const fake = await startHranaFake(join(dir, "token.db"), { token: "right-token" });
  cleanups.push(() => fake.close());
  for (const token of ["", "wrong-token"]) {
    const r = await serve({ VIGIL_DB_URL: fake.url, VIGIL_DB_AUTH_TOKEN: token });
    expect(r.code, r.log).toBe(1);
    expect(cannotStart(r.log)).toEqual([
      `VIGIL_DB_URL: the database at ${fake.url} refused the token (HTTP 401): VIGIL_DB_AUTH_TOKEN is missing, or not a token it accepts`,
    ]);
    expect(r.log).not.toContain("-token");
  }
  // The right one: it starts.
  let up = false;
  const r = await serve({ VIGIL_DB_URL: fake.url, VIGIL_DB_AUTH_TOKEN: "right-token" }, (log, send) => {
    if (!up && log.includes("vigil listening on")) {
      up = true;
      send("SIGTERM");
    }
  });
  expect(r.code, r.log).toBe(0);
});
