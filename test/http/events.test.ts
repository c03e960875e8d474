// The event stream through the app (app.request(), a real governor on a virtual clock):
// decisions, action changes and deletions as they commit, filters, resuming from Last-Event-ID
// with no gap and no duplicate, heartbeats on the injected clock, a slow reader dropped with `overflow`, the
// problems before a stream starts, and ending every stream at shutdown.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/types.ts";
import type { GovernorApi } from "../../src/governor/services.ts";
import { endEventStreams, eventHub, HEARTBEAT_MS, QUEUE_EVENTS } from "../../src/http/sse.ts";
import { expectProblem, setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

interface Frame {
  event?: string;
  id?: string;
  data?: any;
  comment?: string;
}

/** Reads an SSE body frame by frame. */
class SseReader {
  private buf = "";
  private done = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** The next frame, comments included; null once the stream ended. */
  async frame(): Promise<Frame | null> {
    for (;;) {
      const end = this.buf.indexOf("\n\n");
      if (end >= 0) {
        const raw = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 2);
        return parse(raw);
      }
      if (this.done) return null;
      const { done, value } = await this.reader.read();
      if (done) this.done = true;
      else this.buf += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next event, comments skipped; null once the stream ended. */
  async event(): Promise<Frame | null> {
    for (;;) {
      const f = await this.frame();
      if (f === null || f.comment === undefined) return f;
    }
  }

  /** The next `n` events. */
  async events(n: number): Promise<Frame[]> {
    const out: Frame[] = [];
    while (out.length < n) {
      const e = await this.event();
      if (!e) throw new Error(`the stream ended after ${out.length} of ${n} events`);
      out.push(e);
    }
    return out;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function parse(raw: string): Frame {
  const f: Frame = {};
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) f.comment = line.slice(1).trim();
    else if (line.startsWith("event: ")) f.event = line.slice(7);
    else if (line.startsWith("id: ")) f.id = line.slice(4);
    else if (line.startsWith("data: ")) f.data = JSON.parse(line.slice(6));
  }
  return f;
}

let h: Harness;
const open: SseReader[] = [];
beforeEach(async () => {
  h = await setup();
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.cancel();
  await h.close();
});

async function follow(query = "", headers: Record<string, string> = {}, app = h.app): Promise<SseReader> {
  const res = await app.request(`/v1/events${query}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = new SseReader(res);
  open.push(reader);
  // The first bytes of every stream; then, for one that resumes from no event and has decisions
  // among its types, an id alone: where it begins, the newest decision so far.
  expect(await reader.frame()).toEqual({ comment: "connected" });
  const params = new URLSearchParams(query.replace(/^\?/, ""));
  const resumes = params.has("lastEventId") || Object.keys(headers).some((k) => k.toLowerCase() === "last-event-id");
  if (!resumes && (params.get("types") ?? "decision").split(",").includes("decision"))
    expect(await reader.frame()).toEqual({ id: expect.stringMatching(/^dec_[0-9a-z]{13,}$/) });
  return reader;
}

/** A reply that is a problem, not a stream: its body read and checked as one. */
async function problemOf(res: Response, status: number, type: string) {
  const text = await res.text();
  return expectProblem({ status: res.status, headers: res.headers, body: JSON.parse(text), text }, status, type);
}

const summary = (f: Frame) =>
  f.event === "decision"
    ? `decision ${f.data.objectId} ${f.data.fromState}->${f.data.toState}`
    : `${f.event} ${f.data.objectId} ${f.data.kind} ${f.data.status}`;

describe("live events", () => {
  test("a stored decision, then its action dispatched and confirmed; dry runs never", async () => {
    const stream = await follow();
    await h.services.governor.putObject("w", { policy: "queue-worker" });
    const created = await stream.event();
    expect(created).toMatchObject({ event: "decision", data: { objectId: "w", trigger: { kind: "create" } } });
    expect(created!.id).toBe(created!.data.id);

    await h.call("POST", "/v1/objects/w/evaluate", { json: { facts: { queue: { depth: 9 } } } });
    const posted = await h.call("POST", "/v1/objects/w/facts", { json: { facts: { queue: { depth: 3 } } } });
    await h.services.advance(1000);
    const [decision, dispatched, confirmed] = await stream.events(3);
    expect(decision!.id).toBe(posted.body.decision.id);
    const { explanation, ...rest } = posted.body.decision;
    expect(decision!.data).toEqual({ ...rest, summary: explanation.summary });
    const action = { id: rest.actions[0].id, objectId: "w", decisionId: rest.id, kind: "start", attempts: 1 };
    expect(dispatched).toEqual({ event: "action", id: action.id, data: { ...action, status: "dispatched" } });
    expect(confirmed).toEqual({ event: "action", id: action.id, data: { ...action, status: "confirmed" } });
  });

  test("an action replaced before it reached the driver: superseded; one the driver refuses: retrying, failed", async () => {
    const stream = await follow("?types=action");
    const g = h.services.governor;
    // A slow start is in flight while the object is told to sleep (its suspend waits behind the
    // start) and then to wake again: the new start replaces the waiting suspend.
    await g.putObject("o", { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 10_000 } } });
    await g.postFacts("o", { work: { pending: 1 } });
    const sleep = await g.postFacts("o", { work: { pending: 0 } });
    await g.postFacts("o", { work: { pending: 1 } });
    const suspend = sleep.decision.actions[0]!;
    expect(suspend.kind).toBe("suspend");
    const events = await stream.events(2);
    expect(events.map(summary)).toEqual(["action o start dispatched", "action o suspend superseded"]);
    expect(events[1]).toMatchObject({ id: suspend.id, data: { decisionId: sleep.decision.id, attempts: 0 } });

    await g.putObject("f", { policy: "on-demand", substrate: { driver: "simulated", config: { failRate: 1 } } });
    await g.postFacts("f", { work: { pending: 1 } });
    await h.services.advance(10 * 60_000);
    const failures: Frame[] = [];
    for (let f = await stream.event(); f; f = await stream.event()) {
      if (f.data.objectId !== "f") continue;
      failures.push(f);
      if (f.data.status === "failed") break;
    }
    expect([...new Set(failures.map(summary))]).toEqual([
      "action f start dispatched",
      "action f start retrying",
      "action f start failed",
    ]);
    expect(failures.at(-1)!.data.error).toEqual(expect.any(String));
  });

  test("a deletion, once committed: the object and when, with no id; filtered by type and object", async () => {
    const all = await follow();
    const decisionsOnly = await follow("?types=decision");
    const other = await follow("?objectId=v&types=deletion");
    const g = h.services.governor;
    await g.putObject("w", { policy: "queue-worker" });
    const created = await all.event();
    expect(created!.event).toBe("decision");
    await h.services.advance(5000);
    const at = new Date(h.services.governor.clock.now()).toISOString();
    expect((await h.call("DELETE", "/v1/objects/w")).status).toBe(204);
    expect(await all.event()).toEqual({ event: "deletion", data: { objectId: "w", at } });
    // A deletion of nothing (404) is no event; the streams filtered away from it get the next one.
    expect((await h.call("DELETE", "/v1/objects/w")).status).toBe(404);
    await g.putObject("v", { policy: "queue-worker" });
    await h.call("DELETE", "/v1/objects/v");
    expect((await all.events(2)).map((f) => `${f.event} ${f.data.objectId}`)).toEqual(["decision v", "deletion v"]);
    expect((await decisionsOnly.events(2)).map((f) => `${f.event} ${f.data.objectId}`)).toEqual([
      "decision w",
      "decision v",
    ]);
    expect((await other.event())!.data.objectId).toBe("v");
  });

  test("filters by type and object: each stream gets exactly its part of the whole, in order", async () => {
    const all = await follow();
    const filtered = {
      decisions: { reader: await follow("?types=decision"), keep: (f: Frame) => f.event === "decision" },
      b: { reader: await follow("?objectId=b"), keep: (f: Frame) => f.data.objectId === "b" },
      actionsOfA: {
        reader: await follow("?types=action&objectId=a"),
        keep: (f: Frame) => f.event === "action" && f.data.objectId === "a",
      },
      both: { reader: await follow("?types=action,decision"), keep: () => true },
    };
    const g = h.services.governor;
    await g.putObject("a", { policy: "queue-worker" });
    await g.putObject("b", { policy: "queue-worker" });
    await g.postFacts("a", { queue: { depth: 1 } });
    await h.services.advance(1000);
    await g.postFacts("b", { queue: { depth: 1 } });
    await h.services.advance(1000);
    const whole = await all.events(8);
    expect(whole.map(summary)).toEqual([
      "decision a dormant->dormant",
      "decision b dormant->dormant",
      "decision a dormant->waking",
      "action a start dispatched",
      "action a start confirmed",
      "decision b dormant->waking",
      "action b start dispatched",
      "action b start confirmed",
    ]);
    for (const { reader, keep } of Object.values(filtered)) {
      const expected = whole.filter(keep);
      expect((await reader.events(expected.length)).map(summary)).toEqual(expected.map(summary));
    }
  });
});

/**
 * `real`, whose first backlog read made once the stream listens (decisionsSince's second call: the
 * first page is read before the stream begins, so that a failure is a problem reply) first runs
 * `arrive`: what it posts commits and is published after the stream subscribed and before that
 * read. `more` replaces other methods.
 */
function arrivingBeforeBacklog(
  real: GovernorApi,
  arrive: () => Promise<void>,
  more: PropertyDescriptorMap = {},
): GovernorApi {
  let reads = 0;
  return Object.create(real, {
    ...more,
    decisionsSince: {
      value: async (after: string, limit: number, objectId?: string) => {
        if (++reads === 2) await arrive();
        return real.decisionsSince(after, limit, objectId);
      },
    },
  }) as GovernorApi;
}

/** A wrapper of `real` whose `n`-th backlog read, once its page is read, runs `arrive` before answering. */
function arrivingAfterRead(real: GovernorApi, n: number, arrive: () => Promise<void>): GovernorApi {
  let reads = 0;
  return Object.create(real, {
    decisionsSince: {
      value: async (after: string, limit: number, objectId?: string) => {
        const page = await real.decisionsSince(after, limit, objectId);
        if (++reads === n) await arrive();
        return page;
      },
    },
  }) as GovernorApi;
}

/**
 * A `watch` for a wrapper of `real` that holds back the live event of the first decision after
 * `hold()` (the gap between a commit and its event, made long); `release()` publishes it.
 */
function heldDecision(real: GovernorApi) {
  let holding = false;
  let held: (() => void) | null = null;
  return {
    hold: () => void (holding = true),
    release: () => {
      expect(held).not.toBeNull();
      held!();
    },
    watch: {
      value: (listener: Parameters<GovernorApi["watch"]>[0]) =>
        real.watch((change) => {
          if (change.kind === "decision" && holding) {
            holding = false;
            held = () => listener(change);
          } else listener(change);
        }),
    },
  };
}

/** A full backlog page (200) of decisions to "x", the last one's live event held by `events`. */
async function pageEndingHeld(real: GovernorApi, events: ReturnType<typeof heldDecision>): Promise<Decision[]> {
  const page: Decision[] = [];
  for (let i = 0; i < 199; i++) page.push((await real.postFacts("x", { n: i })).decision);
  events.hold();
  page.push((await real.postFacts("x", { n: 199 })).decision);
  return page;
}

describe("resuming from Last-Event-ID", () => {
  async function history(n: number): Promise<Decision[]> {
    await h.services.governor.putObject("w", { policy: "queue-worker" });
    await h.services.governor.putObject("x", { policy: "queue-worker" });
    const out: Decision[] = [];
    for (let i = 1; i <= n; i++) {
      out.push((await h.services.governor.postFacts(i % 2 ? "w" : "x", { n: i })).decision);
      await h.services.advance(1000);
    }
    return out;
  }

  test("a stream begun from no event names where it begins, and a client dropped before a decision resumes from there", async () => {
    // No decision yet: a cursor before any, from which every decision comes.
    const empty = await h.app.request("/v1/events");
    const early = new SseReader(empty);
    open.push(early);
    expect(await early.frame()).toEqual({ comment: "connected" });
    expect(await early.frame()).toEqual({ id: "dec_0000000000000" });
    const [, second] = await history(2);
    const first = await h.app.request("/v1/events?objectId=x");
    const dropped = new SseReader(first);
    expect(await dropped.frame()).toEqual({ comment: "connected" });
    // The newest decision of any object (a filter does not change where the stream stands).
    expect(await dropped.frame()).toEqual({ id: second!.id });
    await dropped.cancel();
    const meanwhile = await h.services.governor.postFacts("x", { n: 3 });
    const back = await follow("?objectId=x", { "last-event-id": second!.id });
    expect((await back.events(1)).map((f) => f.id)).toEqual([meanwhile.decision.id]);
    const fromStart = await follow("", { "last-event-id": "dec_0000000000000" });
    // Every decision: the creations of w and x, then their facts.
    expect((await fromStart.events(5)).map((f) => f.data.trigger.kind)).toEqual([
      "create",
      "create",
      "facts",
      "facts",
      "facts",
    ]);
    // A stream of actions and deletions only has no decision to resume: no id.
    const actions = await h.app.request("/v1/events?types=action,deletion");
    const noId = new SseReader(actions);
    open.push(noId);
    expect(await noId.frame()).toEqual({ comment: "connected" });
    await h.services.governor.deleteObject("w");
    expect(await noId.frame()).toMatchObject({ event: "deletion", data: { objectId: "w" } });
  });

  test("the stored decisions after it first, in order, then live ones", async () => {
    const [, second, ...after] = await history(5);
    const stream = await follow("", { "last-event-id": second!.id });
    const replayed = await stream.events(3);
    expect(replayed.map((f) => f.id)).toEqual(after.map((d) => d.id));
    expect(replayed.every((f) => f.event === "decision" && f.data.explanation === undefined)).toBe(true);
    const live = await h.services.governor.postFacts("w", { n: 6 });
    expect((await stream.event())!.id).toBe(live.decision.id);
  });

  test("the query parameter, an action's id, and the object filter", async () => {
    const ds = await history(4);
    const byQuery = await follow(`?lastEventId=${ds[1]!.id}&objectId=w`);
    expect((await byQuery.events(1)).map((f) => f.id)).toEqual([ds[2]!.id]);
    // The header wins over the query parameter.
    const both = await follow(`?lastEventId=${ds[0]!.id}`, { "last-event-id": ds[2]!.id });
    expect((await both.events(1)).map((f) => f.id)).toEqual([ds[3]!.id]);
    // An action's id resumes after the decisions taken before it.
    await h.services.governor.postFacts("w", { queue: { depth: 1 } });
    const [wake] = await h.services.governor.listDecisions("w", 1);
    await h.services.governor.postFacts("x", { n: 9 });
    // The action's own decision was sent before it: resuming starts after that decision.
    const fromAction = await follow("", { "last-event-id": wake!.actions[0]!.id });
    expect((await fromAction.events(1))[0]!.data).toMatchObject({ objectId: "x", memoryVersion: 3 });
  });

  /**
   * Follows `governor` from `after`: the `count` decisions `ids` names come first, in order, then the
   * next one posted (to the app's own governor) comes once, live.
   */
  async function resumesWith(governor: GovernorApi, after: string, count: number, ids: () => string[]) {
    const { stream, close } = await through(governor, after);
    try {
      // `ids` is read once they came: what it names may be posted while the stream starts.
      expect((await stream.events(count)).map((f) => f.id)).toEqual(ids());
      const next = await h.services.governor.postFacts("w", { n: 100 });
      expect((await stream.event())!.id).toBe(next.decision.id);
    } finally {
      await close();
    }
  }

  /** A second app over `real` through a wrapper of its API, following from `lastEventId`. */
  async function through(governor: GovernorApi, lastEventId: string) {
    const other = await setup({ governor });
    const res = await other.app.request("/v1/events", { headers: { "last-event-id": lastEventId } });
    const stream = new SseReader(res);
    open.push(stream);
    return { stream, close: () => other.close() };
  }

  test("a decision published while the backlog is read comes once", async () => {
    const ds = await history(2);
    const real = h.services.governor;
    // Committed and published after the stream subscribed, before the backlog is read.
    let late: Decision | null = null;
    const governor = arrivingBeforeBacklog(real, async () => {
      late = (await real.postFacts("x", { n: 99 })).decision;
    });
    await resumesWith(governor, ds[0]!.id, 2, () => [ds[1]!.id, late!.id]);
  });

  test("a backlog of several pages, published live while it is read, comes once and in order", async () => {
    const ds = await history(1);
    const real = h.services.governor;
    // More than a page (200) of arrivals committed and published after the stream subscribed,
    // before its first page is read: every one is both in the backlog and in the live queue.
    const late: Decision[] = [];
    const governor = arrivingBeforeBacklog(real, async () => {
      for (let i = 0; i < 250; i++) late.push((await real.postFacts("x", { n: 1000 + i })).decision);
    });
    const { stream, close } = await through(governor, ds[0]!.id);
    try {
      expect((await stream.events(250)).map((f) => f.id)).toEqual(late.map((d) => d.id));
      const next = await real.postFacts("w", { n: 2000 });
      expect((await stream.event())!.id).toBe(next.decision.id);
    } finally {
      await close();
    }
  });

  test("a long backlog lets the event loop turn between its pages", async () => {
    // The store answers at once behind a promise and the reader keeps up: without a turn
    // between pages, every other request (and the lease's renewal) would wait for the whole
    // backlog.
    const ds = await history(450);
    const stream = await follow("", { "last-event-id": ds[0]!.id });
    let read = 0;
    let turned = -1;
    setImmediate(() => (turned = read));
    for (; read < 449; read++) expect((await stream.event())!.id).toBe(ds[read + 1]!.id);
    expect(turned).toBeGreaterThanOrEqual(0);
    expect(turned).toBeLessThan(449);
  });

  test("a decision the backlog held before it was published is not sent again", async () => {
    const ds = await history(2);
    const real = h.services.governor;
    // The arrival commits before the backlog is read, but its event is published only after
    // the backlog was sent (the gap between a commit and its event).
    let late: Decision | null = null;
    const events = heldDecision(real);
    const governor = arrivingBeforeBacklog(
      real,
      async () => {
        events.hold();
        late = (await real.postFacts("x", { n: 99 })).decision;
      },
      { watch: events.watch },
    );
    const { stream, close } = await through(governor, ds[0]!.id);
    try {
      expect((await stream.events(2)).map((f) => f.id)).toEqual([ds[1]!.id, late!.id]);
      events.release();
      const next = await real.postFacts("w", { n: 100 });
      expect((await stream.event())!.id).toBe(next.decision.id);
    } finally {
      await close();
    }
  });

  test("a decision committed after the first page was read and before the stream listened comes once", async () => {
    const ds = await history(2);
    const real = h.services.governor;
    // The first page is read before the stream begins; this decision commits (and is published,
    // to nobody yet) after that read: only the read made once the stream listens has it.
    let late: Decision | null = null;
    const governor = arrivingAfterRead(real, 1, async () => {
      late = (await real.postFacts("x", { n: 99 })).decision;
      await new Promise((r) => setImmediate(r));
    });
    await resumesWith(governor, ds[0]!.id, 2, () => [ds[1]!.id, late!.id]);
  });

  test("a decision ending a full backlog page, published while the next page is read, comes once and in order", async () => {
    const ds = await history(1);
    const real = h.services.governor;
    // Page 1 (200 decisions) ends with one committed whose event is held; it is published
    // while page 2 is read, after page 1 was sent and its ids were set aside. (Read 1, before
    // the stream begins, finds nothing after ds[0].)
    const late: Decision[] = [];
    const events = heldDecision(real);
    let reads = 0;
    const governor = Object.create(real, {
      watch: events.watch,
      decisionsSince: {
        value: async (after: string, limit: number, objectId?: string) => {
          reads++;
          if (reads === 2) {
            late.push(...(await pageEndingHeld(real, events)));
          } else if (reads === 3) {
            late.push((await real.postFacts("w", { n: 500 })).decision);
            events.release();
          }
          return real.decisionsSince(after, limit, objectId);
        },
      },
    }) as GovernorApi;
    await resumesWith(governor, ds[0]!.id, 201, () => late.map((d) => d.id));
  });

  test("a decision published a few turns after its page was sent, with pages still to come, comes once", async () => {
    const ds = await history(1);
    const real = h.services.governor;
    // Page 1 ends with a decision committed whose event is held; it is published three turns of
    // the event loop later (the backlog gives one after each page), while two more pages follow.
    const late: Decision[] = [];
    const events = heldDecision(real);
    let reads = 0;
    const governor = Object.create(real, {
      watch: events.watch,
      decisionsSince: {
        value: async (after: string, limit: number, objectId?: string) => {
          if (++reads === 2) {
            late.push(...(await pageEndingHeld(real, events)));
            for (let i = 0; i < 400; i++) late.push((await real.postFacts("w", { n: 1000 + i })).decision);
            const page = await real.decisionsSince(after, limit, objectId);
            setImmediate(() => setImmediate(() => setImmediate(() => events.release())));
            return page;
          }
          return real.decisionsSince(after, limit, objectId);
        },
      },
    }) as GovernorApi;
    await resumesWith(governor, ds[0]!.id, 600, () => late.map((d) => d.id));
  });

  test("a decision published while the last page is read, after the newest the backlog has read, comes after it, once", async () => {
    const ds = await history(3);
    const real = h.services.governor;
    // The first page (read before the stream began) has ds[1] and ds[2]; while the stream's
    // own read finds nothing more, a decision after them is committed and published: it is left
    // to the backlog (not queued), which must read again.
    let late: Decision | null = null;
    const governor = arrivingAfterRead(real, 2, async () => {
      late = (await real.postFacts("x", { n: 99 })).decision;
    });
    await resumesWith(governor, ds[0]!.id, 3, () => [ds[1]!.id, ds[2]!.id, late!.id]);
  });

  test("a decision committed out of id order and published while a page read is on its way (a remote database) comes once", async () => {
    const ds = await history(2);
    const real = h.services.governor;
    let listener: Parameters<GovernorApi["watch"]>[0] | null = null;
    // A is minted before B but commits after it: the read whose snapshot falls between the two
    // sees B and not A, and A is published while that read's answer is still on its way.
    const a = (await real.postFacts("w", { n: 50 })).decision;
    const b = (await real.postFacts("x", { n: 51 })).decision;
    expect(a.id < b.id).toBe(true);
    let reads = 0;
    const governor = Object.create(real, {
      watch: {
        value: (l: Parameters<GovernorApi["watch"]>[0]) => {
          listener = l;
          return real.watch(l);
        },
      },
      decisionsSince: {
        value: async (after: string, limit: number, objectId?: string) => {
          const page = await real.decisionsSince(after, limit, objectId);
          reads++;
          // Read 1 (before the stream began): its snapshot predates A and B.
          if (reads === 1) return page.filter((d) => d.id !== a.id && d.id !== b.id);
          if (reads === 2) {
            await new Promise((r) => setImmediate(r));
            listener!({ kind: "decision", decision: a });
            return page.filter((d) => d.id !== a.id);
          }
          return page;
        },
      },
    }) as GovernorApi;
    await resumesWith(governor, ds[0]!.id, 3, () => [ds[1]!.id, b.id, a.id]);
  });

  test("a decision queued live before a later one the backlog holds unpublished comes first, once", async () => {
    const ds = await history(1);
    const real = h.services.governor;
    // Both commit before the backlog is read: the first is published at once, the second's
    // event only after the backlog was sent. The backlog has both, in order.
    const late: Decision[] = [];
    const events = heldDecision(real);
    const governor = arrivingBeforeBacklog(
      real,
      async () => {
        late.push((await real.postFacts("x", { n: 98 })).decision);
        events.hold();
        late.push((await real.postFacts("w", { n: 99 })).decision);
      },
      { watch: events.watch },
    );
    const { stream, close } = await through(governor, ds[0]!.id);
    try {
      expect((await stream.events(2)).map((f) => f.id)).toEqual(late.map((d) => d.id));
      events.release();
      const next = await real.postFacts("w", { n: 100 });
      expect((await stream.event())!.id).toBe(next.decision.id);
    } finally {
      await close();
    }
  });
});

test("a heartbeat comment every 15 s of the governor's clock", async () => {
  const stream = await follow();
  const first = stream.frame();
  await h.services.advance(HEARTBEAT_MS - 1);
  await h.services.governor.putObject("w", { policy: "queue-worker" });
  expect((await first)!.event).toBe("decision");
  const beat = stream.frame();
  await h.services.advance(1);
  expect(await beat).toEqual({ comment: "heartbeat" });
  const again = stream.frame();
  await h.services.advance(HEARTBEAT_MS);
  expect(await again).toEqual({ comment: "heartbeat" });
});

test("a client that does not read is dropped with `overflow`; nothing stays buffered for it", async () => {
  const g = h.services.governor;
  const listeners = g.events.listenerCount("decision:recorded");
  const res = await h.app.request("/v1/events?types=decision");
  await g.putObject("w", { policy: "queue-worker" });
  expect(eventHub(g).size).toBe(1);
  // Far more events than the queue holds, while the client reads nothing.
  for (let i = 1; i <= QUEUE_EVENTS + 100; i++) await g.postFacts("w", { n: i });
  expect(eventHub(g).size).toBe(0);
  expect(g.events.listenerCount("decision:recorded")).toBe(listeners);

  const stream = new SseReader(res);
  let decisions = 0;
  let last: Frame | null = null;
  for (let f = await stream.event(); f !== null && decisions <= QUEUE_EVENTS + 100; f = await stream.event()) {
    last = f;
    if (f.event === "decision") decisions++;
  }
  expect(last?.event).toBe("overflow");
  expect(last?.data.reason).toContain("Last-Event-ID");
  // Only what was already on its way before the queue filled.
  expect(decisions).toBeLessThan(5);
});

test("ending the streams of a governor (at shutdown) ends every open stream", async () => {
  const a = await follow();
  const b = await follow("?types=action");
  expect(eventHub(h.services.governor).size).toBe(2);
  endEventStreams(h.services.governor);
  expect(await a.frame()).toBeNull();
  expect(await b.frame()).toBeNull();
  expect(eventHub(h.services.governor).size).toBe(0);
});

test("a stream resuming while the server starts to shut down (its backlog's first read under way) ends too", async () => {
  // The first page is read before the stream joins the hub: a shutdown that ended every stream
  // meanwhile did not reach it, and the stream held the drain until its timeout.
  await h.services.governor.putObject("w", { policy: "queue-worker" });
  const [d] = await h.services.governor.listDecisions("w", 1);
  const real = h.services.governor;
  let reading!: () => void;
  const started = new Promise<void>((resolve) => (reading = resolve));
  let answer!: () => void;
  const held = new Promise<void>((resolve) => (answer = resolve));
  const slow = Object.create(real, {
    decisionsSince: {
      value: async (after: string, limit: number, objectId?: string) => {
        reading();
        await held;
        return real.decisionsSince(after, limit, objectId);
      },
    },
  }) as GovernorApi;
  const other = await setup({ governor: slow });
  try {
    const reply = other.app.request("/v1/events", { headers: { "last-event-id": d!.id } });
    await started;
    endEventStreams(slow);
    answer();
    const res = await reply;
    expect(eventHub(slow).size).toBe(0);
    // Before the body is read: an open stream's never ends.
    expect(res.status).toBe(503);
    const problem = await problemOf(res, 503, "unavailable");
    expect(problem.detail).toContain("shutting down");
  } finally {
    await other.close();
  }
});

describe("how many streams", () => {
  test("past VIGIL_MAX_STREAMS a 503 with Retry-After; a stream that ends makes room", async () => {
    const limited = await setup({ maxStreams: 2 });
    try {
      const a = await follow("", {}, limited.app);
      await follow("?types=action", {}, limited.app);
      const res = await limited.app.request("/v1/events");
      const problem = await problemOf(res, 503, "unavailable");
      expect(problem.detail).toContain("VIGIL_MAX_STREAMS");
      expect(res.headers.get("retry-after")).toBe("5");
      expect(eventHub(limited.services.governor).size).toBe(2);
      await a.cancel();
      expect(eventHub(limited.services.governor).size).toBe(1);
      await follow("", {}, limited.app);
    } finally {
      for (const r of open.splice(0)) await r.cancel();
      await limited.close();
    }
  });

  test("streams resuming together (Last-Event-ID) keep to VIGIL_MAX_STREAMS too", async () => {
    // Each reads its backlog's first page before it joins: all four passed the limit during
    // their reads, and four streams were open where one is served.
    const limited = await setup({ maxStreams: 1 });
    try {
      await limited.services.governor.putObject("w1", { policy: "on-demand" });
      const [d] = await limited.services.governor.listDecisions("w1", 1);
      const resume = () => limited.app.request("/v1/events", { headers: { "last-event-id": d!.id } });
      const replies = await Promise.all([resume(), resume(), resume(), resume()]);
      for (const r of replies) if (r.status === 200) void r.body!.cancel();
      expect(replies.map((r) => r.status).sort()).toEqual([200, 503, 503, 503]);
    } finally {
      await limited.close();
    }
  });
});

describe("HEAD", () => {
  test("answers with the stream's headers and starts no stream", async () => {
    const hub = eventHub(h.services.governor);
    for (let i = 0; i < 3; i++) {
      const res = await h.app.request("/v1/events", { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      expect(res.body).toBeNull();
    }
    expect(hub.size).toBe(0);
  });
});

describe("problems before the stream starts", () => {
  test.each([
    ["an unknown type", "?types=decision,timer", {}, "$.query.types"],
    ["a type's name in the plural", "?types=deletions", {}, "$.query.types"],
    ["an empty item in types", "?types=decision,", {}, "$.query.types"],
    ["a bad object id", "?objectId=a%20b", {}, "$.query.objectId"],
    ["an object id no object has (.)", "?objectId=.", {}, "$.query.objectId"],
    ["an object id no object has (..)", "?objectId=..", {}, "$.query.objectId"],
    ["a bad lastEventId", "?lastEventId=nope", {}, "$.query.lastEventId"],
    ["a bad Last-Event-ID header", "", { "last-event-id": "dec_../../x" }, "$.headers.Last-Event-ID"],
  ])("%s: 422 naming it", async (_what, query, headers, path) => {
    const res = await h.app.request(`/v1/events${query}`, { headers });
    const problem = await problemOf(res, 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([path]);
  });

  // ".." is two characters of the id alphabet: a message giving only the alphabet would leave the
  // client wondering what was wrong with it.
  test.each([".", ".."])("?objectId=%s: the message says that id is not one", async (id) => {
    const res = await h.app.request(`/v1/events?objectId=${id}`);
    const problem = await problemOf(res, 422, "validation");
    expect(problem.errors).toEqual([
      { path: "$.query.objectId", message: expect.stringContaining("but not . or .. alone") },
    ]);
  });

  test.each([
    ["no token", 401, undefined],
    ["a write:objects token", 403, TOKENS.objects],
    ["a read token", 200, TOKENS.read],
  ])("scope read: %s -> %i", async (_what, status, token) => {
    const guarded = await setup({ tokens: TOKEN_CONFIG });
    try {
      const res = await guarded.app.request("/v1/events", {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      expect(res.status).toBe(status);
      await res.body?.cancel();
    } finally {
      await guarded.close();
    }
  });
});
