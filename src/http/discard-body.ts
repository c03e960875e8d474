// What is left unread of a request's body once its reply is decided: read and thrown away, up
// to a bound, so that the connection can serve the next request; past the bound the server
// reads no more. The fast path uses it, and so does node-server.ts for a Host it refuses: a
// client the server refused (no token, a bad Host) cannot make it read a large body. So does
// node-server.ts for a reply of hono's routes sent before its request's body was all received,
// which hono's adapter would otherwise read on for up to 500 ms or 64 MiB.

import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The most of a refused request's body read (and thrown away) so that its connection can serve
 * the next request. Past it the server reads no more and ends its side of the connection once
 * the reply is out: a client the gate refused cannot make it read a large body. (Ending, not
 * destroying: a socket closed with unread bytes resets the connection, and the client may lose
 * the reply; Node's request timeout closes what the client leaves open.)
 */
export const DISCARD_LIMIT = 64 * 1024;

/** Lets the rest of an unread body go, up to DISCARD_LIMIT bytes (the reply is sent first). */
export function discardBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.readableEnded || req.destroyed) return;
  let seen = 0;
  let ended = false;
  const end = () => req.socket.end();
  req.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= DISCARD_LIMIT) return;
    // Paused again at every chunk past the bound: what resumes it (hono's adapter drains what a
    // reply left unread once the reply closes) gets a chunk more, not the rest of the body.
    req.pause();
    if (!ended) {
      ended = true;
      if (res.writableFinished) end();
      else res.once("finish", end);
    }
  });
  req.resume();
}
