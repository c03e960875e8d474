// The client against servers that misbehave: one that never answers (the request's timeout, on
// an injected timer), a stream that goes silent, replies cut off or redirected, a 2xx that is not
// the server's, a 503 with Retry-After on reconnecting, and a --url the client must refuse.

import http from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import type { Timer } from "../../src/cli/client.ts";
import { runEvents, SILENCE_MS } from "../../src/cli/events.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { closeServer, listen, run } from "./harness.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) if (s.listening) await closeServer(s);
});

async function fake(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return listen(server);
}

/** A timer that fires only when the test says: `fire(ms)` fires the pending ones of that length. */
function manualTimers() {
  const pending = new Set<{ ms: number; fire: () => void }>();
  const armed: number[] = [];
  const setTimer: Timer = (ms, fire) => {
    const t = { ms, fire };
    armed.push(ms);
    pending.add(t);
    return () => pending.delete(t);
  };
  const fire = (ms: number) => {
    // Those due now, before any fires: a firing may arm new ones.
    const due = Array.from(pending).filter((t) => t.ms === ms);
    for (const t of due) {
      pending.delete(t);
      t.fire();
    }
  };
  return { setTimer, armed, fire };
}

const problem = (status: number, body: object, headers: http.OutgoingHttpHeaders = {}) =>
  [status, { "content-type": "application/problem+json", ...headers }, JSON.stringify(body)] as const;

describe("a request's time is bounded", () => {
  test("a server that accepts and never answers: exit 3, timed out after 30 s (the default)", async () => {
    const timers = manualTimers();
    // The server has the request: its time runs out now.
    const url = await fake(() => timers.fire(30_000));
    const r = await run(runObjects, ["list"], url, { setTimer: timers.setTimer });
    expect(r).toEqual({
      code: 3,
      out: "",
      err: `vigil objects: ${url} did not answer: timed out after 30 s (--timeout or VIGIL_TIMEOUT to wait longer)\n`,
    });
  });

  test("--timeout and VIGIL_TIMEOUT set it, the flag first; a value that is not seconds is usage", async () => {
    const timers = manualTimers();
    const url = await fake(() => (timers.fire(2500), timers.fire(7000)));
    const flag = await run(runObjects, ["get", "w1", "--timeout", "2.5"], url, {
      setTimer: timers.setTimer,
      env: { VIGIL_URL: url, VIGIL_TIMEOUT: "7" },
    });
    expect(flag.code).toBe(3);
    expect(flag.err).toContain("timed out after 2.5 s");
    const variable = await run(runObjects, ["get", "w1"], url, {
      setTimer: timers.setTimer,
      env: { VIGIL_URL: url, VIGIL_TIMEOUT: "7" },
    });
    expect(variable.err).toContain("timed out after 7 s");
    expect(timers.armed).toEqual([2500, 7000]);
    for (const bad of ["0", "-1", "soon", "", "86401"]) {
      const r = await run(runObjects, ["list", `--timeout=${bad}`], url);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain("--timeout takes a number of seconds above 0, at most 86400");
    }
  });

  test("the process's own timer: a tiny --timeout ends a request that gets no answer", async () => {
    const url = await fake(() => {});
    const r = await run(runObjects, ["list", "--timeout", "0.05"], url);
    expect(r.code).toBe(3);
    expect(r.err).toContain("timed out after 0.05 s");
  });

  test("events: a server that never answers the first request: exit 3, timed out", async () => {
    const timers = manualTimers();
    const url = await fake(() => timers.fire(30_000));
    const r = await run(runEvents, [], url, { setTimer: timers.setTimer });
    expect(r.code).toBe(3);
    expect(r.err).toBe(
      `vigil events: ${url} did not answer: timed out after 30 s (--timeout or VIGIL_TIMEOUT to wait longer)\n`,
    );
  });

  test("events: a reconnection that gets no answer says so on its retry line: timed out", async () => {
    const timers = manualTimers();
    let requests = 0;
    const url = await fake((_req, res) => {
      // The first stream brings one decision and ends; every later request is never answered.
      if (++requests === 1) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end("event: decision\nid: dec_1\ndata: {}\n\n");
      } else timers.fire(30_000);
    });
    const r = await run(runEvents, ["--json"], url, { setTimer: timers.setTimer });
    expect(r.code).toBe(3);
    const lines = r.err.trimEnd().split("\n");
    expect(lines[0]).toBe("vigil events: the stream ended; reconnecting after dec_1");
    expect(lines[1]).toBe("vigil events: cannot reconnect (1 of 10 tries: timed out after 30 s); next in 2 s");
    expect(lines.at(-1)).toBe(
      `vigil events: ${url} did not answer: timed out after 30 s (--timeout or VIGIL_TIMEOUT to wait longer)`,
    );
  });

  test("events: a stream silent for 45 s is dead: it reconnects after the last decision", async () => {
    const timers = manualTimers();
    const lastIds: unknown[] = [];
    const url = await fake((req, res) => {
      lastIds.push(req.headers["last-event-id"]);
      res.writeHead(200, { "content-type": "text/event-stream" });
      // The first stream sends one decision, then nothing, not even a heartbeat.
      res.write(`event: decision\nid: dec_${lastIds.length}\ndata: {}\n\n`);
    });
    let printed = 0;
    let silenced = false;
    const r = await run(runEvents, ["--count", "2", "--json"], url, {
      out: () => void printed++,
      // Once the first decision is printed, the stream's next read waits past the silence.
      setTimer: (ms, fire) => {
        const cancel = timers.setTimer(ms, fire);
        if (ms === SILENCE_MS && printed === 1 && !silenced) {
          silenced = true;
          queueMicrotask(() => timers.fire(SILENCE_MS));
        }
        return cancel;
      },
    });
    expect(r.code).toBe(0);
    expect(printed).toBe(2);
    expect(SILENCE_MS).toBe(45_000);
    expect(lastIds).toEqual([undefined, "dec_1"]);
    expect(r.err).toBe(
      "vigil events: nothing came for 45 s (the server sends a heartbeat every 15 s); reconnecting after dec_1\n",
    );
  });
});

