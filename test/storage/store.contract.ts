// The Store contract: one suite that every implementation must pass (see store.test.ts).
// It pins down what the governor relies on: atomic commits, round trips, orderings and cursors.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { CommitBatch, PolicySource, StateChangeQuery, Store } from "../../src/core/store.ts";
import type { JsonObject, LifecycleState, ObjectRecord, TimerOp } from "../../src/core/types.ts";
import { HOUR, MINUTE, T0, arrivalBatch, makeBatch, makeObject } from "../helpers/records.ts";

const set = (name: string, dueAt: number, kind: TimerOp["kind"] = "schedule"): TimerOp => ({
  name,
  op: "set",
  dueAt,
  kind,
});
const cancel = (name: string, kind: TimerOp["kind"] = "schedule"): TimerOp => ({ name, op: "cancel", kind });

/** Registers the contract suite for one Store implementation; `makeStore` returns a migrated, empty store. */
export function runStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    const rich = (): ObjectRecord =>
      makeObject({
        id: "obj-rich",
        policy: "queue-worker",
        state: "active",
        stateSince: T0 + MINUTE,
        memory: { queue: { depth: 3, names: ["a", "é", "😀"] }, flag: true, nothing: null, n: 1.5 },
        memoryVersion: 7,
        substrate: {
          driver: "process",
          config: { command: "sleep", args: ["100"] },
          observed: { status: "running", at: T0 + MINUTE, pid: 4242 },
        },
        holdUntil: T0 + HOUR,
        lastDecisionId: "dec-0007",
        lastFactAt: T0 + 2 * MINUTE,
        createdAt: T0,
        updatedAt: T0 + 2 * MINUTE,
        timers: [
          { name: "hold", dueAt: T0 + HOUR, kind: "hold" },
          { name: "wake", dueAt: T0 + 2 * HOUR, kind: "wake" },
        ],
      });

    test("migrate is idempotent", async () => {
      await store.migrate();
      await store.migrate();
      await store.commit([makeBatch(makeObject({ id: "a" }))]);
      await store.migrate();
      expect((await store.getObject("a"))?.id).toBe("a");
    });

    test("an empty store has nothing", async () => {
      expect(await store.listObjects({ limit: 10_000 })).toEqual([]);
      expect(await store.getObject("nope")).toBeNull();
      expect(await store.listObjects({ limit: 10 })).toEqual([]);
      expect(await store.listDecisions("nope", 10)).toEqual([]);
      expect(await store.getDecision("nope")).toBeNull();
      expect(await store.getIdempotent("nope", "k")).toBeNull();
      expect(await store.journal("nope", 0, 10)).toEqual([]);
      expect(await store.pendingActions()).toEqual([]);
      expect(await store.dueTimers(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
      expect(await store.nextTimer()).toBeNull();
    });

    test("commit then loadObjects and getObject round-trip the object and its timers", async () => {
      const o = rich();
      await store.commit([
        makeBatch(o, { timerOps: [set("hold", T0 + HOUR, "hold"), set("wake", T0 + 2 * HOUR, "wake")] }),
      ]);
      expect(await store.getObject(o.id)).toEqual(o);
      expect(await store.listObjects({ limit: 10_000 })).toEqual([o]);
    });

    test("a later commit replaces the object whole and keeps timers no op touched", async () => {
      const o = rich();
      await store.commit([
        makeBatch(o, { timerOps: [set("hold", T0 + HOUR, "hold"), set("wake", T0 + 2 * HOUR, "wake")] }),
      ]);
      const next: ObjectRecord = {
        ...o,
        state: "sleeping",
        memory: { other: 1 },
        memoryVersion: 8,
        holdUntil: null,
        substrate: { ...o.substrate, observed: null },
        updatedAt: T0 + 3 * MINUTE,
        timers: [{ name: "wake", dueAt: T0 + 2 * HOUR, kind: "wake" }],
      };
      await store.commit([makeBatch(next, { timerOps: [cancel("hold", "hold")] })]);
      expect(await store.getObject(o.id)).toEqual(next);
    });

    test("loadObjects returns every object in id order", async () => {
      await store.commit([
        makeBatch(makeObject({ id: "b" })),
        makeBatch(makeObject({ id: "a" })),
        makeBatch(makeObject({ id: "c" })),
      ]);
      expect((await store.listObjects({ limit: 10_000 })).map((o) => o.id)).toEqual(["a", "b", "c"]);
    });

    test("failedWithLeftovers lists the failed objects whose stored observation lists leftovers, and only them", async () => {
      const seen = (leftovers?: unknown) => ({
        driver: "process",
        config: {},
        observed: { status: "stopped" as const, at: T0, ...(leftovers === undefined ? {} : { leftovers }) },
      });
      const obj = (id: string, state: LifecycleState, leftovers?: unknown) =>
        makeObject({ id, state, substrate: seen(leftovers) as ObjectRecord["substrate"] });
      await store.commit([
        makeBatch(obj("f1", "failed", [{ pgid: 7 }])),
        makeBatch(obj("f2", "failed")),
        makeBatch(obj("f3", "failed", [])),
        makeBatch(obj("f4", "failed", null)),
        makeBatch(makeObject({ id: "f5", state: "failed" })), // never observed
        makeBatch(obj("f6", "failed", [{ pgid: 9 }])),
        makeBatch(obj("d1", "dormant", [{ pgid: 8 }])),
      ]);
      const listed = async (q: { after?: string; limit?: number } = {}) =>
        (await store.listObjects({ failedWithLeftovers: true, limit: 100, ...q })).map((o) => o.id);
      // Listed as reconciliation tells them: a `leftovers` key, whatever its value.
      expect(await listed()).toEqual(["f1", "f3", "f4", "f6"]);
      expect(await listed({ limit: 2 })).toEqual(["f1", "f3"]);
      expect(await listed({ after: "f3", limit: 2 })).toEqual(["f4", "f6"]);
      expect((await store.listObjects({ failedWithLeftovers: true, limit: 100 }))[0]).toEqual(
        obj("f1", "failed", [{ pgid: 7 }]),
      );

      // Their leftovers gone (the row alone written, keys as stored), an object leaves the list;
      // one that leaves `failed` does too, and one that fails with leftovers joins it.
      await store.commit([{ ...makeBatch(obj("f1", "failed")), keysUnchanged: true }]);
      await store.commit([makeBatch(obj("f3", "dormant", []))]);
      await store.commit([makeBatch(obj("d1", "failed", [{ pgid: 8 }]))]);
      await store.updateAction({
        id: "none",
        status: "failed",
        attempts: 1,
        nextAttemptAt: T0,
        lastError: null,
        updatedAt: T0,
        object: obj("f2", "failed", [{ pgid: 3 }]),
      });
      expect(await listed()).toEqual(["d1", "f2", "f4", "f6"]);
    });

    test("old journal entries compact into one snapshot; newer entries stay", async () => {
      const o = makeObject({ id: "c" });
      for (let seq = 1; seq <= 4; seq++)
        await store.commit([
          arrivalBatch({ ...o, memoryVersion: seq }, `d-${seq}`, {
            journal: { seq, patch: { [`k${seq}`]: seq }, at: T0 + seq * 1000 },
          }),
        ]);
      await store.commit([
        arrivalBatch(makeObject({ id: "new", memoryVersion: 1 }), "d-new", {
          journal: { seq: 1, patch: { n: 1 }, at: T0 + 9000 },
        }),
      ]);
      expect(await store.compactableJournal(T0 + 2500, null, 100)).toEqual({
        targets: [{ objectId: "c", seq: 2 }],
        next: null,
      });
      await store.compactJournal("c", 2, { seq: 2, patch: { k1: 1, k2: 2 }, at: T0 + 2000, kind: "snapshot" });
      expect(await store.journal("c", -1, 10)).toEqual([
        { seq: 2, patch: { k1: 1, k2: 2 }, at: T0 + 2000, kind: "snapshot" },
        { seq: 3, patch: { k3: 3 }, at: T0 + 3000, kind: "patch" },
        { seq: 4, patch: { k4: 4 }, at: T0 + 4000, kind: "patch" },
      ]);
      // A snapshot is never compacted again on its own.
      expect(await store.compactableJournal(T0 + 2500, null, 100)).toEqual({ targets: [], next: null });
      expect(await store.compactableJournal(T0 + 10_000, null, 100)).toEqual({
        targets: [
          { objectId: "c", seq: 4 },
          { objectId: "new", seq: 1 },
        ],
        next: null,
      });
      // A page of objects at a time, in id order, after the last id of the previous page; one
      // with nothing to fold is looked at all the same.
      expect(await store.compactableJournal(T0 + 2500, null, 1)).toEqual({ targets: [], next: "c" });
      expect(await store.compactableJournal(T0 + 10_000, null, 1)).toEqual({
        targets: [{ objectId: "c", seq: 4 }],
        next: "c",
      });
      expect(await store.compactableJournal(T0 + 10_000, "c", 1)).toEqual({
        targets: [{ objectId: "new", seq: 1 }],
        next: "new",
      });
      expect(await store.compactableJournal(T0 + 10_000, "new", 1)).toEqual({ targets: [], next: null });
      expect(await store.compactableJournal(T0 + 10_000, null, 0)).toEqual({ targets: [], next: null });
    });

    test("the journal keeps seq order and reads after a seq", async () => {
      const o = makeObject({ id: "j" });
      const patches: JsonObject[] = [{ a: 1 }, { b: { c: [1, 2] } }, { a: null }];
      await store.commit([
        arrivalBatch({ ...o, memoryVersion: 1 }, "d-1", { journal: { seq: 1, patch: patches[0]!, at: T0 + 1 } }),
      ]);
      await store.commit([
        arrivalBatch({ ...o, memoryVersion: 2 }, "d-2", { journal: { seq: 2, patch: patches[1]!, at: T0 + 2 } }),
        arrivalBatch({ ...o, memoryVersion: 3 }, "d-3", { journal: { seq: 3, patch: patches[2]!, at: T0 + 3 } }),
      ]);
      await store.commit([
        arrivalBatch(makeObject({ id: "k", memoryVersion: 1 }), "d-k", { journal: { seq: 1, patch: { other: true } } }),
      ]);
      const all = [
        { seq: 1, patch: patches[0], at: T0 + 1, kind: "patch" },
        { seq: 2, patch: patches[1], at: T0 + 2, kind: "patch" },
        { seq: 3, patch: patches[2], at: T0 + 3, kind: "patch" },
      ];
      expect(await store.journal("j", 0, 10)).toEqual(all);
      expect(await store.journal("j", 1, 10)).toEqual(all.slice(1));
      expect(await store.journal("j", 1, 1)).toEqual(all.slice(1, 2));
      expect(await store.journal("j", 3, 10)).toEqual([]);
      expect((await store.getObject("j"))?.memoryVersion).toBe(3);
    });

    test("decisions list newest first, with a `before` cursor and a limit", async () => {
      const o = makeObject({ id: "d" });
      for (let i = 1; i <= 5; i++) await store.commit([arrivalBatch({ ...o, updatedAt: T0 + i }, `dec-00${i}`)]);
      await store.commit([arrivalBatch(makeObject({ id: "other" }), "dec-009")]);
      const ids = async (limit: number, before?: string) =>
        (await store.listDecisions("d", limit, before)).map((x) => x.id);
      expect(await ids(10)).toEqual(["dec-005", "dec-004", "dec-003", "dec-002", "dec-001"]);
      expect(await ids(2)).toEqual(["dec-005", "dec-004"]);
      expect(await ids(2, "dec-004")).toEqual(["dec-003", "dec-002"]);
      expect(await ids(10, "dec-002")).toEqual(["dec-001"]);
      expect(await ids(10, "dec-001")).toEqual([]);
      expect(await store.listDecisions("other", 10).then((ds) => ds.map((x) => x.id))).toEqual(["dec-009"]);
    });

    test("decisionsAfter pages oldest first, from an exclusive `after` cursor", async () => {
      const o = makeObject({ id: "da" });
      for (let i = 1; i <= 5; i++) await store.commit([arrivalBatch({ ...o, updatedAt: T0 + i }, `dec-a0${i}`)]);
      await store.commit([arrivalBatch(makeObject({ id: "other" }), "dec-a09")]);
      const ids = async (limit: number, after?: string) =>
        (await store.decisionsAfter("da", limit, after)).map((x) => x.id);
      expect(await ids(10)).toEqual(["dec-a01", "dec-a02", "dec-a03", "dec-a04", "dec-a05"]);
      expect(await ids(2)).toEqual(["dec-a01", "dec-a02"]);
      expect(await ids(2, "dec-a02")).toEqual(["dec-a03", "dec-a04"]);
      expect(await ids(10, "dec-a05")).toEqual([]);
    });

    test("a decision round-trips whole", async () => {
      const o = makeObject({ id: "whole" });
      const batch = arrivalBatch(o, "dec-1", {
        actions: [{ id: "act-1", kind: "start" }],
        timerOps: [set("poll", T0 + HOUR)],
      });
      const decision = {
        ...batch.decision!,
        trigger: { kind: "timer" as const, name: "poll", late: true },
        fired: [{ rule: "backlog", event: "wake", params: { reason: "work" } }],
        outcome: "wake" as const,
        toState: "waking" as const,
        notes: ["dormancy (idle) vetoed by wake rule backlog"],
        explanation: {
          summary: "outcome wake (fired: backlog); dormant -> waking; start issued",
          rules: [
            {
              rule: "backlog",
              event: "wake",
              fired: true,
              conditions: {
                kind: "all" as const,
                result: true,
                conditions: [
                  {
                    kind: "fact" as const,
                    fact: "memory",
                    path: "$.q",
                    operator: "greaterThan",
                    value: 0,
                    result: true,
                    factValue: 2,
                  },
                  { kind: "reference" as const, condition: "x", result: "not-evaluated" as const },
                ],
              },
            },
          ],
        },
      };
      await store.commit([{ ...batch, decision }]);
      expect(await store.getDecision("dec-1")).toEqual(decision);
      expect(await store.listDecisions("whole", 1)).toEqual([decision]);
    });

    test("getDecision and listDecisions show the actions' current status", async () => {
      const o = makeObject({ id: "s" });
      await store.commit([arrivalBatch(o, "dec-1", { actions: [{ id: "act-1", kind: "start" }] })]);
      expect((await store.getDecision("dec-1"))?.actions).toEqual([{ id: "act-1", kind: "start", status: "pending" }]);
      await store.updateAction({
        id: "act-1",
        status: "confirmed",
        attempts: 1,
        nextAttemptAt: T0 + 5,
        lastError: null,
        updatedAt: T0 + 5,
      });
      expect((await store.getDecision("dec-1"))?.actions).toEqual([
        { id: "act-1", kind: "start", status: "confirmed" },
      ]);
      expect((await store.listDecisions("s", 10))[0]?.actions).toEqual([
        { id: "act-1", kind: "start", status: "confirmed" },
      ]);
      expect(await store.pendingActions()).toEqual([]);
    });

    test("pendingActions lists pending outbox rows oldest first, with every field", async () => {
      await store.commit([
        arrivalBatch(makeObject({ id: "p1" }), "dec-1", { actions: [{ id: "act-2", kind: "start" }], at: T0 + 10 }),
      ]);
      await store.commit([
        arrivalBatch(makeObject({ id: "p2" }), "dec-2", { actions: [{ id: "act-1", kind: "suspend" }], at: T0 + 20 }),
      ]);
      await store.updateAction({
        id: "act-2",
        status: "pending",
        attempts: 2,
        nextAttemptAt: T0 + 99,
        lastError: "HTTP 503",
        updatedAt: T0 + 30,
      });
      expect(await store.pendingActions()).toEqual([
        {
          id: "act-1",
          objectId: "p2",
          decisionId: "dec-2",
          kind: "suspend",
          status: "pending",
          attempts: 0,
          nextAttemptAt: T0 + 20,
          lastError: null,
          createdAt: T0 + 20,
          updatedAt: T0 + 20,
        },
        {
          id: "act-2",
          objectId: "p1",
          decisionId: "dec-1",
          kind: "start",
          status: "pending",
          attempts: 2,
          nextAttemptAt: T0 + 99,
          lastError: "HTTP 503",
          createdAt: T0 + 10,
          updatedAt: T0 + 30,
        },
      ]);
      // One object's, as a doubtful object's re-read asks for them.
      expect((await store.pendingActions("p2")).map((a) => a.id)).toEqual(["act-1"]);
      expect(await store.pendingActions("nobody")).toEqual([]);
    });

    test("supersede marks only pending actions", async () => {
      const o = makeObject({ id: "sup" });
      await store.commit([
        arrivalBatch(o, "dec-1", {
          actions: [
            { id: "act-1", kind: "start" },
            { id: "act-2", kind: "start" },
          ],
        }),
      ]);
      await store.updateAction({
        id: "act-2",
        status: "confirmed",
        attempts: 1,
        nextAttemptAt: T0,
        lastError: null,
        updatedAt: T0 + 1,
      });
      await store.commit([
        arrivalBatch({ ...o, updatedAt: T0 + 2 }, "dec-2", {
          actions: [{ id: "act-3", kind: "stop" }],
          supersede: ["act-1", "act-2", "act-unknown"],
        }),
      ]);
      expect((await store.getDecision("dec-1"))?.actions.map((a) => [a.id, a.status])).toEqual([
        ["act-1", "superseded"],
        ["act-2", "confirmed"],
      ]);
      expect((await store.pendingActions()).map((a) => a.id)).toEqual(["act-3"]);
    });

    test("an object lists timers due together in the order dueTimers fires them (names byte for byte)", async () => {
      const a = makeObject({ id: "A" });
      await store.commit([
        makeBatch(a, {
          timerOps: [set("a", T0 + 200), set("B", T0 + 200), set("a_b", T0 + 200), set("a-b", T0 + 200)],
        }),
      ]);
      const fired = (await store.dueTimers(T0 + 200, 10)).map((t) => t.name);
      expect(fired).toEqual(["B", "a", "a-b", "a_b"]);
      expect((await store.getObject("A"))?.timers.map((t) => t.name)).toEqual(fired);
    });

    test("timers: set, replace and cancel through timerOps; dueTimers orders by dueAt, objectId, name", async () => {
      const a = makeObject({ id: "A" });
      const b = makeObject({ id: "B" });
      await store.commit([
        makeBatch(a, { timerOps: [set("b", T0 + 200), set("a", T0 + 200), set("late", T0 + 900, "wake")] }),
        makeBatch(b, { timerOps: [set("a", T0 + 100, "dwell"), set("z", T0 + 200)] }),
      ]);
      expect(await store.dueTimers(T0 + 250, 10)).toEqual([
        { objectId: "B", name: "a", dueAt: T0 + 100, kind: "dwell" },
        { objectId: "A", name: "a", dueAt: T0 + 200, kind: "schedule" },
        { objectId: "A", name: "b", dueAt: T0 + 200, kind: "schedule" },
        { objectId: "B", name: "z", dueAt: T0 + 200, kind: "schedule" },
      ]);
      expect((await store.dueTimers(T0 + 250, 2)).map((t) => `${t.objectId}/${t.name}`)).toEqual(["B/a", "A/a"]);
      expect(await store.dueTimers(T0 + 99, 10)).toEqual([]);
      // `until` is inclusive.
      expect((await store.dueTimers(T0 + 100, 10)).map((t) => `${t.objectId}/${t.name}`)).toEqual(["B/a"]);
      expect(await store.nextTimer()).toEqual({ objectId: "B", name: "a", dueAt: T0 + 100, kind: "dwell" });

      // Replace A/a with an earlier one, cancel B/a.
      await store.commit([
        makeBatch(a, { timerOps: [set("a", T0 + 50, "cron")] }),
        makeBatch(b, { timerOps: [cancel("a", "dwell")] }),
      ]);
      expect(await store.nextTimer()).toEqual({ objectId: "A", name: "a", dueAt: T0 + 50, kind: "cron" });
      expect((await store.dueTimers(T0 + 1000, 10)).map((t) => `${t.objectId}/${t.name}@${t.dueAt - T0}`)).toEqual([
        "A/a@50",
        "A/b@200",
        "B/z@200",
        "A/late@900",
      ]);
      expect((await store.getObject("A"))?.timers).toEqual([
        { name: "a", dueAt: T0 + 50, kind: "cron" },
        { name: "b", dueAt: T0 + 200, kind: "schedule" },
        { name: "late", dueAt: T0 + 900, kind: "wake" },
      ]);
      expect((await store.getObject("B"))?.timers).toEqual([{ name: "z", dueAt: T0 + 200, kind: "schedule" }]);

      // Cancelling a timer that does not exist is harmless.
      await store.commit([makeBatch(b, { timerOps: [cancel("never")] })]);
      expect((await store.getObject("B"))?.timers).toEqual([{ name: "z", dueAt: T0 + 200, kind: "schedule" }]);
    });

    test("a put-off timer's first due time is read with its row, and a timer set again has none", async () => {
      const a = makeObject({ id: "A" });
      await store.commit([
        makeBatch(a, { timerOps: [{ name: "wake", op: "set", dueAt: T0 + 60_000, kind: "wake", firstDue: T0 }] }),
      ]);
      expect(await store.dueTimers(T0 + HOUR, 10)).toEqual([
        { objectId: "A", name: "wake", dueAt: T0 + 60_000, kind: "wake", firstDue: T0 },
      ]);
      expect((await store.getObject("A"))?.timers).toEqual([{ name: "wake", dueAt: T0 + 60_000, kind: "wake" }]);
      await store.commit([makeBatch(a, { timerOps: [set("wake", T0 + 120_000, "wake")] })]);
      expect(await store.nextTimer()).toEqual({ objectId: "A", name: "wake", dueAt: T0 + 120_000, kind: "wake" });
    });

    test("idempotency keys round-trip per object", async () => {
      const record = { key: "k-1", fingerprint: "f".repeat(64), decisionId: "dec-1" };
      await store.commit([arrivalBatch(makeObject({ id: "i" }), "dec-1", { idempotency: record })]);
      expect(await store.getIdempotent("i", "k-1")).toEqual(record);
      expect(await store.getIdempotent("i", "k-2")).toBeNull();
      expect(await store.getIdempotent("other", "k-1")).toBeNull();
    });

    describe("a commit is atomic: one invalid batch writes nothing of any batch", () => {
      const seed = async () => {
        const a = makeObject({ id: "A", memory: { v: 1 }, memoryVersion: 1 });
        await store.commit([
          arrivalBatch(a, "dec-1", {
            journal: { seq: 1, patch: { v: 1 } },
            actions: [{ id: "act-1", kind: "start" }],
            timerOps: [set("poll", T0 + HOUR)],
            idempotency: { key: "k-1", fingerprint: "fp-1", decisionId: "dec-1" },
          }),
        ]);
        return a;
      };
      /** A valid arrival for a new object B, then a second one for A. */
      const goodBatches = (a: ObjectRecord): CommitBatch[] => [
        arrivalBatch(makeObject({ id: "B", memory: { b: true }, memoryVersion: 1 }), "dec-B", {
          journal: { seq: 1, patch: { b: true } },
          actions: [{ id: "act-B", kind: "start" }],
          timerOps: [set("wake", T0 + 1, "wake")],
          idempotency: { key: "k-B", fingerprint: "fp-B", decisionId: "dec-B" },
        }),
        arrivalBatch({ ...a, memory: { v: 2 }, memoryVersion: 2, state: "waking" }, "dec-2", {
          journal: { seq: 2, patch: { v: 2 } },
          supersede: ["act-1"],
          actions: [{ id: "act-2", kind: "stop" }],
          timerOps: [cancel("poll"), set("other", T0 + 5)],
          idempotency: { key: "k-2", fingerprint: "fp-2", decisionId: "dec-2" },
        }),
      ];

      test.each<[string, (a: ObjectRecord) => CommitBatch]>([
        [
          "a decision id that is already stored",
          (a) => arrivalBatch({ ...a, memoryVersion: 3 }, "dec-1", { journal: { seq: 3, patch: {} } }),
        ],
        [
          "a journal seq that is already stored",
          (a) => arrivalBatch({ ...a, memoryVersion: 1 }, "dec-3", { journal: { seq: 1, patch: { again: 1 } } }),
        ],
        [
          "a decision id used twice in the same commit",
          (a) => arrivalBatch({ ...a, memoryVersion: 3 }, "dec-B", { journal: { seq: 3, patch: {} } }),
        ],
        [
          "a journal seq used twice in the same commit",
          (a) => arrivalBatch({ ...a, memoryVersion: 2 }, "dec-3", { journal: { seq: 2, patch: { twice: 1 } } }),
        ],
        [
          "an action id that is already stored",
          (a) => arrivalBatch(a, "dec-3", { actions: [{ id: "act-1", kind: "start" }] }),
        ],
        [
          "an idempotency key that is already stored",
          (a) => arrivalBatch(a, "dec-3", { idempotency: { key: "k-1", fingerprint: "fp", decisionId: "dec-x" } }),
        ],
      ])("%s", async (_name, bad) => {
        const a = await seed();
        const before = {
          objects: await store.listObjects({ limit: 10_000 }),
          decisionsA: await store.listDecisions("A", 10),
          journalA: await store.journal("A", 0, 10),
          pending: await store.pendingActions(),
          timers: await store.dueTimers(Number.MAX_SAFE_INTEGER, 100),
        };
        await expect(store.commit([...goodBatches(a), bad(a)])).rejects.toThrow();
        expect(await store.listObjects({ limit: 10_000 })).toEqual(before.objects);
        expect(await store.getObject("B")).toBeNull();
        expect(await store.listDecisions("A", 10)).toEqual(before.decisionsA);
        expect(await store.listDecisions("B", 10)).toEqual([]);
        expect(await store.getDecision("dec-2")).toBeNull();
        expect(await store.journal("A", 0, 10)).toEqual(before.journalA);
        expect(await store.journal("B", 0, 10)).toEqual([]);
        expect(await store.pendingActions()).toEqual(before.pending);
        expect(await store.dueTimers(Number.MAX_SAFE_INTEGER, 100)).toEqual(before.timers);
        expect(await store.getIdempotent("B", "k-B")).toBeNull();
        expect(await store.getIdempotent("A", "k-2")).toBeNull();
        expect(await store.getIdempotent("A", "k-1")).toEqual({ key: "k-1", fingerprint: "fp-1", decisionId: "dec-1" });
      });

      test("the same batches without the invalid one commit", async () => {
        const a = await seed();
        await store.commit(goodBatches(a));
        expect((await store.getObject("A"))?.memory).toEqual({ v: 2 });
        expect((await store.getObject("A"))?.timers).toEqual([{ name: "other", dueAt: T0 + 5, kind: "schedule" }]);
        expect((await store.getObject("B"))?.timers).toEqual([{ name: "wake", dueAt: T0 + 1, kind: "wake" }]);
        expect((await store.journal("A", 0, 10)).map((j) => j.seq)).toEqual([1, 2]);
        expect((await store.pendingActions()).map((x) => x.id)).toEqual(["act-2", "act-B"]);
        expect((await store.getDecision("dec-1"))?.actions.map((x) => x.status)).toEqual(["superseded"]);
        expect(await store.getIdempotent("A", "k-2")).toEqual({ key: "k-2", fingerprint: "fp-2", decisionId: "dec-2" });
      });
    });

    test("a batch whose state, policy and driver are those stored (keysUnchanged) stores the row as given", async () => {
      const o = makeObject({ id: "k", state: "active", memory: { n: 1 } });
      await store.commit([makeBatch(o)]);
      const next = { ...o, memory: { n: 2 }, memoryVersion: 1, updatedAt: T0 + 5 };
      await store.commit([{ ...makeBatch(next), keysUnchanged: true }]);
      expect(await store.getObject("k")).toEqual(next);
      expect((await store.listObjects({ limit: 10, state: "active" })).map((x) => x.id)).toEqual(["k"]);
    });

    test("getObjects reads the existing ones of many ids at once, with their timers", async () => {
      const a = makeObject({ id: "a", memory: { n: 1 } });
      const b = makeObject({ id: "b", state: "active" });
      await store.commit([makeBatch(a, { timerOps: [set("t", T0 + 5)] }), makeBatch(b)]);
      const found = await store.getObjects(["b", "missing", "a", "b"]);
      expect(found.map((o) => o.id).sort()).toEqual(["a", "b"]);
      expect(found.find((o) => o.id === "a")).toEqual({
        ...a,
        timers: [{ name: "t", dueAt: T0 + 5, kind: "schedule" }],
      });
      expect(await store.getObjects([])).toEqual([]);
    });

    test("listObjects filters by state and policy, pages with `after` and `limit`", async () => {
      const specs: [string, ObjectRecord["state"], string][] = [
        ["o1", "active", "p"],
        ["o2", "dormant", "p"],
        ["o3", "active", "q"],
        ["o4", "active", "p"],
        ["o5", "failed", "p"],
      ];
      await store.commit(
        specs.map(([id, state, policy]) =>
          makeBatch(makeObject({ id, state, policy }), { timerOps: id === "o4" ? [set("t", T0)] : [] }),
        ),
      );
      const ids = async (q: Parameters<Store["listObjects"]>[0]) => (await store.listObjects(q)).map((o) => o.id);
      expect(await ids({ limit: 10 })).toEqual(["o1", "o2", "o3", "o4", "o5"]);
      expect(await ids({ limit: 10, state: "active" })).toEqual(["o1", "o3", "o4"]);
      expect(await ids({ limit: 10, policy: "p" })).toEqual(["o1", "o2", "o4", "o5"]);
      expect(await ids({ limit: 10, state: "active", policy: "p" })).toEqual(["o1", "o4"]);
      // Reading by either filter's index gives the same page.
      for (const by of ["state", "policy"] as const) {
        expect(await ids({ limit: 10, state: "active", policy: "p", by })).toEqual(["o1", "o4"]);
        expect(await ids({ limit: 1, state: "active", policy: "p", by, after: "o1" })).toEqual(["o4"]);
        expect(await ids({ limit: 10, state: "failed", policy: "q", by })).toEqual([]);
      }
      expect(await ids({ limit: 10, state: "sleeping" })).toEqual([]);
      expect(await ids({ limit: 2 })).toEqual(["o1", "o2"]);
      expect(await ids({ limit: 2, after: "o2" })).toEqual(["o3", "o4"]);
      expect(await ids({ limit: 2, after: "o4" })).toEqual(["o5"]);
      expect(await ids({ limit: 2, after: "o5" })).toEqual([]);
      expect(await ids({ limit: 1, state: "active", after: "o1" })).toEqual(["o3"]);
      expect(await ids({ limit: 10, driver: "simulated", state: "failed" })).toEqual(["o5"]);
      expect(await ids({ limit: 10, driver: "fly" })).toEqual([]);
      // Listed objects carry their timers.
      expect((await store.listObjects({ limit: 10, after: "o3" }))[0]?.timers).toEqual([
        { name: "t", dueAt: T0, kind: "schedule" },
      ]);
    });

    test("deleteObject removes everything of the object and nothing else", async () => {
      for (const id of ["gone", "kept"]) {
        await store.commit([
          arrivalBatch(makeObject({ id, memoryVersion: 1 }), `dec-${id}`, {
            journal: { seq: 1, patch: { x: 1 } },
            actions: [{ id: `act-${id}`, kind: "start" }],
            timerOps: [set("t", T0 + (id === "gone" ? 1 : 2))],
            idempotency: { key: "k", fingerprint: `fp-${id}`, decisionId: `dec-${id}` },
          }),
        ]);
      }
      expect(await store.deleteObject("gone")).toBe(true);
      expect(await store.getObject("gone")).toBeNull();
      expect(await store.journal("gone", 0, 10)).toEqual([]);
      expect(await store.listDecisions("gone", 10)).toEqual([]);
      expect(await store.getDecision("dec-gone")).toBeNull();
      expect(await store.getIdempotent("gone", "k")).toBeNull();
      expect((await store.pendingActions()).map((a) => a.id)).toEqual(["act-kept"]);
      expect(await store.dueTimers(Number.MAX_SAFE_INTEGER, 10)).toEqual([
        { objectId: "kept", name: "t", dueAt: T0 + 2, kind: "schedule" },
      ]);
      expect((await store.listObjects({ limit: 10_000 })).map((o) => o.id)).toEqual(["kept"]);
      expect(await store.getIdempotent("kept", "k")).toEqual({
        key: "k",
        fingerprint: "fp-kept",
        decisionId: "dec-kept",
      });
      expect(await store.journal("kept", 0, 10)).toHaveLength(1);

      expect(await store.deleteObject("gone")).toBe(false);
      expect(await store.deleteObject("never-was")).toBe(false);
    });

    test("a deleted object can be created again from scratch", async () => {
      await store.commit([
        arrivalBatch(makeObject({ id: "again", memoryVersion: 1 }), "dec-1", { journal: { seq: 1, patch: { a: 1 } } }),
      ]);
      await store.deleteObject("again");
      await store.commit([
        arrivalBatch(makeObject({ id: "again", memoryVersion: 1 }), "dec-2", { journal: { seq: 1, patch: { b: 1 } } }),
      ]);
      expect(await store.journal("again", 0, 10)).toEqual([{ seq: 1, patch: { b: 1 }, at: T0, kind: "patch" }]);
      expect((await store.listDecisions("again", 10)).map((d) => d.id)).toEqual(["dec-2"]);
    });

    test("updateAction with an object updates the object but keeps its timers", async () => {
      const o = makeObject({ id: "u", state: "waking", stateSince: T0 });
      await store.commit([
        arrivalBatch(o, "dec-1", {
          actions: [{ id: "act-1", kind: "start" }],
          timerOps: [set("wake", T0 + HOUR, "wake")],
        }),
      ]);
      const confirmed: ObjectRecord = {
        ...o,
        state: "active",
        stateSince: T0 + 5,
        substrate: { ...o.substrate, observed: { status: "running", at: T0 + 5 } },
        updatedAt: T0 + 5,
        timers: [],
      };
      await store.updateAction({
        id: "act-1",
        status: "confirmed",
        attempts: 1,
        nextAttemptAt: T0 + 5,
        lastError: null,
        updatedAt: T0 + 5,
        object: confirmed,
      });
      expect(await store.getObject("u")).toEqual({
        ...confirmed,
        timers: [{ name: "wake", dueAt: T0 + HOUR, kind: "wake" }],
      });
      expect((await store.getDecision("dec-1"))?.actions[0]?.status).toBe("confirmed");
      expect(await store.pendingActions()).toEqual([]);
    });

    test("updateAction of an action the store does not hold changes no action, and still writes the object", async () => {
      const o = makeObject({ id: "x", state: "waking", stateSince: T0 });
      await store.commit([arrivalBatch(o, "dec-1", { actions: [{ id: "act-1", kind: "start" }] })]);
      const moved: ObjectRecord = { ...o, state: "active", stateSince: T0 + 5, updatedAt: T0 + 5 };
      await store.updateAction({
        id: "act-unknown",
        status: "confirmed",
        attempts: 1,
        nextAttemptAt: T0 + 5,
        lastError: null,
        updatedAt: T0 + 5,
        object: moved,
      });
      expect((await store.getObject("x"))?.state).toBe("active");
      expect((await store.pendingActions()).map((a) => a.id)).toEqual(["act-1"]);
    });

    test("objects are counted per policy and state, and pending timers in all", async () => {
      expect(await store.countObjects()).toEqual([]);
      expect(await store.countTimers()).toBe(0);
      const o = (id: string, policy: string, state: ObjectRecord["state"]) => makeObject({ id, policy, state });
      await store.commit([
        makeBatch(o("a", "p1", "dormant"), { timerOps: [set("wake", T0 + HOUR, "wake")] }),
        makeBatch(o("b", "p1", "dormant"), { timerOps: [set("wake", T0 + HOUR, "wake"), set("tick", T0 + MINUTE)] }),
        makeBatch(o("c", "p1", "active")),
        makeBatch(o("d", "p2", "failed")),
        makeBatch(o("e", "p2", "waking"), { timerOps: [set("hold", T0 + MINUTE, "hold")] }),
      ]);
      const sorted = async () =>
        (await store.countObjects()).sort((x, y) => `${x.policy} ${x.state}`.localeCompare(`${y.policy} ${y.state}`));
      expect(await sorted()).toEqual([
        { policy: "p1", state: "active", objects: 1 },
        { policy: "p1", state: "dormant", objects: 2 },
        { policy: "p2", state: "failed", objects: 1 },
        { policy: "p2", state: "waking", objects: 1 },
      ]);
      expect(await store.countTimers()).toBe(4);
      // A policy whose objects are all awake has no dormant pair; a deleted object is gone.
      await store.commit([makeBatch(o("a", "p1", "active"), { timerOps: [cancel("wake", "wake")] })]);
      await store.deleteObject("b");
      expect(await sorted()).toEqual([
        { policy: "p1", state: "active", objects: 2 },
        { policy: "p2", state: "failed", objects: 1 },
        { policy: "p2", state: "waking", objects: 1 },
      ]);
      expect(await store.countTimers()).toBe(1);
    });

    test("the newest decision id and action id are those that sort last, of every object", async () => {
      expect(await store.newestIds()).toEqual([]);
      await store.commit([
        arrivalBatch(makeObject({ id: "a" }), "dec_b", { actions: [{ id: "act_c", kind: "start" }] }),
        arrivalBatch(makeObject({ id: "b" }), "dec_c", { actions: [{ id: "act_a", kind: "start" }] }),
        arrivalBatch(makeObject({ id: "c" }), "dec_a"),
      ]);
      expect((await store.newestIds()).sort()).toEqual(["act_c", "dec_c"]);
    });

    describe("history reads (the event stream and usage)", () => {
      /** A lifecycle step: a decision from one state to another, with a start or a suspend when it moves there. */
      const step = (objectId: string, id: string, at: number, from: LifecycleState, to: LifecycleState) => {
        const kind = to === "waking" ? ("start" as const) : to === "sleeping" ? ("suspend" as const) : null;
        const batch = arrivalBatch(makeObject({ id: objectId, state: to, updatedAt: at }), id, {
          at,
          actions: kind ? [{ id: `act-${id}`, kind }] : [],
        });
        // A decision no rule made (empty explanation, summary from its states) can be kept
        // compactly against its policy version; one with a note that does not match is kept whole.
        const compact = id.endsWith("c");
        const decision = {
          ...batch.decision!,
          fromState: from,
          toState: to,
          notes: compact ? [] : ["kept whole"],
          explanation: { summary: compact ? `${from} -> ${to}: ` : "whole", rules: [] },
        };
        return store.commit([{ ...batch, decision }]);
      };
      const confirm = (actionId: string, at: number) =>
        store.updateAction({
          id: actionId,
          status: "confirmed",
          attempts: 1,
          nextAttemptAt: at,
          lastError: null,
          updatedAt: at,
        });
      const policy = {
        name: "test-policy",
        version: "1",
        hash: "h",
        document: { name: "test-policy", version: "1", rules: [] },
      };

      beforeEach(() => {
        store.knowPolicies?.((hash) => (hash === "h" ? (policy as unknown as PolicySource) : null));
      });

      test("since pages every object's decisions by id, oldest first, or one object's", async () => {
        await step("a", "dec-01c", T0, "dormant", "waking");
        await step("b", "dec-02w", T0 + 1, "dormant", "dormant");
        await step("a", "dec-03w", T0 + 2, "waking", "waking");
        await step("b", "dec-04c", T0 + 3, "dormant", "waking");
        const ids = async (after: string, limit: number, objectId?: string) =>
          (await store.history.since(after, limit, objectId)).map((d) => d.id);
        expect(await ids("", 10)).toEqual(["dec-01c", "dec-02w", "dec-03w", "dec-04c"]);
        expect(await ids("dec-01c", 2)).toEqual(["dec-02w", "dec-03w"]);
        expect(await ids("dec-03w", 2)).toEqual(["dec-04c"]);
        expect(await ids("dec-04c", 2)).toEqual([]);
        expect(await ids("", 10, "b")).toEqual(["dec-02w", "dec-04c"]);
        expect(await ids("dec-02w", 10, "b")).toEqual(["dec-04c"]);
        // Whole decisions, as getDecision reads them, with the actions' current status.
        await confirm("act-dec-01c", T0 + 5);
        const [first] = await store.history.since("", 1);
        expect(first).toEqual(await store.getDecision("dec-01c"));
        expect(first?.actions).toEqual([{ id: "act-dec-01c", kind: "start", status: "confirmed" }]);
      });

      test("decisionOf names the decision that issued an action", async () => {
        await step("a", "dec-01c", T0, "dormant", "waking");
        expect(await store.history.decisionOf("act-dec-01c")).toBe("dec-01c");
        expect(await store.history.decisionOf("act-nope")).toBeNull();
      });

      test("stateChanges: one object's states by id, both ways, with when each action was confirmed", async () => {
        await step("a", "dec-01c", T0, "dormant", "waking");
        await step("a", "dec-02w", T0 + 10, "active", "sleeping");
        await step("x", "dec-03c", T0 + 11, "dormant", "dormant");
        await step("a", "dec-04w", T0 + 20, "dormant", "waking");
        await step("a", "dec-05c", T0 + 30, "waking", "sleeping");
        await confirm("act-dec-01c", T0 + 5);
        await confirm("act-dec-02w", T0 + 15);
        // dec-04w's start was superseded by dec-05c's suspend, which is still pending.
        await store.commit([makeBatch(makeObject({ id: "a", state: "sleeping" }), { supersede: ["act-dec-04w"] })]);
        const all = await store.history.stateChanges("a", { limit: 10 });
        expect(all).toEqual([
          { id: "dec-01c", at: T0, fromState: "dormant", toState: "waking", confirmedAt: T0 + 5 },
          { id: "dec-02w", at: T0 + 10, fromState: "active", toState: "sleeping", confirmedAt: T0 + 15 },
          { id: "dec-04w", at: T0 + 20, fromState: "dormant", toState: "waking", confirmedAt: null },
          { id: "dec-05c", at: T0 + 30, fromState: "waking", toState: "sleeping", confirmedAt: null },
        ]);
        const ids = async (q: StateChangeQuery) => (await store.history.stateChanges("a", q)).map((c) => c.id);
        expect(await ids({ after: "dec-01c", limit: 2 })).toEqual(["dec-02w", "dec-04w"]);
        expect(await ids({ before: "dec-04w", limit: 1, order: "desc" })).toEqual(["dec-02w"]);
        expect(await ids({ after: "dec-01c", before: "dec-05c", limit: 10, order: "desc" })).toEqual([
          "dec-04w",
          "dec-02w",
        ]);
        expect(await ids({ before: "dec-01c", limit: 10, order: "desc" })).toEqual([]);
        expect(await store.history.stateChanges("nope", { limit: 10 })).toEqual([]);
        // Where the store can keep decisions compactly, both forms were read above.
        const client = (store as { client?: { execute(sql: string): Promise<{ rows: { body: unknown }[] }> } }).client;
        if (client) {
          const bodies = (await client.execute("SELECT body FROM decisions ORDER BY id")).rows.map((r) =>
            String(r.body),
          );
          expect(bodies.map((b) => b.startsWith("["))).toEqual([true, false, true, false, true]);
        }
      });
    });

    describe("retention", () => {
      /** A decision id as the governor mints them: `dec_`, time in base 36, a sequence. */
      const decId = (at: number, n: number) => `dec_${at.toString(36).padStart(9, "0")}${String(n).padStart(4, "0")}`;
      const decide = async (objectId: string, at: number, n: number) =>
        store.commit([arrivalBatch(makeObject({ id: objectId, updatedAt: at }), decId(at, n), { at })]);

      test("oldDecisions names the oldest decisions before the cutoff, a batch at a time, and deleteDecisions deletes them", async () => {
        for (let i = 0; i < 5; i++) await decide(i % 2 ? "p" : "q", T0 + i * HOUR, i);
        const prune = async () => store.deleteDecisions((await store.oldDecisions(T0 + 3 * HOUR, 2)).map((d) => d.id));
        expect(await store.oldDecisions(T0 + 3 * HOUR, 2)).toEqual([
          { id: decId(T0, 0), objectId: "q" },
          { id: decId(T0 + HOUR, 1), objectId: "p" },
        ]);
        // Past decisions that stay (an object whose write was refused), from an id on.
        expect(await store.oldDecisions(T0 + 3 * HOUR, 2, decId(T0, 0))).toEqual([
          { id: decId(T0 + HOUR, 1), objectId: "p" },
          { id: decId(T0 + 2 * HOUR, 2), objectId: "q" },
        ]);
        expect(await prune()).toBe(2);
        expect(await store.oldDecisions(T0 + 3 * HOUR, 2)).toEqual([{ id: decId(T0 + 2 * HOUR, 2), objectId: "q" }]);
        expect(await prune()).toBe(1);
        expect(await prune()).toBe(0);
        expect((await store.listDecisions("p", 10)).map((d) => d.at)).toEqual([T0 + 3 * HOUR]);
        expect((await store.listDecisions("q", 10)).map((d) => d.at)).toEqual([T0 + 4 * HOUR]);
      });

      test("a deleted decision's actions go with it, but one still pending stays to be sent", async () => {
        const done = { id: "act-done", kind: "start" as const };
        const pending = { id: "act-pending", kind: "stop" as const };
        const kept = { id: "act-kept", kind: "start" as const };
        await store.commit([arrivalBatch(makeObject({ id: "p", updatedAt: T0 }), decId(T0, 0), { actions: [done] })]);
        await store.commit([
          arrivalBatch(makeObject({ id: "p", updatedAt: T0 + MINUTE }), decId(T0 + MINUTE, 1), { actions: [pending] }),
        ]);
        await store.commit([
          arrivalBatch(makeObject({ id: "q", updatedAt: T0 + HOUR }), decId(T0 + HOUR, 2), { actions: [kept] }),
        ]);
        for (const id of ["act-done", "act-kept"])
          await store.updateAction({
            id,
            status: "confirmed",
            attempts: 1,
            nextAttemptAt: T0,
            lastError: null,
            updatedAt: T0 + 2 * HOUR,
          });
        expect(await store.deleteDecisions([decId(T0, 0), decId(T0 + MINUTE, 1)])).toBe(2);
        expect(await store.history.decisionOf("act-done")).toBeNull();
        expect(await store.history.decisionOf("act-pending")).toBe(decId(T0 + MINUTE, 1));
        expect((await store.pendingActions()).map((a) => a.id)).toEqual(["act-pending"]);
        expect(await store.history.decisionOf("act-kept")).toBe(decId(T0 + HOUR, 2));
        // Pruning by count takes them too.
        await store.commit([arrivalBatch(makeObject({ id: "q", updatedAt: T0 + 3 * HOUR }), decId(T0 + 3 * HOUR, 3))]);
        expect(await store.pruneObjectDecisions("q", 1)).toBe(1);
        expect(await store.history.decisionOf("act-kept")).toBeNull();
      });

      test("pruneActions deletes actions done before the cutoff whose decision is gone, a page of the key at a time, and never a pending one", async () => {
        const actId = (at: number, n: number) => `act_${at.toString(36).padStart(9, "0")}${String(n).padStart(4, "0")}`;
        const at = [T0, T0 + MINUTE, T0 + 2 * MINUTE, T0 + 2 * HOUR, T0 + 3 * MINUTE];
        for (const [i, t] of at.entries())
          await store.commit([
            arrivalBatch(makeObject({ id: "p", updatedAt: t }), decId(t, i), {
              actions: [{ id: actId(t, i), kind: "start" }],
            }),
          ]);
        // Their decisions go while the actions are pending (so the actions stay), but the last one's.
        expect(await store.deleteDecisions(at.slice(0, 4).map((t, i) => decId(t, i)))).toBe(4);
        for (const i of [0, 2, 3, 4])
          await store.updateAction({
            id: actId(at[i]!, i),
            status: "confirmed",
            attempts: 1,
            nextAttemptAt: at[i]!,
            lastError: null,
            updatedAt: at[i]! + 1,
          });
        // Pages of two in id order: 0 and 1 (pending), then 2 and 4 (kept), then none after 4 (3 is too new).
        expect(await store.pruneActions(T0 + HOUR, null, 2)).toEqual({ deleted: 1, next: actId(at[1]!, 1) });
        expect(await store.history.decisionOf(actId(at[0]!, 0))).toBeNull();
        expect(await store.pruneActions(T0 + HOUR, actId(at[1]!, 1), 2)).toEqual({
          deleted: 1,
          next: actId(at[4]!, 4),
        });
        expect(await store.history.decisionOf(actId(at[2]!, 2))).toBeNull();
        expect(await store.pruneActions(T0 + HOUR, actId(at[4]!, 4), 2)).toEqual({ deleted: 0, next: null });
        // Still pending, not old enough, or its decision is kept (served with the action's status).
        expect(await store.pruneActions(T0 + HOUR, null, 10)).toEqual({ deleted: 0, next: null });
        expect((await store.pendingActions()).map((a) => a.id)).toEqual([actId(at[1]!, 1)]);
        expect(await store.history.decisionOf(actId(at[3]!, 3))).toBe(decId(at[3]!, 3));
        expect((await store.getDecision(decId(at[4]!, 4)))!.actions).toEqual([
          { id: actId(at[4]!, 4), kind: "start", status: "confirmed" },
        ]);
      });

      test("oldDecisions passes over a decision taken before the cutoff whose id was minted at it: the next run takes it", async () => {
        const id = decId(T0 + 1, 0);
        await store.commit([arrivalBatch(makeObject({ id: "p", updatedAt: T0 }), id, { at: T0 })]);
        expect(await store.oldDecisions(T0 + 1, 10)).toEqual([]);
        expect(await store.oldDecisions(T0 + 2, 10)).toEqual([{ id, objectId: "p" }]);
      });

      test("an object's decisions beyond the newest N are pruned, and it is no longer over the limit", async () => {
        for (let i = 0; i < 6; i++) await decide("many", T0 + i * MINUTE, i);
        for (let i = 0; i < 2; i++) await decide("few", T0 + i * MINUTE, 10 + i);
        expect(await store.objectsOverDecisionLimit(3, null, 10)).toEqual({ over: ["many"], next: null });
        // The first that goes is the newest after the newest 3.
        expect(await store.decisionBeyond("many", 3)).toBe(decId(T0 + 2 * MINUTE, 2));
        expect(await store.decisionBeyond("many", 6)).toBeNull();
        expect(await store.decisionBeyond("nobody", 0)).toBeNull();
        expect(await store.pruneObjectDecisions("many", 3)).toBe(3);
        expect((await store.listDecisions("many", 10)).map((d) => d.at)).toEqual([
          T0 + 5 * MINUTE,
          T0 + 4 * MINUTE,
          T0 + 3 * MINUTE,
        ]);
        expect(await store.objectsOverDecisionLimit(3, null, 10)).toEqual({ over: [], next: null });
        await decide("many", T0 + 10 * MINUTE, 20);
        expect(await store.objectsOverDecisionLimit(3, null, 10)).toEqual({ over: ["many"], next: null });
        expect((await store.listDecisions("few", 10)).length).toBe(2);
        // A page at a time: "few" then "many", by id.
        expect(await store.objectsOverDecisionLimit(3, null, 1)).toEqual({ over: [], next: "few" });
        expect(await store.objectsOverDecisionLimit(3, "few", 1)).toEqual({ over: ["many"], next: "many" });
        expect(await store.objectsOverDecisionLimit(3, "many", 1)).toEqual({ over: [], next: null });
      });

      test("pruneIdempotency forgets keys used before the cutoff", async () => {
        const key = (k: string) => ({ key: k, fingerprint: `fp-${k}`, decisionId: `dec-${k}` });
        await store.commit([arrivalBatch(makeObject({ id: "i", updatedAt: T0 }), "dec-a", { idempotency: key("a") })]);
        await store.commit([
          arrivalBatch(makeObject({ id: "i", updatedAt: T0 + HOUR }), "dec-b", { idempotency: key("b") }),
        ]);
        expect(await store.pruneIdempotency(T0 + MINUTE, 10)).toBe(1);
        expect(await store.getIdempotent("i", "a")).toBeNull();
        expect(await store.getIdempotent("i", "b")).toEqual(key("b"));
      });
    });

    test("the schedules a policy was armed for round-trip", async () => {
      expect(await store.armedSchedules("p")).toBeNull();
      await store.setArmedSchedules("p", '[{"cron":"* * * * *"}]');
      await store.setArmedSchedules("p", "[]");
      expect(await store.armedSchedules("p")).toBe("[]");
      expect(await store.armedSchedules("q")).toBeNull();
    });

    test("listObjects filters by driver", async () => {
      const bound = (id: string, driver: string) =>
        makeBatch(makeObject({ id, substrate: { driver, config: {}, observed: null } }));
      await store.commit([bound("a", "process"), bound("b", "simulated"), bound("c", "process")]);
      expect((await store.listObjects({ driver: "process", limit: 10 })).map((o) => o.id)).toEqual(["a", "c"]);
      expect((await store.listObjects({ driver: "process", after: "a", limit: 10 })).map((o) => o.id)).toEqual(["c"]);
    });

    test("a snapshot keeps the lifecycle it was taken with", async () => {
      const o = makeObject({ id: "s", memoryVersion: 2 });
      await store.commit([makeBatch(o, { journal: { seq: 1, patch: { a: 1 }, at: T0 } })]);
      await store.commit([makeBatch(o, { journal: { seq: 2, patch: { b: 1 }, at: T0 + 1 } })]);
      const seed = {
        state: "active" as const,
        stateSince: T0 - HOUR,
        wokeAt: T0 - HOUR,
        holdUntil: null,
        timers: [{ name: "wake", dueAt: T0 + HOUR, kind: "wake" as const }],
      };
      await store.compactJournal("s", 1, { seq: 1, patch: { a: 1 }, at: T0, kind: "snapshot", seed });
      expect(await store.journal("s", -1, 10)).toEqual([
        { seq: 1, patch: { a: 1 }, at: T0, kind: "snapshot", seed },
        { seq: 2, patch: { b: 1 }, at: T0 + 1, kind: "patch" },
      ]);
    });

    describe("the governing lease", () => {
      const claim = (owner: string, at: number, ttl = 15_000) => ({
        owner,
        host: "h",
        pid: 1,
        acquiredAt: at,
        renewedAt: at,
        expiresAt: at + ttl,
      });

      test("is free at first, and the first claim takes it", async () => {
        expect(await store.lease()).toBeNull();
        expect(await store.claimLease(claim("a", T0), T0)).toEqual(claim("a", T0));
        expect(await store.lease()).toEqual(claim("a", T0));
      });

      test("a second claim fails while the holder's lease runs, and names the holder", async () => {
        await store.claimLease(claim("a", T0), T0);
        expect((await store.claimLease(claim("b", T0 + 1000), T0 + 1000))!.owner).toBe("a");
        expect((await store.claimLease(claim("b", T0 + 15_000), T0 + 15_000))!.owner).toBe("a");
      });

      test("an expired lease is taken over", async () => {
        await store.claimLease(claim("a", T0), T0);
        expect(await store.claimLease(claim("b", T0 + 15_001), T0 + 15_001)).toEqual(claim("b", T0 + 15_001));
      });

      test("the holder renews it, keeping when it was acquired", async () => {
        await store.claimLease(claim("a", T0), T0);
        const renewed = await store.claimLease(claim("a", T0 + 5000), T0 + 5000);
        expect(renewed).toEqual({ ...claim("a", T0 + 5000), acquiredAt: T0 });
      });

      test("a renewal applied late, after a later one, does not move the expiry back", async () => {
        await store.claimLease(claim("a", T0), T0);
        await store.claimLease(claim("a", T0 + 8000), T0 + 8000);
        const late = await store.claimLease(claim("a", T0 + 4000), T0 + 4000);
        expect(late).toEqual({ ...claim("a", T0 + 8000), acquiredAt: T0 });
        expect(await store.lease()).toEqual({ ...claim("a", T0 + 8000), acquiredAt: T0 });
      });

      test("a holder found dead is replaced before its lease expires; only that holder", async () => {
        await store.claimLease(claim("a", T0), T0);
        expect((await store.claimLease(claim("b", T0 + 1), T0 + 1, "x"))!.owner).toBe("a");
        expect((await store.claimLease(claim("b", T0 + 1), T0 + 1, "a"))!.owner).toBe("b");
      });

      test("only the holder releases it", async () => {
        await store.claimLease(claim("a", T0), T0);
        await store.releaseLease("b");
        expect((await store.lease())!.owner).toBe("a");
        await store.releaseLease("a");
        expect(await store.lease()).toBeNull();
      });
    });
  });
}
