// The door of the HTTP server during a graceful shutdown. Once closed, every new request (the
// readiness probe included, so that load balancers stop sending) gets a 503 problem and its
// connection is closed, while the requests already inside finish; `/healthz` still answers,
// since the process is alive until it exits. The listener stays open meanwhile, so that a
// probe sees the 503 instead of a refused connection.

import type { IncomingMessage, ServerResponse } from "node:http";
import { pathOf } from "./access-log.ts";
import { problemBody, PROBLEM_CONTENT_TYPE } from "./problem.ts";

/** What a request turned away at shutdown is told, and how soon to retry (seconds). */
export const SHUTTING_DOWN = "the server is shutting down; retry on another instance";
export const SHUTDOWN_RETRY_AFTER = "1";

export class DrainGate {
  private draining = false;
  private inside = 0;
  private emptied: (() => void)[] = [];
  /**
   * Per connection, the requests inside that it carries. Node never closes the reply of a
   * request pipelined behind one still being sent if the connection dies first: the connection's
   * close lets them all out, or the drain would wait for them until its timeout.
   */
  private readonly carried = new WeakMap<object, Set<() => void>>();

  /**
   * Lets the request in (counting it until its reply is done) or, when closed, answers it
   * with a 503; returns whether it was let in.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    // The liveness probe's path, with or without a query string, in origin or absolute form.
    if (this.draining && pathOf(req.url) !== "/healthz") {
      const body = JSON.stringify(problemBody("unavailable", SHUTTING_DOWN));
      res.writeHead(503, {
        "content-type": PROBLEM_CONTENT_TYPE,
        "content-length": Buffer.byteLength(body),
        "retry-after": SHUTDOWN_RETRY_AFTER,
        connection: "close",
      });
      res.end(body);
      return false;
    }
    this.inside++;
    const socket = req.socket;
    let carried = this.carried.get(socket);
    if (!carried) {
      const requests = new Set<() => void>();
      this.carried.set(socket, (carried = requests));
      socket.once("close", () => {
        for (const out of requests) out();
      });
    }
    const requests = carried;
    const out = () => {
      if (!requests.delete(out)) return;
      this.inside--;
      if (this.inside === 0) for (const r of this.emptied.splice(0)) r();
    };
    requests.add(out);
    res.once("close", out);
    return true;
  }

  /** Refuses new requests from now on; resolves when the requests inside have their replies. */
  close(): Promise<void> {
    this.draining = true;
    if (this.inside === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  get closed(): boolean {
    return this.draining;
  }

  /** Requests let in whose replies are not done yet. */
  get active(): number {
    return this.inside;
  }
}
