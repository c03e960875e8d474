// `vigil events`: follows the server's event stream (GET /v1/events, Server-Sent Events) and
// prints a line per decision and per action. When the stream drops it reconnects, sending the
// last decision's id as Last-Event-ID so that the decisions recorded meanwhile come first.

import { BEFORE_ANY_DECISION } from "../governor/live.ts";
import { parseCommandLine } from "./parse-args.ts";
import {
  authHeaders,
  bodyText,
  jsonOf,
  CliError,
  deadline,
  fetchFailure,
  processIo,
  replyError,
  reporting,
  targetOf,
  urlOf,
  usageError,
  type Io,
  type Target,
} from "./client.ts";
import { nonEmpty, positiveInt, states, triggerText } from "./output.ts";
import { printable } from "./printable.ts";
import { headerCanCarry } from "./values.ts";
import { CLIENT_PARSE_OPTIONS, EXIT, printUsage } from "./usage.ts";

/** One event of the stream, as the SSE spec dispatches it. */
export interface SseEvent {
  type: string;
  data: string;
  /** The stream's last event id when it was dispatched ("" for none). */
  id: string;
}

/**
 * The SSE wire format (WHATWG HTML, "Server-sent events"): lines ending in CRLF, LF or CR;
 * `field: value`; a blank line dispatches; a line starting with `:` is a comment (the server's
 * heartbeat). Fed text as it arrives, in pieces cut anywhere.
 */
export class SseParser {
  private buffer = "";
  private type = "";
  private data: string[] = [];
  private lastId = "";
  /** The event being read has an `id:` field. */
  private idGiven = false;
  /** The reconnection delay the server asked for with `retry:`, in ms. */
  retry: number | null = null;

  /**
   * `ids`: an event with an id and no data, which dispatches nothing (its id becomes the last
   * event id all the same), is returned too, as type "" (the server's cursor for a stream that
   * resumes from no event).
   */
  constructor(private readonly ids = false) {}

  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) break;
      // A CR last in the buffer may be the first half of a CRLF cut in two: wait for the next piece.
      if (this.buffer[end] === "\r" && end === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(this.buffer.startsWith("\r\n", end) ? end + 2 : end + 1);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) {
      this.lastId = value;
      this.idGiven = true;
    } else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }

  private dispatch(): SseEvent | null {
    const event =
      this.data.length > 0
        ? { type: this.type || "message", data: this.data.join("\n"), id: this.lastId }
        : this.ids && this.idGiven
          ? { type: "", data: "", id: this.lastId }
          : null;
    this.type = "";
    this.data = [];
    this.idGiven = false;
    return event;
  }
}

/** How long to wait before reconnecting when the server did not say (`retry:`). */
const DEFAULT_RETRY_MS = 1000;
/** The longest wait between attempts to reconnect. */
const MAX_RETRY_MS = 30_000;
/** Attempts in a row that may fail to connect before the command gives up (exit 3). */
const MAX_ATTEMPTS = 10;
/** A stream with no bytes for this long is dead: the server sends a heartbeat every 15 s. */
export const SILENCE_MS = 45_000;

const OPTIONS = {
  ...CLIENT_PARSE_OPTIONS,
  object: { type: "string" },
  types: { type: "string" },
  "last-event-id": { type: "string" },
  count: { type: "string" },
} as const;

