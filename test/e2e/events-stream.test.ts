// The event stream over a real socket, from the real server (`vigil serve` as a child process):
// a client follows GET /v1/events with fetch and reads the body as it comes; a fact posted
// meanwhile arrives as its decision; after a disconnect, reconnecting with Last-Event-ID
// replays the decision it missed, then goes on live. A graceful shutdown ends open streams
// instead of waiting for them until its drain timeout.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-events-"));
let vigil: VigilProcess;
beforeAll(async () => {
  // A short drain timeout: a stream that held the drain would fail the last test quickly.
  vigil = await startVigil({ VIGIL_DB_URL: `file:${join(dir, "events.db")}`, VIGIL_DRAIN_TIMEOUT: "PT10S" });
});
afterAll(() => {
  vigil?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface Event {
  event: string;
  id: string;
  data: { id: string; objectId: string; [key: string]: unknown };
}

/** Follows the stream over HTTP; `next` is the next event (comments skipped). */
async function follow(headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${vigil.url}/v1/events?objectId=w&types=decision`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const next = async (): Promise<Event> => {
    for (;;) {
      const end = buf.indexOf("\n\n");
      if (end >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        // A comment, or the `id:` line alone a stream opens with (README): neither dispatches an event.
        if (frame.startsWith(":") || !frame.split("\n").some((line) => line.startsWith("data: "))) continue;
        const field = (name: string) =>
          frame
            .split("\n")
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        return { event: field("event")!, id: field("id")!, data: JSON.parse(field("data")!) };
      }
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended");
      buf += decoder.decode(value, { stream: true });
    }
  };
  return { next, disconnect: () => abort.abort() };
}

async function post(facts: object): Promise<string> {
  const res = await fetch(`${vigil.url}/v1/objects/w/facts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ facts }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: { id: string } }).decision.id;
}

test("a posted fact's decision arrives on the stream; a reconnect with Last-Event-ID replays what was missed", async () => {
  const put = await fetch(`${vigil.url}/v1/objects/w`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy: "queue-worker" }),
  });
  expect(put.status).toBe(201);

  const first = await follow();
  const seen = await post({ n: 1 });
  const event = await first.next();
  expect(event).toMatchObject({
    event: "decision",
    id: seen,
    data: { id: seen, objectId: "w", trigger: { kind: "facts" } },
  });
  expect(event.data.explanation).toBeUndefined();
  first.disconnect();

  const missed = await post({ n: 2 });
  const again = await follow({ "last-event-id": seen });
  expect(await again.next()).toMatchObject({ event: "decision", id: missed });
  const live = await post({ n: 3 });
  expect(await again.next()).toMatchObject({ event: "decision", id: live });
  again.disconnect();
});

test("SIGTERM ends the open streams, and the drain completes (exit 0, not a drain timeout)", async () => {
  const open = await follow();
  const ended = open.next().then(
    () => "an event",
    (e: Error) => e.message,
  );
  vigil.kill("SIGTERM");
  expect(await ended).toBe("the stream ended");
  expect(await vigil.exited).toBe(0);
  expect(vigil.log()).not.toContain("drain timed out");
});
