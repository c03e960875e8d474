// Bounded resources a client can fill: an object's mailbox (VIGIL_MAILBOX_LIMIT). Past the
// limit a request is refused with a 429 and Retry-After (a batch item with retryAfter in its error),
// and nothing of it is queued or kept.

import { afterEach, describe, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { createApp } from "../../src/http/app.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush } from "../../src/timers/clock.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";
import { expectProblem } from "./harness.ts";

/** A store whose commits wait until `open()`: requests pile up in the object's mailbox. */
class GatedStore extends MemoryStore {
  private gate: Promise<void> | null = null;
  private release = () => {};
  close_(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  open(): void {
    this.release();
    this.gate = null;
  }
  override async commit(batches: CommitBatch[]): Promise<void> {
    if (this.gate) await this.gate;
    return super.commit(batches);
  }
}

let services: TestServices | null = null;
afterEach(async () => {
  await services?.close();
  services = null;
});

describe("the mailbox limit", () => {
  test("past VIGIL_MAILBOX_LIMIT requests waiting for one object, a 429 with Retry-After; the others commit", async () => {
    const store = new GatedStore();
    services = await makeServices({ store, mailboxLimit: 3 });
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: [],
    });
    const post = (path: string, json: unknown) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(json),
      });
    const put = await app.request("/v1/objects/w1", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    expect(put.status).toBe(201);

    store.close_();
    // One running (waiting for its commit) and two queued: the mailbox is full.
    const waiting = [1, 2, 3].map((n) => post("/v1/objects/w1/facts", { facts: { queue: { depth: n } } }));
    await new Promise((r) => setImmediate(r));
    const refused = await post("/v1/objects/w1/facts", { facts: { queue: { depth: 99 } } });
    const text = await refused.text();
    const problem = expectProblem(
      { status: refused.status, headers: refused.headers, body: JSON.parse(text), text },
      429,
      "too-many-requests",
    );
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(problem.detail).toContain("VIGIL_MAILBOX_LIMIT");
    // Another object is not refused (its commit waits for the store like the others).
    const other = app.request("/v1/objects/w2", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    store.open();
    expect((await other).status).toBe(201);
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200, 200]);
    const object = await services.governor.getObject("w1");
    expect(object?.memory).toEqual({ queue: { depth: 3 } });
    // Once the mailbox has room, the object takes requests again.
    expect((await post("/v1/objects/w1/facts", { facts: { queue: { depth: 4 } } })).status).toBe(200);
  });

  test("a DELETE past the limit is a 429 with Retry-After too, and deletes nothing", async () => {
    const store = new GatedStore();
    services = await makeServices({ store, mailboxLimit: 3 });
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: [],
    });
    const put = await app.request("/v1/objects/w1", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "queue-worker" }),
    });
    expect(put.status).toBe(201);

    store.close_();
    const waiting = [1, 2, 3].map((n) =>
      app.request("/v1/objects/w1/facts", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ facts: { queue: { depth: n } } }),
      }),
    );
    await new Promise((r) => setImmediate(r));
    // Were it queued, it would wait for the commits before it: the store is opened first.
    const deleting = app.request("/v1/objects/w1", { method: "DELETE" });
    await new Promise((r) => setImmediate(r));
    store.open();
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200, 200]);
    const refused = await deleting;
    const text = await refused.text();
    expectProblem(
      { status: refused.status, headers: refused.headers, body: text ? JSON.parse(text) : null, text },
      429,
      "too-many-requests",
    );
    expect(refused.headers.get("retry-after")).toBe("1");
    await services.advance(0);
    expect((await services.governor.getObject("w1"))?.memory).toEqual({ queue: { depth: 3 } });
    // Once the mailbox has room, the DELETE goes through.
    expect((await app.request("/v1/objects/w1", { method: "DELETE" })).status).toBe(204);
  });

  test("a batch item past the limit fails alone, its error a 429 with retryAfter, as the header would say", async () => {
    const store = new GatedStore();
    services = await makeServices({ store, mailboxLimit: 3 });
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: [],
    });
    const post = (path: string, type: string, json: unknown) =>
      app.request(path, { method: "POST", headers: { "content-type": type }, body: JSON.stringify(json) });
    await services.governor.putObject("w1", { policy: "queue-worker" });
    await services.governor.putObject("w2", { policy: "queue-worker" });

    store.close_();
    const waiting = [1, 2, 3].map((n) =>
      post("/v1/objects/w1/facts", "application/json", { facts: { queue: { depth: n } } }),
    );
    await new Promise((r) => setImmediate(r));
    const batch = post("/v1/facts", "application/json", {
      items: [
        { objectId: "w1", facts: { queue: { depth: 99 } } },
        { objectId: "w2", facts: { queue: { depth: 1 } } },
      ],
    });
    const event = { specversion: "1.0", source: "/s", type: "t", subject: "w1", data: { queue: { depth: 98 } } };
    const events = post("/v1/cloudevents", "application/cloudevents-batch+json", [{ ...event, id: "e1" }]);
    await new Promise((r) => setImmediate(r));
    store.open();
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200, 200]);
    const facts = (await (await batch).json()) as any;
    expect(facts.results[0]).toEqual({
      objectId: "w1",
      error: expect.objectContaining({ status: 429, retryAfter: 1 }),
    });
    expect(facts.results[1]).toMatchObject({ objectId: "w2", decisionId: expect.any(String) });
    const ce = (await (await events).json()) as any;
    expect(ce.results[0].error).toMatchObject({ status: 429, retryAfter: 1 });
    expect((await services.governor.getObject("w1"))?.memory).toEqual({ queue: { depth: 3 } });
  });

  test("the server's own work in the mailbox (a timer firing) is not counted against VIGIL_MAILBOX_LIMIT", async () => {
    const store = new GatedStore();
    services = await makeServices({ store, mailboxLimit: 1 });
    // `remind: true` schedules `nudge` a minute on.
    const nudger = {
      name: "nudger",
      version: "1",
      rules: [
        {
          name: "remind",
          conditions: { all: [{ fact: "memory", path: "$.remind", operator: "equal", value: true }] },
          event: { type: "schedule", params: { name: "nudge", after: "PT1M" } },
        },
      ],
    };
    expect(services.policies.loadText(JSON.stringify(nudger), "inline/nudger.json").ok).toBe(true);
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: [],
    });
    const post = (facts: unknown) =>
      app.request("/v1/objects/n1/facts", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ facts }),
      });
    const put = await app.request("/v1/objects/n1", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "nudger" }),
    });
    expect(put.status).toBe(201);
    expect((await post({ remind: true })).status).toBe(200);
    let fired = 0;
    services.governor.events.on("timer:fired", () => fired++);

    store.close_();
    // The nudge falls due: its firing runs in n1's mailbox and waits there for its commit.
    await services.clock.advanceTo(START + 60_000, flush);
    expect(fired).toBe(0);
    // No client's request waits for n1: this one is queued behind the firing, not refused.
    const posting = post({ remind: false, n: 1 });
    await new Promise((r) => setImmediate(r));
    store.open();
    const reply = await posting;
    expect(reply.status).toBe(200);
    await services.advance(0);
    expect(fired).toBe(1);
    expect((await services.governor.getObject("n1"))?.memory).toEqual({ remind: false, n: 1 });
  });
});