export async function runEvents(args: string[], partial: Partial<Io> = {}): Promise<number> {
  const io = processIo(partial);
  const { values, positionals } = parseCommandLine({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return printUsage("events", io.out);
  return reporting("events", io, async () => {
    if (positionals.length > 0) throw usageError("events", "events takes no arguments");
    const target = targetOf("events", values, io);
    const lastEventId = nonEmpty("events", "--last-event-id", values["last-event-id"]);
    // Only what a header cannot carry is refused here (fetch would refuse it before connecting,
    // which would read as a server that cannot be reached); an id of the wrong form is the
    // server's to refuse, with its rule (422).
    if (lastEventId !== undefined && !headerCanCarry(lastEventId))
      throw usageError("events", "--last-event-id holds a line break or a character an HTTP header cannot carry");
    const follow: Follow = {
      target,
      io,
      json: values.json,
      query: {
        objectId: nonEmpty("events", "--object", values.object),
        types: nonEmpty("events", "--types", values.types),
      },
      lastDecisionId: lastEventId,
      remaining: positiveInt("events", "--count", values.count) ?? Infinity,
    };
    return followEvents(follow);
  });
}

interface Follow {
  target: Target;
  io: Io;
  json: boolean;
  query: Record<string, string | undefined>;
  /**
   * Sent as Last-Event-ID on a reconnection. Only decisions are resumed from the store, so this
   * is the last decision's id, not the last event's: resuming after it repeats nothing printed.
   */
  lastDecisionId: string | undefined;
  remaining: number;
}

async function followEvents(f: Follow): Promise<number> {
  let connected = false;
  let failures = 0;
  let retry = DEFAULT_RETRY_MS;
  while (!f.io.signal?.aborted) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    f.io.signal?.addEventListener("abort", stop, { once: true });
    let outcome: Awaited<ReturnType<typeof connection>> | undefined;
    // What the last try met: the reply (a 503 and its detail), or why no connection was made.
    let answered = "";
    // The wait a reply asked for with Retry-After.
    let asked = 0;
    try {
      outcome = await connection(f, controller, (ms) => (retry = ms));
      if (outcome === "done") return EXIT.ok;
      connected = true;
      failures = 0;
    } catch (e) {
      if (f.io.signal?.aborted) break;
      // A first connection that fails is the server's answer: no use in trying again. Later,
      // a server restarting is down for a moment, or answers 503 while it drains (or has as
      // many streams as it takes).
      if (!connected || !passing(e) || ++failures >= MAX_ATTEMPTS) throw e;
      if (e.status !== undefined) answered = `: ${e.message.split("\n")[0]}`;
      else if (e.reason !== undefined) answered = `: ${e.reason}`;
      asked = e.retryAfterMs ?? 0;
    } finally {
      f.io.signal?.removeEventListener("abort", stop);
    }
    if (f.io.signal?.aborted) break;
    const wait = Math.max(Math.min(retry * 2 ** failures, MAX_RETRY_MS), Math.min(asked, MAX_RETRY_MS));
    // The server's cursor while it had no decision names none: said as where the stream began.
    const after =
      f.lastDecisionId === BEFORE_ANY_DECISION
        ? " from where the stream began (no decision was stored then)"
        : f.lastDecisionId
          ? ` after ${f.lastDecisionId}`
          : "";
    if (outcome === "silent")
      f.io.err(
        `vigil events: nothing came for ${SILENCE_MS / 1000} s (the server sends a heartbeat every 15 s); reconnecting${after}\n`,
      );
    else if (failures === 0) f.io.err(`vigil events: the stream ended; reconnecting${after}\n`);
    else
      f.io.err(
        `vigil events: cannot reconnect (${failures} of ${MAX_ATTEMPTS} tries${answered}); next in ${wait / 1000} s\n`,
      );
    await f.io.sleep(wait);
  }
  return EXIT.ok;
}

/** A failure a reconnection may outlast: no server yet, or one that is draining (or a proxy's 502, 504). */
const passing = (e: unknown): e is CliError =>
  e instanceof CliError && (e.code === EXIT.unreachable || [502, 503, 504].includes(e.status ?? 0));

/**
 * One connection, read until the stream ends ("ended"), goes silent past SILENCE_MS ("silent")
 * or --count is reached ("done"). Throws CliError when it cannot connect within the timeout or
 * the server refuses.
 */
async function connection(
  f: Follow,
  controller: AbortController,
  setRetry: (ms: number) => void,
): Promise<"ended" | "silent" | "done"> {
  const headers: Record<string, string> = { accept: "text/event-stream", ...authHeaders(f.target) };
  if (f.lastDecisionId) headers["last-event-id"] = f.lastDecisionId;
  // The timeout bounds the reply's head (and an error reply's body); the stream has SILENCE_MS.
  const time = deadline(f.target, controller.signal);
  let res: Response;
  try {
    try {
      res = await fetch(urlOf(f.target, "/v1/events", f.query), { headers, signal: time.signal });
    } catch (e) {
      throw fetchFailure(f.target, e, time.expired());
    }
    if (res.status >= 400) {
      const text = await bodyText(f.target, res, time.expired);
      throw replyError(f.target, res.status, jsonOf(text), text, res.headers);
    }
  } finally {
    time.cancel();
  }
  if (!res.body || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    controller.abort();
    throw new CliError(EXIT.serverError, `${f.target.url}/v1/events did not answer with an event stream`);
  }
  const parser = new SseParser(true);
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let silent = false;
  try {
    for (;;) {
      const cancel = f.io.setTimer(SILENCE_MS, () => {
        silent = true;
        controller.abort();
      });
      const { done, value } = await reader.read().finally(cancel);
      if (done) return "ended";
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        // An id alone: where the server says a stream begun without Last-Event-ID stands. Dropped
        // before a decision came, it resumes from there, and misses none recorded meanwhile.
        if (event.type === "") {
          if (f.lastDecisionId === undefined && event.id.startsWith("dec_")) f.lastDecisionId = event.id;
          continue;
        }
        // The server dropped this client for reading too slowly; the stream ends next, and the
        // reconnection resumes the decisions from the store.
        if (event.type === "overflow") {
          f.io.err(`vigil events: the server dropped the stream: ${printable(reasonText(event.data))}\n`);
          continue;
        }
        print(f, event);
        if (--f.remaining <= 0) {
          controller.abort();
          return "done";
        }
      }
      if (parser.retry !== null) setRetry(parser.retry);
    }
  } catch {
    // Aborted (Ctrl-C, or silent too long), or the connection broke mid-stream: the loop stops
    // or reconnects, as for a stream that ended.
    return silent ? "silent" : "ended";
  }
}

