// The event stream's machinery (GET /v1/events, routes/events.ts). One subscription to the
// governor per app, shared by every open stream: each change is rendered once, as SSE text, and
// handed to the streams whose filter it passes. Each stream has a bounded queue: a client that
// reads slower than events come is dropped, with a last `overflow` event telling it to
// reconnect with Last-Event-ID, so that no client can make the server buffer without bound.
//
// The file is past 400 lines because the hub and the stream share one protocol: which live
// decisions a stream queues, leaves to its backlog or drops, and which the hub still ends at
// shutdown, are read together or not at all.

import type { SSEStreamingApi } from "hono/streaming";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { nextTurn } from "../core/concurrency.ts";
import type { Decision } from "../core/types.ts";
import type { GovernorApi, LiveChange } from "../governor/services.ts";
import { actionEventView, minimalDecisionView } from "./views.ts";

/** The most events a stream's queue holds (besides the one being written)... */
export const QUEUE_EVENTS = 1000;
/** ... and the most bytes. Past either, the client is dropped. */
export const QUEUE_BYTES = 1024 * 1024;
/**
 * The most streams open at once, by default: each unfiltered stream is a socket write for every
 * event, so a few hundred of them under a steady load take the event loop from the facts.
 */
export const MAX_STREAMS = 256;
/** Seconds a client turned away for want of a stream is asked to wait. */
export const STREAMS_RETRY_AFTER = "5";
/** A comment line every 15 s keeps proxies from closing a quiet stream, and finds dead clients. */
export const HEARTBEAT_MS = 15_000;
/** How long a dropped client has to read its `overflow` event before its connection is cut. */
export const FINAL_WRITE_MS = 15_000;
/** How long a client past its queue's limit while its backlog is sent has to come nearer. */
export const BEHIND_MS = 15_000;
/**
 * Backlog pages whose decision ids a stream keeps, to drop the live event of one it sent: a
 * decision can be read committed a few turns of the event loop before it is published.
 */
const RECENT_PAGES = 8;

