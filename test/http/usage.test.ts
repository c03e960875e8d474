// Usage over HTTP, on both stores (libsql keeps decisions compactly, so its state reads decode
// compact bodies): one object's seconds per state, wakes and state changes from a lifecycle
// driven on a virtual clock, with exact figures; windows before creation and after retention;
// sums per policy with paging; and the problems for bad windows.

import { afterEach, describe, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { policyUsageReply, usageReply } from "../../src/http/routes/usage.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import type { Store } from "../../src/core/store.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";
import { expectProblem, TOKEN_CONFIG, TOKENS, type Reply } from "./harness.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function start(store: Store, tokens = false) {
  s = await makeServices({ store, ...(tokens ? { tokens: TOKEN_CONFIG } : {}) });
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: s.tokens });
  const get = async (path: string, token?: string): Promise<Reply> => {
    const res = await app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text), text };
  };
  return { s, get };
}

/** Seconds per state; the five states in the order the API lists them. */
const secs = (dormant: number, waking: number, active: number, sleeping: number, failed = 0) => ({
  dormant,
  waking,
  active,
  sleeping,
  failed,
});
const total = (seconds: Record<string, number>) => Object.values(seconds).reduce((a, b) => a + b, 0);

/** The object of {@link lifecycle}, created at START; a minute later. */
async function created(t: TestServices, id = "w") {
  await t.governor.putObject(id, {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 10_000, suspendMs: 4_000 } },
  });
  await t.advance(MINUTE);
}

/**
 * A queue-worker bound to the simulated driver with a 10 s start and a 4 s suspend: created at
 * START (dormant), work at +60 s (waking), started at +70 s (active), idle at +130 s but held by
 * dwell.minActive (2 min from the wake) until +180 s (sleeping), suspended at +184 s (dormant).
 */
async function lifecycle(t: TestServices, id = "w") {
  await created(t, id);
  await t.governor.postFacts(id, { queue: { depth: 3 } });
  await t.advance(70 * SECOND);
  await t.governor.postFacts(id, { queue: { depth: 0 } });
  await t.advance(HOUR);
}