const reasonText = (data: string) => {
  try {
    return String((JSON.parse(data) as { reason?: unknown }).reason ?? data);
  } catch {
    return data;
  }
};

/** Prints one event, and remembers a decision's id to resume after it. */
function print(f: Follow, event: SseEvent): void {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    data = event.data;
  }
  if (event.type === "decision" && event.id) f.lastDecisionId = event.id;
  // A deletion has no id of its own (the stream's last id is the event before it).
  const id = event.type === "deletion" ? undefined : event.id;
  if (f.json) f.io.out(`${JSON.stringify({ event: event.type, id, data })}\n`);
  else f.io.out(`${printable(eventLine(event, data))}\n`);
}

/** A decision, an action or a deletion on one line; any other event as its type, id and data. */
export function eventLine(event: SseEvent, data: unknown): string {
  const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (event.type === "decision") {
    const fired = Array.isArray(d.fired) ? (d.fired as { rule?: unknown }[]).map((x) => String(x.rule)) : [];
    return (
      `${String(d.at)}  decision ${event.id}  ${String(d.objectId)}  ${triggerText(d.trigger)}  ` +
      `${String(d.outcome)} (${states(d.fromState, d.toState)})${fired.length > 0 ? `  fired ${fired.join(", ")}` : ""}`
    );
  }
  if (event.type === "action")
    return (
      `action ${event.id}  ${String(d.objectId)}  ${String(d.kind)} ${String(d.status)}` +
      (typeof d.attempts === "number" && d.attempts > 1 ? ` (attempt ${d.attempts})` : "") +
      `  (decision ${String(d.decisionId)})` +
      (d.error ? `  error: ${typeof d.error === "string" ? d.error : JSON.stringify(d.error)}` : "")
    );
  if (event.type === "deletion") return `${String(d.at)}  deleted  ${String(d.objectId)}`;
  return `${event.type} ${event.id} ${event.data}`;
}
