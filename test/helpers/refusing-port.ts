// A loopback port where a connection is refused, held so for the test: a port taken by a server
// and let go could be taken again by any `listen(0)` in this process or a child before the test
// connects (the suite starts servers on port 0 all the time), and the test would then meet that
// server instead of a refusal.
//
// The port held is the local port of an open client connection: nothing listens on it, so the
// kernel answers a connection to it with a reset (ECONNREFUSED, as for a port nobody uses), and
// while the connection is open no other socket can bind it, not even a server asking for that
// very port (a client socket is not opened with SO_REUSEADDR) nor one asking for any free port.

import { readFileSync } from "node:fs";
import net from "node:net";
import { onTestFinished } from "vitest";

/** A loopback port that refuses connections until the test finishes. Call it inside a test. */
export async function refusingPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
  const peer = await accepted;
  // Listening no more; the connection stays, and with it the client's port.
  server.close();
  onTestFinished(() => {
    client.destroy();
    peer.destroy();
  });
  return client.localPort!;
}

/** The first port of the kernel's range for ports given on request (listen(0), a connection's own end). */
export function ephemeralFloor(): number {
  return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
}

/**
 * Has `server` listen on a loopback port below that range, and resolves with its base URL: for a
 * test whose server must go away and then refuse for good (a client that retries it). Once it
 * closes, no `listen(0)` nor any connection's own end is given that port; only a server asking
 * for that very number could take it, and the suite's servers ask for port 0.
 */
export async function listenOutsideEphemeral(server: net.Server): Promise<string> {
  const floor = ephemeralFloor();
  for (let port = floor - 1 - Math.floor(Math.random() * 8192); port > 1024; port--) {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once("error", resolve);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", resolve);
        resolve(null);
      });
    });
    if (error === null) return `http://127.0.0.1:${port}`;
    if (error.code !== "EADDRINUSE") throw error;
  }
  throw new Error(`no free loopback port below ${floor}`);
}

/**
 * A loopback port below the kernel's range for ports given on request, free now: for a server
 * that must be started on a known port, and again on the same one after a restart. A port from
 * `listen(0)` let go could meanwhile be given to another test file's `listen(0)` or a
 * connection's own end (two files run at once), and the start would fail EADDRINUSE.
 */
export async function portOutsideEphemeral(): Promise<number> {
  const probe = net.createServer();
  const url = await listenOutsideEphemeral(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return Number(new URL(url).port);
}