describe.each([
  ["MemoryStore", () => new MemoryStore()],
  ["LibsqlStore", () => new LibsqlStore({ url: ":memory:" })],
])("GET /v1/objects/:id/usage on %s", (_name, newStore) => {
  test("seconds per state, wakes and state changes of a lifecycle, confirmations included", async () => {
    const { get } = await start(newStore());
    await lifecycle(s!);
    const reply = await get(`/v1/objects/w/usage?from=${iso(START)}&to=${iso(START + HOUR)}`);
    expect(reply.status).toBe(200);
    expect(usageReply.safeParse(reply.body).success).toBe(true);
    expect(reply.body).toEqual({
      objectId: "w",
      from: iso(START),
      to: iso(START + HOUR),
      seconds: secs(60 + 3600 - 184, 10, 110, 4),
      wakes: 1,
      transitions: 4,
    });
  });

  test("a long history, read over many pages, adds up exactly; a short window reads a few decisions of it", async () => {
    const store = newStore();
    const { get } = await start(store);
    await created(s!);
    // 60 times: work (waking 10 s, active until dwell ends 2 min after the wake, sleeping
    // 4 s), then dormant for the rest of the cycle's 70 s + 1 h. Three decisions a cycle.
    const N = 60;
    const CYCLE = 70 + 3600;
    for (let i = 0; i < N; i++) {
      await s!.governor.postFacts("w", { queue: { depth: 3 } });
      await s!.advance(70 * SECOND);
      await s!.governor.postFacts("w", { queue: { depth: 0 } });
      await s!.advance(HOUR);
    }
    const end = START + (60 + N * CYCLE) * SECOND;
    const whole = await get(`/v1/objects/w/usage?from=${iso(START)}&to=${iso(end)}`);
    expect(whole.body).toMatchObject({
      seconds: secs(60 + N * (CYCLE - 124), N * 10, N * 110, N * 4),
      wakes: N,
      transitions: 4 * N,
    });
    // A few seconds of the first cycle's start: the history after them is not read.
    let read = 0;
    const stateChanges = store.history.stateChanges.bind(store.history);
    store.history.stateChanges = async (id, q) => {
      const page = await stateChanges(id, q);
      read += page.length;
      return page;
    };
    const short = await get(`/v1/objects/w/usage?from=${iso(START + 65 * SECOND)}&to=${iso(START + 72 * SECOND)}`);
    expect(short.body.seconds).toEqual(secs(0, 5, 2, 0));
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(20);
  });

  test("an object deleted and created again while its history is read: the usage of the new one, not a mix", async () => {
    const store = newStore();
    const { get } = await start(store);
    await created(s!);
    for (let i = 0; i < 20; i++) {
      await s!.governor.postFacts("w", { queue: { depth: 3 } });
      await s!.advance(70 * SECOND);
      await s!.governor.postFacts("w", { queue: { depth: 0 } });
      await s!.advance(HOUR);
    }
    const q = `/v1/objects/w/usage?from=${iso(START)}&to=${iso(s!.clock.now())}`;
    // While the first page of the window is read (usage gives the event loop a turn between
    // pages), a request deletes w and creates it again, and a fact wakes the new one.
    let pages = 0;
    const stateChanges = store.history.stateChanges.bind(store.history);
    store.history.stateChanges = async (id, query) => {
      const page = await stateChanges(id, query);
      if (query.after !== undefined && ++pages === 1) {
        await s!.governor.deleteObject("w");
        await s!.governor.putObject("w", { policy: "queue-worker" });
        await s!.governor.postFacts("w", { queue: { depth: 5 } });
      }
      return page;
    };
    const raced = await get(q);
    await s!.governor.idle();
    store.history.stateChanges = stateChanges;
    const after = await get(q);
    expect(after.body).toMatchObject({ from: iso(s!.clock.now()), wakes: 0, transitions: 0 });
    expect(raced.status).toBe(200);
    expect(raced.body).toEqual(after.body);
  });

  test("an object deleted while its history is read: 404", async () => {
    const store = newStore();
    const { get } = await start(store);
    await lifecycle(s!);
    const stateChanges = store.history.stateChanges.bind(store.history);
    store.history.stateChanges = async (id, query) => {
      const page = await stateChanges(id, query);
      if (await s!.governor.getObject("w")) await s!.governor.deleteObject("w");
      return page;
    };
    expectProblem(await get(`/v1/objects/w/usage?from=${iso(START)}&to=${iso(s!.clock.now())}`), 404, "not-found");
  });

  test("a window that starts before creation is clipped to it; the seconds add up to what is left", async () => {
    const { get } = await start(newStore());
    await lifecycle(s!);
    const reply = await get(`/v1/objects/w/usage?from=${iso(START - HOUR)}&to=${iso(START + 2 * MINUTE)}`);
    expect(reply.body.from).toBe(iso(START));
    expect(reply.body.seconds).toEqual(secs(60, 10, 50, 0));
    expect(total(reply.body.seconds)).toBe(120);
    expect(reply.body).toMatchObject({ wakes: 1, transitions: 2 });
  });

  test("a window that ends before creation is empty: from is to, and every figure 0", async () => {
    const { get } = await start(newStore());
    await lifecycle(s!);
    const reply = await get(`/v1/objects/w/usage?from=${iso(START - 2 * HOUR)}&to=${iso(START - HOUR)}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ from: iso(START - HOUR), to: iso(START - HOUR), wakes: 0, transitions: 0 });
    expect(reply.body.seconds).toEqual(secs(0, 0, 0, 0));
  });

  test("a window in the middle starts in the state the last decision before it left", async () => {
    const { get } = await start(newStore());
    await lifecycle(s!);
    // At +65 s the object is waking (the decision at +60 s); its start is confirmed at +70 s,
    // the change at +180 s is in the window, which ends at +182 s while it is sleeping.
    const reply = await get(`/v1/objects/w/usage?from=${iso(START + 65 * SECOND)}&to=${iso(START + 182 * SECOND)}`);
    expect(reply.body.seconds).toEqual(secs(0, 5, 110, 2));
    expect(reply.body).toMatchObject({ wakes: 0, transitions: 2 });
  });

  test("a fact while the start is on its way: its no-change decision does not hide the start's confirmation", async () => {
    const { get } = await start(newStore());
    const t = s!;
    await created(t);
    await t.governor.postFacts("w", { queue: { depth: 3 } }); // +60 s: waking
    await t.advance(5 * SECOND);
    await t.governor.postFacts("w", { queue: { depth: 4 } }); // +65 s: waking -> waking
    await t.advance(65 * SECOND); // started at +70 s
    await t.governor.postFacts("w", { queue: { depth: 0 } }); // +130 s, held until +180 s
    await t.advance(HOUR);
    const reply = await get(`/v1/objects/w/usage?from=${iso(START + 67 * SECOND)}&to=${iso(START + HOUR)}`);
    expect(reply.body.seconds).toEqual(secs(3600 - 184, 3, 110, 4));
    expect(reply.body).toMatchObject({ wakes: 0, transitions: 3 });
  });

  test("a fact while the suspend is on its way: the suspend's confirmation still ends the sleeping", async () => {
    const { get } = await start(newStore());
    const t = s!;
    await created(t);
    await t.governor.postFacts("w", { queue: { depth: 3 } }); // +60 s wake, active at +70 s
    await t.advance(70 * SECOND);
    await t.governor.postFacts("w", { queue: { depth: 0 } }); // +130 s; sleeping at +180 s
    await t.advance(52 * SECOND);
    await t.governor.postFacts("w", { note: "x" }); // +182 s: sleeping -> sleeping
    // Suspended at +184 s; woken by its 6 h timer, so that its record no longer says when it slept.
    await t.advance(7 * HOUR);
    const reply = await get(`/v1/objects/w/usage?from=${iso(START + 183 * SECOND)}&to=${iso(START + HOUR)}`);
    expect(reply.body.seconds).toEqual(secs(3600 - 184, 0, 0, 1));
    expect(reply.body).toMatchObject({ wakes: 0, transitions: 1 });
  });

  test("when retention deleted the decisions before the window, the first kept one's fromState starts it", async () => {
    const { s: t, get } = await start(newStore());
    await lifecycle(t);
    // Keeps only the decision at +180 s (active -> sleeping) and those after it.
    await t.store.deleteDecisions((await t.store.oldDecisions(START + 150 * SECOND, 100)).map((d) => d.id));
    const left = await t.governor.listDecisions("w", 100);
    expect(left.map((d) => `${d.fromState}->${d.toState}`).reverse()[0]).toBe("active->sleeping");
    const reply = await get(`/v1/objects/w/usage?from=${iso(START + 100 * SECOND)}&to=${iso(START + HOUR)}`);
    expect(reply.body.seconds).toEqual(secs(3600 - 184, 0, 80, 4));
    expect(reply.body).toMatchObject({ wakes: 0, transitions: 2 });
  });

  test("without from and to: the last 24 hours up to now, clipped to the object's life", async () => {
    const { s: t, get } = await start(newStore());
    await lifecycle(t);
    await t.advance(30 * HOUR);
    const now = t.clock.now();
    const reply = await get("/v1/objects/w/usage");
    expect(reply.body).toMatchObject({ from: iso(now - 24 * HOUR), to: iso(now), wakes: 0, transitions: 0 });
    // The dormancy at +180 s set a wake timer 6 h on: active since +21,790 s, all of the last 24 h.
    expect(reply.body.seconds).toEqual(secs(0, 0, 24 * 3600, 0));
    // A `to` in the future is now: time to come has no usage yet.
    const later = await get(`/v1/objects/w/usage?from=${iso(now - HOUR)}&to=${iso(now + HOUR)}`);
    expect(later.body.to).toBe(iso(now));
  });

  test("a failure recorded as a decision: waking until it, failed after", async () => {
    const { s: t, get } = await start(newStore());
    await t.governor.putObject("f", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    await t.advance(MINUTE);
    await t.governor.postFacts("f", { queue: { depth: 1 } });
    await t.advance(10 * MINUTE);
    const [failure, wake] = await t.governor.listDecisions("f", 2);
    expect(failure!.toState).toBe("failed");
    const to = t.clock.now();
    const reply = await get(`/v1/objects/f/usage?from=${iso(START)}&to=${iso(to)}`);
    expect(reply.body.seconds).toEqual({
      ...secs((wake!.at - START) / 1000, (failure!.at - wake!.at) / 1000, 0, 0),
      failed: (to - failure!.at) / 1000,
    });
    expect(reply.body).toMatchObject({ wakes: 1, transitions: 2 });
  });
});

describe("GET /v1/usage", () => {
  test("sums per policy; objects created after the window do not count", async () => {
    const { s: t, get } = await start(new MemoryStore());
    await t.governor.putObject("m1", { policy: "on-demand" });
    await lifecycle(t, "w1");
    const to = t.clock.now();
    await t.advance(HOUR);
    await lifecycle(t, "w2");
    const reply = await get(`/v1/usage?from=${iso(START)}&to=${iso(to)}`);
    expect(reply.status).toBe(200);
    expect(policyUsageReply.safeParse(reply.body).success).toBe(true);
    const span = (to - START) / 1000;
    expect(reply.body).toEqual({
      from: iso(START),
      to: iso(to),
      items: [
        { policy: "on-demand", objects: 1, seconds: secs(span, 0, 0, 0), wakes: 0, transitions: 0 },
        { policy: "queue-worker", objects: 1, seconds: secs(span - 124, 10, 110, 4), wakes: 1, transitions: 4 },
      ],
    });
    const one = await get(`/v1/usage?policy=on-demand&from=${iso(START)}&to=${iso(to)}`);
    expect(one.body.items.map((i: { policy: string }) => i.policy)).toEqual(["on-demand"]);
  });

  test("pages over objects with limit and cursor; the pages add up to the whole", async () => {
    const { s: t, get } = await start(new MemoryStore());
    for (const id of ["a", "b", "c", "d", "e"]) await lifecycle(t, id);
    const range = `from=${iso(START)}&to=${iso(t.clock.now())}`;
    const whole = (await get(`/v1/usage?${range}`)).body.items[0];
    expect(whole.objects).toBe(5);
    const sum = { objects: 0, wakes: 0, active: 0 };
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await get(`/v1/usage?${range}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const item = page.body.items[0];
      sum.objects += item.objects;
      sum.wakes += item.wakes;
      sum.active += item.seconds.active;
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(sum).toEqual({ objects: 5, wakes: whole.wakes, active: whole.seconds.active });
  });
});

describe("problems", () => {
  test.each([
    ["a time that is not ISO 8601", "/v1/objects/w/usage?from=yesterday", "$.query.from"],
    ["an impossible date", "/v1/objects/w/usage?to=2026-02-30T00:00:00Z", "$.query.to"],
    ["from after to", `/v1/objects/w/usage?from=${iso(START)}&to=${iso(START - 1)}`, "$.query.from"],
    ["from in the future", `/v1/objects/w/usage?from=${iso(START + HOUR)}`, "$.query.from"],
    ["a bad object id", "/v1/objects/a%20b/usage", "$.id"],
    ["a limit out of range", "/v1/usage?limit=0", "$.query.limit"],
    ["a limit in exponent form", "/v1/usage?limit=1e3", "$.query.limit"],
    ["a cursor this server did not issue", "/v1/usage?cursor=%25%25", "$.query.cursor"],
    ["an empty window for a policy", `/v1/usage?from=${iso(START)}&to=${iso(START)}`, "$.query.from"],
  ])("%s: 422 naming the parameter", async (_what, path, at) => {
    const { s: t, get } = await start(new MemoryStore());
    await t.governor.putObject("w", { policy: "queue-worker" });
    const problem = expectProblem(await get(path), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(at);
  });

  test("an unknown object: 404", async () => {
    const { get } = await start(new MemoryStore());
    expectProblem(await get("/v1/objects/nope/usage"), 404, "not-found");
  });

  test.each([
    ["no token", 401, undefined],
    ["a write:facts token", 403, TOKENS.facts],
    ["a read token", 200, TOKENS.read],
    ["an admin token", 200, TOKENS.admin],
  ])("scope read: %s -> %i", async (_what, status, token) => {
    const { s: t, get } = await start(new MemoryStore(), true);
    await t.governor.putObject("w", { policy: "queue-worker" });
    expect((await get("/v1/objects/w/usage", token)).status).toBe(status);
    expect((await get("/v1/usage", token)).status).toBe(status);
  });
});
