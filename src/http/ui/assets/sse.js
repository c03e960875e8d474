// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the
// dashboard reads `GET /v1/events` as a stream and parses it here, as the HTML standard's
// event-stream interpretation does (fields, comments, `\r\n`/`\n`/`\r` line ends, ids).

import { authHeaders } from "./api.js";

/**
 * The events of an event stream's text, as its chunks arrive: `{type, data, id}` for each
 * event with data (`type` defaults to "message"; `id` is the last id seen, as Last-Event-ID).
 * A line end split between two chunks (`\r` | `\n`) counts once.
 */
export async function* parseEvents(chunks) {
  let rest = "";
  let pendingLf = false;
  let data = [];
  let type = "";
  let id = null;
  for await (const chunk of chunks) {
    let text = rest + chunk;
    if (pendingLf && text.startsWith("\n")) text = text.slice(1);
    const lines = text.split(/\r\n|\r|\n/);
    rest = lines.pop();
    pendingLf = rest === "" && text.endsWith("\r");
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) yield { type: type || "message", data: data.join("\n"), id };
        data = [];
        type = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id" && !value.includes("\0")) id = value;
    }
  }
}

/** The text chunks of a fetch() body; `onFirst` is called when the first one arrives. */
async function* textOf(body, onFirst) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (let first = true; ; first = false) {
      const { value, done } = await reader.read();
      if (done) return;
      if (first) onFirst();
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Follows `/v1/events` with the query `params`: `onEvent({type, data, id})` for each event,
 * `onStatus("connecting" | "live" | "retrying" | "denied")` as the connection goes. A dropped
 * stream is resumed with Last-Event-ID after a growing pause (1 s doubling to 30 s, and at
 * least what a refusal's Retry-After asks, as the server's 503 at its streams limit); a 401 or
 * 403 stops, handing the status to `onDenied`. `from`, the id of the newest decision the page
 * has read, starts the stream after it (none is missed between the read and the stream).
 * Returns `close()`.
 */
export function follow(params, { onEvent, onStatus, onDenied }, from = null) {
  let lastId = from;
  let stopped = false;
  let controller = null;
  let failures = 0;
  const once = async () => {
    controller = new AbortController();
    const headers = { accept: "text/event-stream", ...authHeaders() };
    if (lastId !== null) headers["last-event-id"] = lastId;
    onStatus(failures === 0 ? "connecting" : "retrying");
    const res = await fetch(`/v1/events?${new URLSearchParams(params)}`, {
      headers,
      cache: "no-store",
      signal: controller.signal,
    });
    if (res.status === 401 || res.status === 403) return res.status;
    if (!res.ok || res.body === null) {
      const seconds = Number(res.headers.get("retry-after"));
      throw Object.assign(new Error(`the event stream answered ${res.status}`), {
        retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0,
      });
    }
    // Live once the server's first bytes (": connected") came: it is following the hub by then.
    const opened = () => {
      onStatus("live");
      failures = 0;
    };
    for await (const event of parseEvents(textOf(res.body, opened))) {
      if (event.id !== null) lastId = event.id;
      onEvent(event);
    }
    return null;
  };
  const loop = async () => {
    /** What the last refusal's Retry-After asked for, in ms. */
    let asked = 0;
    while (!stopped) {
      try {
        const refused = await once();
        if (refused !== null) {
          onStatus("denied");
          onDenied?.(refused);
          return;
        }
        asked = 0;
      } catch (e) {
        // A network error, a dropped stream, or a refusal: try again below.
        asked = e?.retryAfterMs ?? 0;
      }
      if (stopped) return;
      failures += 1;
      onStatus("retrying");
      const pause = Math.min(30_000, Math.max(asked, 1000 * 2 ** (failures - 1)));
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };
  void loop();
  return {
    close() {
      stopped = true;
      controller?.abort();
    },
  };
}

const LABELS = {
  off: "Not connected",
  connecting: "Connecting…",
  live: "Live",
  retrying: "Reconnecting…",
  denied: "Not allowed to follow events",
};

/** Shows a connection status in the header's live indicator. */
export function showStatus(status) {
  const el = document.getElementById("live");
  el.dataset.status = status;
  // A live region: "Reconnecting…" is shown at each attempt and again as it starts, and the same
  // words written again are announced again by a screen reader.
  const label = LABELS[status] ?? status;
  if (el.textContent !== label) el.textContent = label;
}
