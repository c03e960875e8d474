// `vigil events` against a small SSE server written to the contract of GET /v1/events
// (`event: decision` / `event: action` frames, `id:` lines, `: heartbeat` comments, `retry:`,
// Last-Event-ID resume): the wire format cut anywhere, the lines it prints, resuming after the
// last decision when the stream drops, giving up on a server that stays down, and the exits
// for a refused token, a server that is down and a reply that is not a stream.

import http from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { eventLine, runEvents, SseParser, type SseEvent } from "../../src/cli/events.ts";
import { listenOutsideEphemeral, refusingPort } from "../helpers/refusing-port.ts";
import { closeServer, listen, run } from "./harness.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) if (s.listening) await closeServer(s);
});

/** A server whose n-th request (from 0) `handle` answers; resolves with its URL. */
/** A server answering with `handle`; `outside` puts it where no other is given its port once it closes. */
async function sse(handle: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void, outside = false) {
  let n = 0;
  const server = http.createServer((req, res) => handle(req, res, n++));
  servers.push(server);
  return { server, url: outside ? await listenOutsideEphemeral(server) : await listen(server) };
}

const stream = (res: http.ServerResponse) =>
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });

const decision = (id: string, objectId: string, extra: object = {}) => ({
  id,
  objectId,
  at: "2026-03-01T00:00:00.000Z",
  trigger: { kind: "facts" },
  outcome: "wake",
  fromState: "dormant",
  toState: "waking",
  fired: [{ rule: "backlog-wake", event: "wake", params: {} }],
  ...extra,
});
const frame = (event: string, id: string, data: unknown, eol = "\n") =>
  `event: ${event}${eol}id: ${id}${eol}data: ${JSON.stringify(data)}${eol}${eol}`;

describe("SseParser", () => {
  const TEXT =
    ': heartbeat\n\nretry: 250\nevent: decision\nid: dec_1\ndata: {"a":\ndata:1}\n\n' +
    "event: action\r\nid: act_1\r\ndata: {}\r\n\r\n" +
    "id: dec_9\n\nevent: ignored-without-data\n\n" +
    "data\n\ndata: x\rdata: y\r\r";
  const EXPECTED: SseEvent[] = [
    { type: "decision", data: '{"a":\n1}', id: "dec_1" },
    { type: "action", data: "{}", id: "act_1" },
    { type: "message", data: "", id: "dec_9" },
  ];

  test("parses LF, CRLF and CR lines, comments, multi-line data, ids without data and retry", () => {
    const p = new SseParser();
    const events = p.push(TEXT);
    // The last event is held until the next piece shows its CR is not the start of a CRLF.
    expect(events).toEqual(EXPECTED);
    expect(p.push("")).toEqual([]);
    expect(p.push(":")).toEqual([{ type: "message", data: "x\ny", id: "dec_9" }]);
    expect(p.retry).toBe(250);
  });

  test("gives the same events however the text is cut", () => {
    for (let i = 0; i <= TEXT.length; i++) {
      for (let j = i; j <= TEXT.length; j += 7) {
        const p = new SseParser();
        const events = [...p.push(TEXT.slice(0, i)), ...p.push(TEXT.slice(i, j)), ...p.push(TEXT.slice(j))];
        expect(events, `cut at ${i} and ${j}`).toEqual(EXPECTED);
      }
    }
  });

  test("event lines: a decision, an action with its error, a deletion, anything else as it came", () => {
    const d = decision("dec_1", "w1", {
      trigger: { kind: "timer", name: "wake", late: true },
      fromState: "active",
      toState: "active",
      fired: [],
    });
    expect(eventLine({ type: "decision", id: "dec_1", data: "" }, d)).toBe(
      "2026-03-01T00:00:00.000Z  decision dec_1  w1  timer wake (late)  wake (active)",
    );
    const a = {
      id: "act_1",
      objectId: "w1",
      decisionId: "dec_1",
      kind: "start",
      status: "failed",
      attempts: 3,
      error: "boom",
    };
    expect(eventLine({ type: "action", id: "act_1", data: "" }, a)).toBe(
      "action act_1  w1  start failed (attempt 3)  (decision dec_1)  error: boom",
    );
    expect(eventLine({ type: "deletion", id: "act_1", data: "" }, { objectId: "w1", at: d.at })).toBe(
      "2026-03-01T00:00:00.000Z  deleted  w1",
    );
    expect(eventLine({ type: "ping", id: "", data: "hi" }, "hi")).toBe("ping  hi");
  });
});