export const EVENT_TYPES = ["decision", "action", "deletion"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventFilter {
  types: ReadonlySet<EventType>;
  objectId?: string | undefined;
}

/** One event as it goes on the wire, with what filters and de-duplication look at. */
export interface Frame {
  text: string;
  /** Its UTF-8 bytes, counted once for every stream it goes to (see {@link bytesOf}). */
  bytes?: number;
  type: EventType | "comment" | "overflow";
  id?: string;
  objectId?: string;
  /** An action's: the decision that issued it. */
  decisionId?: string;
}

const sse = (event: string, id: string, data: unknown) =>
  `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;

/** A stored decision as the stream sends it: the decision without its explanation tree. */
export function decisionFrame(d: Decision): Frame {
  return { text: sse("decision", d.id, minimalDecisionView(d)), type: "decision", id: d.id, objectId: d.objectId };
}

function frameOf(change: LiveChange): Frame {
  if (change.kind === "decision") return decisionFrame(change.decision);
  if (change.kind === "deletion") {
    // No `id:`: a deletion is not resumed from (Last-Event-ID stands for a decision cursor), and
    // an event without one leaves the client's last event id as it was.
    const data = { objectId: change.objectId, at: new Date(change.at).toISOString() };
    return { text: `event: deletion\ndata: ${JSON.stringify(data)}\n\n`, type: "deletion", objectId: change.objectId };
  }
  const { action, change: status, error } = change;
  const text = sse("action", action.id, actionEventView(action, status, error));
  return { text, type: "action", id: action.id, objectId: action.objectId, decisionId: action.decisionId };
}

/** What a frame takes on the wire: what a stream's queue counts against its bytes. */
const bytesOf = (frame: Frame): number => (frame.bytes ??= Buffer.byteLength(frame.text));

const HEARTBEAT: Frame = { text: ": heartbeat\n\n", type: "comment" };
/**
 * The last event of a client dropped for falling behind, saying which of its queue's limits it
 * passed (the count, or the bytes: a client a few hundred large events behind was told of a
 * count of events it never reached).
 */
function overflowFrame(passed: "events" | "bytes", limits: StreamLimits): Frame {
  const MiB = 1024 * 1024;
  const bytes =
    limits.bytes % MiB === 0 ? `${limits.bytes / MiB} MiB` : `${limits.bytes.toLocaleString("en-US")} bytes`;
  const behind = passed === "events" ? `${limits.events} events` : bytes;
  return {
    text: `event: overflow\ndata: ${JSON.stringify({
      reason: `this client fell more than ${behind} behind; reconnect with the Last-Event-ID header (the id of the last event received) to resume the decisions from the store`,
    })}\n\n`,
    type: "overflow",
  };
}

const hubs = new WeakMap<object, EventHub>();

/** The hub of the streams that follow `governor` (one per governor, whichever app serves them). */
export function eventHub(governor: GovernorApi): EventHub {
  let hub = hubs.get(governor);
  if (!hub) hubs.set(governor, (hub = new EventHub(governor)));
  return hub;
}

/** The event streams open on `governor` (what VIGIL_MAX_STREAMS bounds), for the metrics: none before the first. */
export function openEventStreams(governor: object): number {
  return hubs.get(governor)?.open ?? 0;
}

/**
 * Ends every event stream that follows `governor`. A server calls it when it starts to drain:
 * a stream never ends by itself, and would otherwise hold the drain until its timeout.
 */
export function endEventStreams(governor: GovernorApi): void {
  hubs.get(governor)?.endAll();
}

/** Every open stream of one governor, and its one subscription to it while any is open. */
export class EventHub {
  private readonly streams = new Set<EventStream>();
  /**
   * Streams dropped with `overflow` whose connection is still open (until the client reads that
   * event, or is cut off FINAL_WRITE_MS later): no longer fed, but still open (counted by
   * {@link open}) and ended at shutdown.
   */
  private readonly dropping = new Set<EventStream>();
  private unwatch: (() => void) | null = null;
  private ending = false;

  constructor(private readonly governor: GovernorApi) {}

  join(stream: EventStream): void {
    this.streams.add(stream);
    this.unwatch ??= this.governor.watch((change) => this.publish(change));
  }

  leave(stream: EventStream): void {
    this.dropping.delete(stream);
    this.streams.delete(stream);
    if (this.streams.size > 0 || !this.unwatch) return;
    this.unwatch();
    this.unwatch = null;
  }

  /** A stream dropped with `overflow`: it gets no more events, and `endAll` still ends it. */
  drop(stream: EventStream): void {
    this.leave(stream);
    this.dropping.add(stream);
  }

  /** The newest decision published so far ("" for a governor that does not say: a test's). */
  newestDecision(): string {
    return typeof this.governor.newestDecisionId === "function" ? this.governor.newestDecisionId() : "";
  }

  /** Streams fed events, for tests ({@link open} is what the metrics count). */
  get size(): number {
    return this.streams.size;
  }

  /** Streams whose connection is open, dropped ones still waiting for their cut-off too: what VIGIL_MAX_STREAMS bounds. */
  get open(): number {
    return this.streams.size + this.dropping.size;
  }

  /**
   * Whether {@link endAll} was called: the server is shutting down. A stream let in before that
   * and still reading its backlog's first page joins after it; it must not be left open.
   */
  get ended(): boolean {
    return this.ending;
  }

  /** Ends every open stream at once (a server shutting down: its clients reconnect elsewhere). */
  endAll(): void {
    this.ending = true;
    // Deleting the current element while iterating a Set is safe. A dropped stream too: it
    // would hold the drain until its cut-off, longer than the default VIGIL_DRAIN_TIMEOUT.
    for (const s of this.streams) s.end();
    for (const s of this.dropping) s.end();
  }

  private publish(change: LiveChange): void {
    const type: EventType = change.kind;
    const objectId =
      change.kind === "decision"
        ? change.decision.objectId
        : change.kind === "deletion"
          ? change.objectId
          : change.action.objectId;
    let frame: Frame | null = null;
    for (const s of this.streams) if (s.wants(type, objectId)) s.push((frame ??= frameOf(change)));
  }
}

/**
 * The connection under a stream (Node's response), when there is one. Ending hono's stream does
 * not reach a response waiting for a client that does not read (it waits for the socket to
 * drain): that one is destroyed.
 */
export interface Connection {
  /** Bytes Node holds that the socket has not taken: a client that reads takes them at once. */
  readonly writableLength: number;
  destroy(): void;
}

/** The stored decisions a resumed stream sends first, read a page at a time. */
export interface Backlog {
  /** The event id the client resumes after (a decision's, or an action's). */
  from: string;
  /** The first page, read before the stream began. */
  first: Decision[];
  /** A page's size: a shorter one means the backlog is caught up. */
  size: number;
  /** The decisions after `after` (the newest one read, or `from`), a page, oldest first. */
  read(after: string): Promise<Decision[]>;
}

/** The limits of one stream's queue. */
export interface StreamLimits {
  events: number;
  bytes: number;
}

/**
 * One client's stream: joins the hub as it is made (so nothing committed after the request is
 * missed while the backlog is read), replays the backlog, then writes its queue in order.
 */
export class EventStream {
  private queue: Frame[] = [];
  private bytes = 0;
  /**
   * Decision ids in the queue, and those of the last backlog pages sent (newest last): what
   * de-duplication compares. Several pages, for an event published a few turns of the event
   * loop after its decision was read (the backlog gives the loop a turn after each page).
   */
  private readonly queued = new Set<string>();
  private replayed: Set<string>[] = [];
  /** Queued decisions the backlog has sent already, in their place: taken out of the queue after the page. */
  private readonly sentEarly = new Set<string>();
  private replaying = false;
  /** While the backlog is read: the newest decision id it has read (none before its first). */
  private readThrough: string | null = null;
  /**
   * A live decision after `readThrough` was left to the backlog (not queued) since its last read:
   * it reads again, even when caught up. Queued, such decisions (the backlog sends them anyway)
   * filled the queue of a client that kept up with a long backlog on a busy server, and dropped it.
   */
  private leftToBacklog = false;
  /**
   * Live decisions left to the backlog that it has not made up for (by writing as many frames
   * since): with the queue, how far the client is behind. Not counted, a client that stopped
   * reading during its backlog was never dropped (nothing was queued), and held its stream for
   * good. The actions of such decisions are left to it too, but not owed: the backlog writes no
   * frame for them (their decision shows their status).
   */
  private owed = 0;
  /**
   * Deletions queued while the backlog is sent: not counted against the queue's count of events
   * (only its bytes) until written. A deletion is not replayed, so it waits for the backlog's end
   * in the queue; counted, more than 1,000 of them dropped a client that kept up with a long backlog.
   */
  private readonly spared = new Set<Frame>();
  /**
   * The newest decision id published (as the stream joined, or pushed since) or read by its
   * backlog, and, for each deletion queued, what it was when the deletion came: a backlog
   * decision newer than that was taken after the deletion, which is written before it
   * (deletionsBefore). Left for the backlog's end, a deletion came after the decisions that
   * followed it: an object deleted and created again while the backlog was sent was told
   * deleted last, though it was there.
   */
  private newest = "";
  private readonly deletedAfter = new Map<Frame, string>();
  /** A page is being read: live decisions are queued meanwhile (the page takes out those it sends). */
  private reading = false;
  private wake: (() => void) | null = null;
  private heartbeat: TimerHandle | null = null;
  private cutoff: TimerHandle | null = null;
  /** Set while a client past the limit during its backlog has BEHIND_MS to come nearer. */
  private behindCheck: TimerHandle | null = null;
  private dropped = false;
  private closed = false;

  constructor(
    private readonly stream: SSEStreamingApi,
    private readonly clock: Clock,
    private readonly hub: EventHub,
    private readonly filter: EventFilter,
    private readonly connection?: Connection,
    private readonly limits: StreamLimits = { events: QUEUE_EVENTS, bytes: QUEUE_BYTES },
  ) {
    hub.join(this);
    // With nothing published between: every decision after it comes to push.
    this.newest = hub.newestDecision();
    stream.onAbort(() => this.close());
    this.beat();
    // Made after its hub was ended (the route turns such a request away, but nothing may hold
    // the drain): it ends at once.
    if (hub.ended) this.end();
  }

  wants(type: EventType, objectId: string): boolean {
    return this.filter.types.has(type) && (this.filter.objectId === undefined || this.filter.objectId === objectId);
  }

  /** Queues a live event; a queue past its limits drops the client. */
  push(frame: Frame): void {
    if (this.dropped || this.closed) return;
    if (frame.type === "decision" && frame.id! > this.newest) this.newest = frame.id!;
    if (this.replaying && (frame.type === "decision" || frame.type === "action")) {
      // One a recent backlog page sent already; one a page to come will read (committed: published).
      if (frame.type === "decision" && this.replayed.some((page) => page.has(frame.id!))) return;
      // An action of a decision a page to come will read: that decision shows its status then.
      // Queued, the actions of a busy server filled the queue of a client that kept up with a
      // long backlog (they wait for its end), and dropped it.
      const decision = frame.type === "decision" ? frame.id! : frame.decisionId!;
      // Not while a read is on its way (a remote database's): its answer may hold a later id and
      // not this one (committed after it, out of id order), and the next read starts after it.
      if (!this.reading && this.readThrough !== null && decision > this.readThrough) {
        this.leftToBacklog = true;
        // Only a decision is owed: the backlog writes it once, its actions' status with it, and
        // pays off one a frame. Counted too, the actions dropped a client whose backlog went
        // faster than decisions came but slower than they and their action events did.
        if (frame.type === "decision" && this.queue.length - this.spared.size + ++this.owed > this.limits.events)
          this.behind();
        return;
      }
    }
    const spare = this.replaying && frame.type === "deletion";
    const queued = this.queue.length - this.spared.size;
    if (!spare && queued >= this.limits.events) return this.overflow("events");
    if (!spare && queued + this.owed >= this.limits.events) this.behind();
    if (this.dropped) return;
    if (this.bytes + bytesOf(frame) > this.limits.bytes) return this.overflow("bytes");
    this.queue.push(frame);
    if (spare) this.spared.add(frame);
    if (frame.type === "deletion") this.deletedAfter.set(frame, this.newest);
    this.bytes += bytesOf(frame);
    if (frame.type === "decision") this.queued.add(frame.id!);
    this.wake?.();
  }

  /**
   * Writes the backlog's pages (decisions from the store, in id order; the queue passes over
   * those it holds too), then the queue, until the client goes or is dropped. `cursor`, for a
   * stream that resumes from no event, is the newest decision published before it joined: sent
   * as an `id:` alone (which dispatches nothing, and sets the client's last event id), so that a
   * client dropped before any decision came resumes after it, and misses none meanwhile.
   */
  async run(backlog?: Backlog, cursor?: string | null): Promise<void> {
    try {
      // Some clients and proxies wait for a first byte before they call a stream open.
      await this.stream.write(cursor ? `: connected\n\nid: ${cursor}\n\n` : ": connected\n\n");
      if (backlog) await this.replay(backlog);
      await this.drain();
    } finally {
      this.close();
    }
  }

  /** Sends the backlog's pages, each read after the last, until it is caught up. */
  private async replay(backlog: Backlog): Promise<void> {
    this.replaying = true;
    // Decisions committed between the first page's read and the stream's start were published
    // before it listened: the first page is always read after.
    this.leftToBacklog = true;
    let cursor = backlog.from;
    for (let page = backlog.first; ;) {
      // A decision read here may still have its live event to come (committed, not yet
      // published): the last pages' ids are kept to drop that event when it comes. One whose
      // live event is queued already goes now too, so that the backlog stays in order (a later
      // one may be unpublished yet), and its queued event is taken out after the page.
      const ids = new Set<string>();
      this.replayed = [...this.replayed.slice(1 - RECENT_PAGES), ids];
      if (page.length > 0) this.readThrough = cursor = page[page.length - 1]!.id;
      if (this.readThrough !== null && this.readThrough > this.newest) this.newest = this.readThrough;
      for (const d of page) {
        if (this.dropped || this.closed) return;
        await this.deletionsBefore(d.id);
        if (this.dropped || this.closed) return;
        (this.queued.has(d.id) ? this.sentEarly : ids).add(d.id);
        await this.stream.write(decisionFrame(d).text);
        if (this.owed > 0) this.owed--;
        this.nearer();
      }
      if (this.dropped || this.closed) return;
      this.unqueueSent();
      this.nearer();
      if (page.length < backlog.size && !this.leftToBacklog) break;
      // Reading and writing a page never waits for the event loop (the socket takes it while
      // the client keeps up): without a turn, a long backlog would hold every request.
      await nextTurn();
      this.leftToBacklog = false;
      this.reading = true;
      try {
        page = await backlog.read(cursor);
      } finally {
        this.reading = false;
      }
    }
    this.replaying = false;
    // Every decision left to it was sent.
    this.owed = 0;
    this.nearer();
  }

  /**
   * Takes the decisions a page sent early out of the queue: what the queue's limits count is
   * then only what the client has not had (a busy server publishes, during a long backlog, many
   * of the decisions the backlog reads; left queued, they dropped a client that kept up).
   */
  private unqueueSent(): void {
    if (this.sentEarly.size === 0) return;
    this.queue = this.queue.filter((frame) => {
      if (frame.type !== "decision" || !this.sentEarly.delete(frame.id!)) return true;
      this.queued.delete(frame.id!);
      this.bytes -= bytesOf(frame);
      return false;
    });
  }

  /**
   * Writes the queued deletions that came before the backlog's decision `id` (taken after the
   * newest decision the stream knew of when each came), ahead of it, with every event queued
   * before them: an action's status, or a decision the backlog will not send (one it read no
   * more, its object deleted since), that came before a deletion is not told after it. Those
   * decisions are older than `id` (the newest then was), so the backlog has passed them: those it
   * sent already (sentEarly) are only dropped from the queue.
   */
  private async deletionsBefore(id: string): Promise<void> {
    if (this.deletedAfter.size === 0) return;
    // Marks grow along the queue: every deletion up to the last one due is due.
    const last = this.queue.findLastIndex((f) => f.type === "deletion" && this.deletedAfter.get(f)! < id);
    if (last < 0) return;
    const before = this.queue.slice(0, last + 1);
    this.queue = this.queue.slice(last + 1);
    const due: Frame[] = [];
    for (const frame of before) {
      this.bytes -= bytesOf(frame);
      this.spared.delete(frame);
      this.deletedAfter.delete(frame);
      if (frame.type === "decision") {
        this.queued.delete(frame.id!);
        if (this.sentEarly.delete(frame.id!)) continue;
      }
      due.push(frame);
    }
    for (const frame of due) {
      if (this.dropped || this.closed) return;
      await this.stream.write(frame.text);
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      const frame = this.queue.shift();
      if (!frame) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      this.bytes -= bytesOf(frame);
      this.spared.delete(frame);
      this.deletedAfter.delete(frame);
      if (frame.type === "decision") {
        this.queued.delete(frame.id!);
        if (this.sentEarly.delete(frame.id!) || this.replayed.some((page) => page.delete(frame.id!))) continue;
      }
      await this.stream.write(frame.text);
      if (frame.type === "overflow") return;
    }
  }

  /**
   * More decisions owed (with the queue) than the queue holds, while the backlog is sent: the
   * client is dropped if it is still past the limit BEHIND_MS later, all along. Not at once: the
   * backlog fills the socket's buffers, and the kernel takes more only once a good part of them
   * has been read, so a client reading its backlog faster than decisions come saw no write for
   * seconds while more than a queue's worth came, and was dropped though it kept up.
   */
  private behind(): void {
    if (this.behindCheck || this.dropped || this.closed) return;
    this.behindCheck = this.clock.setTimeout(() => {
      this.behindCheck = null;
      if (!this.dropped && !this.closed && this.replaying) this.overflow("events");
    }, BEHIND_MS);
  }

  /** The backlog has made up for what was owed, down to the limit: the client is not dropped. */
  private nearer(): void {
    if (!this.behindCheck || this.owed + this.queue.length - this.spared.size > this.limits.events) return;
    this.clock.clearTimeout(this.behindCheck);
    this.behindCheck = null;
  }

  /** Drops the client: its queue goes, a last event says why, and the stream ends. */
  private overflow(passed: "events" | "bytes"): void {
    this.dropped = true;
    this.hub.drop(this);
    this.queue = [overflowFrame(passed, this.limits)];
    this.bytes = 0;
    this.owed = 0;
    this.queued.clear();
    this.sentEarly.clear();
    this.spared.clear();
    this.deletedAfter.clear();
    // A client that does not read even that is cut off.
    this.cutoff = this.clock.setTimeout(() => {
      this.stream.abort();
      this.connection?.destroy();
    }, FINAL_WRITE_MS);
    this.wake?.();
  }

  private beat(): void {
    this.heartbeat = this.clock.setTimeout(() => {
      // One heartbeat is enough in a queue: a client that has not read it yet is not idle.
      if (!this.dropped && this.queue.length === 0) {
        this.queue.push(HEARTBEAT);
        this.bytes += bytesOf(HEARTBEAT);
        this.wake?.();
      }
      this.beat();
    }, HEARTBEAT_MS);
  }

  /** Ends the stream now: what is queued is not sent (the client resumes with Last-Event-ID). */
  end(): void {
    this.close();
    this.stream.abort();
    // A client that is reading gets the stream's end. One that is not is cut off: what Node
    // still holds for it (a few bytes behind full socket buffers are enough) would hold the
    // response open, and the drain with it. (A reading client caught with bytes in flight loses
    // at most a frame, and resumes with Last-Event-ID.)
    if ((this.connection?.writableLength ?? 0) > 0) this.connection!.destroy();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.leave(this);
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    if (this.cutoff) this.clock.clearTimeout(this.cutoff);
    if (this.behindCheck) this.clock.clearTimeout(this.behindCheck);
    this.queue = [];
    this.bytes = 0;
    this.queued.clear();
    this.sentEarly.clear();
    this.deletedAfter.clear();
    this.replayed = [];
    this.wake?.();
  }
}
