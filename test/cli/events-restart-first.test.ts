// docs/cli.md, vigil events: "When the stream drops (a server restart), `vigil events` ...
// reconnects ..., sending the last decision's id as `Last-Event-ID`: the server first sends the
// decisions recorded meanwhile, so none is missed." Also when the stream dropped before any
// decision came: the server opens a stream that resumes from no event with an `id:` alone, the
// newest decision so far (README, "Following decisions live"), and the command resumes after it.
// Over the real server, restarted on its file database at the same port.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runEvents, SILENCE_MS } from "../../src/cli/events.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";
import { portOutsideEphemeral } from "../helpers/refusing-port.ts";
import { run } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-events-first-"));
const servers: VigilProcess[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.kill("SIGKILL");
    await s.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const started = async (port: number) => {
  const s = await startVigil({ VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`, VIGIL_LOG_LEVEL: "warn" }, [
    "--port",
    String(port),
  ]);
  servers.push(s);
  return s;
};

const send = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then((r) => r.status);

test("vigil events dropped before any decision came misses none of those recorded while it was away", async () => {
  const port = await portOutsideEphemeral();
  const first = await started(port);
  expect(await send(first.url, "PUT", "/v1/objects/w1", { policy: "queue-worker" })).toBe(201);
  expect(await send(first.url, "PUT", "/v1/objects/w2", { policy: "queue-worker" })).toBe(201);

  // The command arms its silence timer for each read of a stream, the first once the server's
  // reply began (the stream has joined the server's hub by then): each connection is live then.
  let live: () => void = () => {};
  const connected = () => new Promise<void>((resolve) => (live = resolve));
  let reconnect: () => void = () => {};
  const away = new Promise<void>((resolve) => (reconnect = resolve));
  let dropped: () => void = () => {};
  const waiting = new Promise<void>((resolve) => (dropped = resolve));
  let waited = false;
  let out = "";
  const firstLive = connected();
  const following = run(runEvents, ["--object", "w2", "--count", "2"], first.url, {
    out: (s) => (out += s),
    // The wait before reconnecting lasts until the server is back.
    sleep: () => {
      if (waited) return Promise.resolve();
      waited = true;
      dropped();
      return away;
    },
    setTimer: (ms) => {
      if (ms === SILENCE_MS) live();
      return () => {};
    },
  });
  await firstLive;
  // w2's deletion is told (no decision is): the stream stops with no decision printed.
  expect(await send(first.url, "DELETE", "/v1/objects/w2")).toBe(204);
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  await waiting;
  expect(out).toMatch(/^\S+ {2}deleted {2}w2\n$/);

  const second = await started(port);
  // Recorded while the command waits to reconnect: w2 created again.
  expect(await send(second.url, "PUT", "/v1/objects/w2", { policy: "queue-worker" })).toBe(201);
  const secondLive = connected();
  reconnect();
  await secondLive;
  // A decision after the command is back: the count's second event, unless the create came first.
  expect(await send(second.url, "POST", "/v1/objects/w2/facts", { facts: { queue: { depth: 1 } } })).toBe(200);
  expect((await following).code).toBe(0);
  const lines = out.trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/ {2}decision dec_\w+ {2}w2 {2}create {2}none \(dormant\)$/);
});