describe("vigil events", () => {
  test("prints each event, resumes after the last decision when the stream drops, stops after --count", async () => {
    const requests: { url: string; headers: http.IncomingHttpHeaders }[] = [];
    const { url } = await sse((req, res, n) => {
      requests.push({ url: req.url!, headers: req.headers });
      stream(res);
      if (n === 0) {
        res.write(": heartbeat\n\nretry: 5\n\n");
        const first = frame("decision", "dec_1", decision("dec_1", "w1"));
        // A frame cut in the middle of a line, as TCP may deliver it.
        res.write(first.slice(0, 20));
        res.write(first.slice(20));
        res.write(
          frame("action", "act_1", {
            id: "act_1",
            objectId: "w1",
            decisionId: "dec_1",
            kind: "start",
            status: "confirmed",
          }),
        );
        res.end();
      } else
        res.write(
          frame(
            "decision",
            "dec_2",
            decision("dec_2", "w1", { outcome: "none", toState: "dormant", fired: [] }),
            "\r\n",
          ),
        );
    });
    const sleeps: number[] = [];
    const r = await run(
      runEvents,
      ["--object", "w1", "--types", "decision,action", "--count", "3", "--token", "t0k3n-0123456789abcdef"],
      url,
      {
        sleep: async (ms) => void sleeps.push(ms),
      },
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      "2026-03-01T00:00:00.000Z  decision dec_1  w1  facts  wake (dormant -> waking)  fired backlog-wake\n" +
        "action act_1  w1  start confirmed  (decision dec_1)\n" +
        "2026-03-01T00:00:00.000Z  decision dec_2  w1  facts  none (dormant)\n",
    );
    expect(r.err).toBe("vigil events: the stream ended; reconnecting after dec_1\n");
    // The server's retry, honoured without waiting for it here.
    expect(sleeps).toEqual([5]);
    expect(requests.map((q) => q.url)).toEqual([
      "/v1/events?objectId=w1&types=decision%2Caction",
      "/v1/events?objectId=w1&types=decision%2Caction",
    ]);
    for (const q of requests) {
      expect(q.headers.accept).toBe("text/event-stream");
      expect(q.headers.authorization).toBe("Bearer t0k3n-0123456789abcdef");
    }
    expect(requests[0]!.headers["last-event-id"]).toBeUndefined();
    // Only decisions are resumed from the store: the last decision's id, not the action's.
    expect(requests[1]!.headers["last-event-id"]).toBe("dec_1");
  });

  test("a stream begun while the server had no decision, dropped before one came: resumed from its cursor, said as where it began", async () => {
    const requests: http.IncomingHttpHeaders[] = [];
    const { url } = await sse((req, res, n) => {
      requests.push(req.headers);
      stream(res);
      if (n === 0) res.end(": connected\n\nid: dec_0000000000000\n\n");
      else res.write(frame("decision", "dec_1", decision("dec_1", "w1")));
    });
    const r = await run(runEvents, ["--count", "1"], url, { sleep: async () => {} });
    expect(r.code).toBe(0);
    expect(requests[1]?.["last-event-id"]).toBe("dec_0000000000000");
    // Not "after dec_0000000000000": no decision has that id.
    expect(r.err).toBe(
      "vigil events: the stream ended; reconnecting from where the stream began (no decision was stored then)\n",
    );
  });

  test("--json prints one {event, id, data} per line; --last-event-id is sent on the first request", async () => {
    let lastEventId: string | undefined;
    const { url } = await sse((req, res) => {
      lastEventId = req.headers["last-event-id"] as string | undefined;
      stream(res);
      res.write(frame("decision", "dec_5", decision("dec_5", "w2")));
      res.write(
        frame("action", "act_5", {
          id: "act_5",
          objectId: "w2",
          decisionId: "dec_5",
          kind: "start",
          status: "pending",
        }),
      );
      res.write(`event: deletion\ndata: ${JSON.stringify({ objectId: "w2", at: "2026-03-01T00:00:01.000Z" })}\n\n`);
    });
    const r = await run(runEvents, ["--json", "--count", "3", "--last-event-id", "dec_4"], url);
    expect(r.code).toBe(0);
    expect(lastEventId).toBe("dec_4");
    const lines = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { event: "decision", id: "dec_5", data: decision("dec_5", "w2") },
      {
        event: "action",
        id: "act_5",
        data: { id: "act_5", objectId: "w2", decisionId: "dec_5", kind: "start", status: "pending" },
      },
      // No id of its own (the stream's last one is the action's).
      { event: "deletion", data: { objectId: "w2", at: "2026-03-01T00:00:01.000Z" } },
    ]);
  });

  test("an overflow (the client fell behind) is told on stderr, not counted, and resumed from", async () => {
    const lastIds: unknown[] = [];
    const { url } = await sse((req, res, n) => {
      lastIds.push(req.headers["last-event-id"]);
      stream(res);
      if (n > 0) return void res.write(frame("decision", "dec_8", decision("dec_8", "w1")));
      res.write(frame("decision", "dec_7", decision("dec_7", "w1")));
      res.end(`event: overflow\ndata: ${JSON.stringify({ reason: "this client fell behind" })}\n\n`);
    });
    const r = await run(runEvents, ["--count", "2"], url);
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => l.includes(" decision "))).toHaveLength(2);
    expect(r.err).toBe(
      "vigil events: the server dropped the stream: this client fell behind\n" +
        "vigil events: the stream ended; reconnecting after dec_7\n",
    );
    expect(lastIds).toEqual([undefined, "dec_7"]);
  });

  test("a 503 on reconnecting (a server draining for a restart) is tried again; on the first request it is final", async () => {
    const { url } = await sse((_req, res, n) => {
      if (n === 1)
        return void res
          .writeHead(503, { "content-type": "application/problem+json" })
          .end(JSON.stringify({ title: "Service unavailable", status: 503, detail: "the server is shutting down" }));
      stream(res);
      if (n === 0) res.end(frame("decision", "dec_1", decision("dec_1", "w1")));
      else res.write(frame("decision", "dec_2", decision("dec_2", "w1")));
    });
    const r = await run(runEvents, ["--count", "2"], url);
    expect(r.code).toBe(0);
    expect(r.out).toContain("decision dec_2");
    expect(r.err).toContain(
      "vigil events: cannot reconnect (1 of 10 tries: 503 Service unavailable: the server is shutting down); next in 2 s\n",
    );

    const { url: draining } = await sse((_req, res) =>
      res
        .writeHead(503, { "content-type": "application/problem+json" })
        .end(JSON.stringify({ title: "Service unavailable", detail: "shutting down" })),
    );
    const first = await run(runEvents, [], draining);
    expect(first).toEqual({ code: 5, out: "", err: "vigil events: 503 Service unavailable: shutting down\n" });
  });

  test("an interrupt stops following with exit 0", async () => {
    const { url } = await sse((_req, res) => {
      stream(res);
      res.write(frame("decision", "dec_1", decision("dec_1", "w1")));
    });
    const stop = new AbortController();
    let out = "";
    const code = await runEvents([], {
      env: { VIGIL_URL: url },
      out: (s) => {
        out += s;
        stop.abort();
      },
      err: () => {},
      signal: stop.signal,
    });
    expect(code).toBe(0);
    expect(out).toContain("decision dec_1");
  });

  test("a server that stays down after the stream dropped: retries with backoff, then exit 3", async () => {
    // Its port is one no listen(0) is given: it stays down through the ten tries.
    const { server, url } = await sse((_req, res) => {
      stream(res);
      res.end(frame("decision", "dec_1", decision("dec_1", "w1")));
    }, true);
    const sleeps: number[] = [];
    const r = await run(runEvents, [], url, {
      // The first wait: the server goes away for good.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (server.listening) await closeServer(server);
      },
    });
    expect(r.code).toBe(3);
    // The default second, doubled after each failed try up to 30 s; ten tries, then it gives up.
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
    const lines = r.err.trimEnd().split("\n");
    expect(lines[0]).toBe("vigil events: the stream ended; reconnecting after dec_1");
    // Each failed try says why, as a reply's status is said.
    expect(lines[1]).toBe("vigil events: cannot reconnect (1 of 10 tries: connection refused); next in 2 s");
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe(
      `vigil events: cannot reach ${url} (connection refused); is the server running? (\`npm start\`)`,
    );
  });

  test("refused token: exit 4 with the problem; not a stream: exit 5; nothing listening: exit 3", async () => {
    const { url } = await sse((req, res) => {
      if (req.headers.authorization) {
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      res
        .writeHead(401, { "content-type": "application/problem+json" })
        .end(JSON.stringify({ title: "Unauthorized", status: 401, detail: "this route needs a bearer token" }));
    });
    const refused = await run(runEvents, [], url);
    expect(refused).toMatchObject({ code: 4, out: "" });
    expect(refused.err).toBe(
      "vigil events: 401 Unauthorized: this route needs a bearer token\n" +
        "  the server needs a token: pass --token TOKEN or set VIGIL_TOKEN\n",
    );
    const notStream = await run(runEvents, ["--token", "0123456789abcdef"], url);
    expect(notStream).toEqual({
      code: 5,
      out: "",
      err: `vigil events: ${url}/v1/events did not answer with an event stream\n`,
    });

    const deadUrl = `http://127.0.0.1:${await refusingPort()}`;
    const down = await run(runEvents, [], deadUrl);
    expect(down.code).toBe(3);
    expect(down.err).toBe(
      `vigil events: cannot reach ${deadUrl} (connection refused); is the server running? (\`npm start\`)\n`,
    );
  });
});
