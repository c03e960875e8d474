// What the CLI client tests share: a real Vigil app (test services on a virtual clock) served
// over a loopback socket, a command run in process with its output captured, and the real
// binary run as a child process.

import { getRequestListener } from "@hono/node-server";
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Io } from "../../src/cli/client.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { createApp } from "../../src/http/app.ts";
import { afterAll, beforeAll } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

export interface Served {
  url: string;
  services: TestServices;
  close(): Promise<void>;
}

/** A plain node http server on a free loopback port; resolves with its base URL. */
export async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The hono app over the test services, on a socket: what `vigil serve` answers, on a virtual clock. */
export async function serveVigil(tokens: TokenConfig[] = []): Promise<Served> {
  const services = await makeServices({ tokens });
  const app = createApp({ governor: services.governor, policies: services.policies, whatIf: services.whatIf, tokens });
  const server = http.createServer(getRequestListener(app.fetch));
  const url = await listen(server);
  return {
    url,
    services,
    async close() {
      await closeServer(server);
      await services.close();
    },
  };
}

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

type Entry = (args: string[], io: Partial<Io>) => Promise<number>;

/** Runs a command in process against `url`, with stdin `stdin`; no timers wait. */
export async function run(entry: Entry, args: string[], url: string, extra: Partial<Io> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const code = await entry(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: { VIGIL_URL: url },
    stdin: async () => "",
    sleep: async () => {},
    ...extra,
  });
  return { code, out, err };
}

/** The real binary, from the repository root as `npx vigil` runs it. */
export function vigil(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/vigil.js", ...args], {
      env: { ...process.env, VIGIL_URL: "", VIGIL_TOKEN: "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.stdin.end(stdin ?? "");
    // A command that never returned (a stream it kept following) is a failure, not a hang.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Runs a command that writes through `out`: its exit code and everything it wrote. */
export async function capture(
  run: (out: (s: string) => void) => Promise<number>,
): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await run((s) => (out += s));
  return { code, out };
}

/** Runs a command that writes through `out` and `err` (replay, simulate): its exit code and both. */
export async function captureBoth(
  command: (args: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await command(
    args,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

/**
 * A server that records each request's method and URL and answers 500, for the tests of what a
 * command refuses before it sends anything: `seen` stays empty. Served from the enclosing
 * suite's beforeAll to its afterAll.
 */
export function recordingServer(): { seen: string[]; url: () => string } {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(500);
    res.end();
  });
  let url = "";
  beforeAll(async () => {
    url = await listen(server);
  });
  afterAll(() => closeServer(server));
  return { seen, url: () => url };
}