describe("a reply that is not what the command expects: exit 5, said as it is", () => {
  test("objects delete: a 2xx that is not the server's 204 is not a deletion", async () => {
    const url = await fake((_q, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>hi</html>"));
    const r = await run(runObjects, ["delete", "w1"], url);
    expect(r).toEqual({
      code: 5,
      out: "",
      err: "vigil objects: the server's reply is not a deletion (200, not 204 No Content)\n",
    });
  });

  test("a redirect answering a DELETE is not followed (it would become a GET elsewhere)", async () => {
    const seen: string[] = [];
    const url = await fake((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === "DELETE") res.writeHead(303, { location: "/elsewhere" }).end();
      else res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const r = await run(runObjects, ["delete", "w1", "--json"], url);
    expect(r.code).toBe(5);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `vigil objects: ${url} answered 303 (a redirect to /elsewhere) to DELETE; a DELETE is not sent on to ` +
        "another URL: give --url the server's own address\n",
    );
    expect(seen).toEqual(["DELETE /v1/objects/w1?compute=stop"]);
  });

  test("a GET redirected in a loop, or whose reply is cut off, is not a server that cannot be reached", async () => {
    const loop = await fake((req, res) => res.writeHead(302, { location: req.url! }).end());
    const looped = await run(runObjects, ["list"], loop);
    expect(looped).toEqual({ code: 5, out: "", err: `vigil objects: ${loop} answered with redirects in a loop\n` });

    const cut = await fake((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"id":', () => req.socket.destroy());
    });
    const r = await run(runObjects, ["get", "w1"], cut);
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      `vigil objects: ${cut} answered 200, but the reply was cut off before its end (the connection closed)\n`,
    );
  });

  test("events: a 503 whose body is cut off is exit 5, not an uncaught 'terminated'", async () => {
    const url = await fake((req, res) => {
      res.writeHead(503, { "content-type": "application/problem+json", "content-length": "500" });
      res.write('{"title":', () => req.socket.destroy());
    });
    const r = await run(runEvents, [], url);
    expect(r).toEqual({
      code: 5,
      out: "",
      err: `vigil events: ${url} answered 503, but the reply was cut off before its end (the connection closed)\n`,
    });
  });
});

describe("events: Retry-After on reconnecting", () => {
  const busy = { title: "Service unavailable", detail: "too many streams" };

  test.each([
    ["5", 5000],
    // Past the backoff's cap, the cap.
    ["120", 30_000],
    // Shorter than the backoff: the backoff.
    ["1", 2000],
    // An HTTP date (a proxy's), counted from the reply's Date (not this machine's clock).
    ["Wed, 21 Oct 2015 07:28:07 GMT", 7000],
    ["Wed, 21 Oct 2015 07:29:00 GMT", 30_000],
    // A date already past, or not a date: the backoff.
    ["Wed, 21 Oct 2015 07:27:00 GMT", 2000],
    ["soon", 2000],
  ])("Retry-After: %s waits %d ms and says the server's detail", async (retryAfter, wait) => {
    let n = 0;
    const url = await fake((_q, res) => {
      n++;
      if (n === 2) {
        const [status, headers, body] = problem(503, busy, {
          "retry-after": retryAfter,
          date: "Wed, 21 Oct 2015 07:28:00 GMT",
        });
        return void res.writeHead(status, headers).end(body);
      }
      res.writeHead(200, { "content-type": "text/event-stream" }).end(`event: decision\nid: dec_${n}\ndata: {}\n\n`);
    });
    const waits: number[] = [];
    const r = await run(runEvents, ["--count", "2"], url, { sleep: async (ms) => void waits.push(ms) });
    expect(r.code).toBe(0);
    expect(waits).toEqual([1000, wait]);
    expect(r.err).toContain(
      `vigil events: cannot reconnect (1 of 10 tries: 503 Service unavailable: too many streams); next in ${wait / 1000} s\n`,
    );
  });
});

describe("a --url the client refuses: usage, exit 2", () => {
  test.each([
    ["http://admin:hunter2@127.0.0.1:9", "--url holds a user name or password"],
    ["http://admin@127.0.0.1:9", "--url holds a user name or password"],
    ["http://admin:hunter2@", '--url "http://...@" is not a URL'],
    // Not URLs at all (a / or ? in the password ends the authority): still not printed.
    ["http://admin:hun/ter2@127.0.0.1:9", '--url "http://...@127.0.0.1:9" is not a URL'],
    ["http://admin:hunter2?x@127.0.0.1:9", '--url "http://...@127.0.0.1:9" is not a URL'],
  ])("%s: refused, the password not printed", async (given, message) => {
    const r = await run(runObjects, ["list", "--url", given], "http://127.0.0.1:9");
    expect(r.code).toBe(2);
    expect(r.err).toContain(`vigil objects: ${message}`);
    expect(r.err).not.toContain("hunter2");
    const fromEnv = await run(runObjects, ["list"], given);
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).not.toContain("hunter2");
  });

  test.each(["http://127.0.0.1:9/?x=1", "http://127.0.0.1:9/#top", "http://127.0.0.1:9/api?"])(
    "%s: a query or a fragment is refused (the paths would land after it)",
    async (given) => {
      const r = await run(runObjects, ["list", "--url", given], "http://127.0.0.1:9");
      expect(r.code).toBe(2);
      expect(r.err).toContain(`vigil objects: --url "${given}" has a query or a fragment; give the server's base URL`);
    },
  );
});
