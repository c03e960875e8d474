// Hot reload: an edited rules file becomes a new policy version without a restart; an invalid
// edit is refused and reported while the previous version keeps serving.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { describeReload, PolicyWatcher, reloadLines } from "../../src/governor/policy-watcher.ts";
import type { PolicyInfo } from "../../src/governor/services.ts";
import { compilePolicy } from "../../src/core/compile.ts";
import { loadPolicyText, type LoadResult } from "../../src/governor/policy-registry.ts";
import { SystemClock, VirtualClock } from "../../src/timers/clock.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { watchedRules } from "../helpers/watched-rules.ts";

const watched = watchedRules();

async function setup() {
  const dir = watched.dir("vigil-rules-");
  await watched.services({ rulesDir: dir });
  const seen: [string, LoadResult | { removed: true }, PolicyInfo | null][] = [];
  const waiters: ((f: string) => void)[] = [];
  watched.watch(dir, new SystemClock(), {
    reloaded: (file, r, previous) => {
      seen.push([file, r, previous]);
      for (const w of waiters.splice(0)) w(file);
    },
  });
  const file = join(dir, "queue-worker.json");
  const doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return { dir, file, doc, seen, next: () => new Promise<string>((r) => waiters.push(r)) };
}

describe("hot reload", () => {
  test("an edit is a new version (content hash) that the next evaluation records", async () => {
    const { file, doc } = await setup();
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    const before = await watched.s.governor.postFacts("w", { a: 1 });
    const oldHash = watched.s.policies.get("queue-worker")!.hash;
    expect(before.decision.policy).toEqual({ name: "queue-worker", version: "1", hash: oldHash });

    writeFileSync(file, JSON.stringify({ ...doc, version: "2" }));
    const r = await watched.watcher.reload(file);
    expect("ok" in r && r.ok).toBe(true);
    const info = watched.s.policies.get("queue-worker")!;
    expect(info.version).toBe("2");
    expect(info.hash).not.toBe(oldHash);
    const after = await watched.s.governor.postFacts("w", { a: 2 });
    expect(after.decision.policy).toEqual({ name: "queue-worker", version: "2", hash: info.hash });
  });

  test("an invalid edit is refused, reported with file and path, and the previous version serves", async () => {
    const { file, doc } = await setup();
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    const rules = structuredClone(doc.rules) as { event: { type: string } }[];
    rules[0]!.event.type = "explode";
    writeFileSync(file, JSON.stringify({ ...doc, version: "3", rules }));
    const r = await watched.watcher.reload(file);
    expect("ok" in r && r.ok).toBe(false);
    const listed = watched.s.policies.list();
    expect(listed.errors).toEqual([
      {
        file,
        at: expect.any(String),
        errors: [
          {
            path: "$.rules[0].event.type",
            message: 'unknown event type "explode": use wake, hold-active, dormancy, schedule or cancel',
          },
        ],
      },
    ]);
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
    const d = await watched.s.governor.postFacts("w", { queue: { depth: 1 } });
    expect(d.decision).toMatchObject({ policy: { version: "1" }, outcome: "wake" });

    // Fixing the file clears the error.
    writeFileSync(file, JSON.stringify({ ...doc, version: "4" }));
    await watched.watcher.reload(file);
    expect(watched.s.policies.list().errors).toEqual([]);
    expect(watched.s.policies.get("queue-worker")!.version).toBe("4");
  });

  test("a new schedule reaches existing objects of the policy at once", async () => {
    const { file, doc } = await setup();
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    expect((await watched.s.governor.getObject("w"))!.timers).toEqual([]);
    writeFileSync(file, JSON.stringify({ ...doc, schedules: [{ name: "tick", cron: "*/10 * * * *" }] }));
    await watched.watcher.reload(file);
    expect((await watched.s.governor.getObject("w"))!.timers).toEqual([
      { name: "tick", dueAt: Date.parse("2026-03-01T00:10:00.000Z"), kind: "cron" },
    ]);
  });

  test("the directory watcher picks up a file written to disk", async () => {
    const { file, doc, next, seen } = await setup();
    watched.watcher.start();
    const reloaded = next();
    writeFileSync(file, JSON.stringify({ ...doc, version: "watched" }));
    expect(await reloaded).toBe(file);
    expect(seen.at(-1)![1]).toMatchObject({ ok: true });
    expect(watched.s.policies.get("queue-worker")!.version).toBe("watched");
  });

  test("a file written over with the bytes it held is not reloaded", async () => {
    const { dir, file, next, seen } = await setup();
    const loadedAt = watched.s.policies.get("queue-worker")!.loadedAt;
    watched.watcher.start();
    // A deploy copying the whole directory: queue-worker.json as it was, then on-demand.json
    // edited. Their events come in that order, and so would their reloads.
    writeFileSync(file, readFileSync(file));
    const other = join(dir, "on-demand.json");
    const edited = { ...(JSON.parse(readFileSync(other, "utf8")) as object), version: "edited" };
    writeFileSync(other, JSON.stringify(edited));
    while (!seen.some(([f]) => f === other)) await next();
    expect(seen.map(([f]) => f)).toEqual([other]);
    expect(watched.s.policies.get("queue-worker")!.loadedAt).toBe(loadedAt);
  });
});

describe("what a reload is reported as", () => {
  const message = (seen: [string, LoadResult | { removed: true }, PolicyInfo | null][]) => {
    const [, r, previous] = seen.at(-1)!;
    return describeReload(r, previous).msg;
  };

  test("a brand-new file is loaded, not reloaded; a brand-new invalid file keeps nothing serving", async () => {
    const { dir, doc, seen } = await setup();
    const fresh = join(dir, "fresh.json");
    writeFileSync(fresh, JSON.stringify({ ...doc, name: "fresh" }));
    await watched.watcher.reload(fresh);
    expect(message(seen)).toBe("policy loaded");

    writeFileSync(fresh, JSON.stringify({ ...doc, name: "fresh", version: "2" }));
    await watched.watcher.reload(fresh);
    expect(seen.at(-1)![2]?.version).toBe("1");
    expect(message(seen)).toBe("policy reloaded");

    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{");
    await watched.watcher.reload(broken);
    expect(message(seen)).toBe("policy refused; no version of it is loaded");

    writeFileSync(fresh, "{");
    await watched.watcher.reload(fresh);
    expect(message(seen)).toBe("policy refused; the previous version keeps serving");
  });
});

describe("a changed schedule", () => {
  test("moves the pending tick of every object of the policy", async () => {
    const { file, doc } = await setup();
    writeFileSync(file, JSON.stringify({ ...doc, schedules: [{ name: "tick", cron: "0 0 1 1 *" }] }));
    await watched.watcher.reload(file);
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    expect((await watched.s.governor.getObject("w"))!.timers).toEqual([
      { name: "tick", dueAt: Date.parse("2027-01-01T00:00:00.000Z"), kind: "cron" },
    ]);
    writeFileSync(file, JSON.stringify({ ...doc, schedules: [{ name: "tick", cron: "*/5 * * * *" }] }));
    await watched.watcher.reload(file);
    expect((await watched.s.governor.getObject("w"))!.timers).toEqual([
      { name: "tick", dueAt: Date.parse("2026-03-01T00:05:00.000Z"), kind: "cron" },
    ]);
  });

  test("a tick that fires while a slow reload is on its way to the object fires once", async () => {
    const { file, doc } = await setup();
    writeFileSync(file, JSON.stringify({ ...doc, schedules: [{ name: "tick", cron: "* * * * *" }] }));
    await watched.watcher.reload(file);
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    const fired: number[] = [];
    watched.s.governor.events.on("timer:fired", (_id, name) =>
      name === "tick" ? fired.push(watched.s.clock.now()) : 0,
    );
    await watched.s.advance(90_000); // 00:01:30; the next tick at 00:02:00
    expect(fired).toEqual([Date.parse("2026-03-01T00:01:00Z")]);
    // A large fleet: the reload reaches this object 40 s after it began, past the 00:02 tick.
    const list = watched.s.store.listObjects.bind(watched.s.store);
    watched.s.store.listObjects = async (q) => {
      const page = await list(q);
      await watched.s.advance(40_000);
      return page;
    };
    writeFileSync(
      file,
      JSON.stringify({
        ...doc,
        schedules: [
          { name: "tick", cron: "* * * * *" },
          { name: "hourly", cron: "0 * * * *" },
        ],
      }),
    );
    await watched.watcher.reload(file);
    watched.s.store.listObjects = list;
    await watched.s.advance(60_000);
    expect(fired.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual(["00:01:00", "00:02:00", "00:03:00"]);
  });

  test("a removed schedule's tick that falls due before a slow reload reaches the object does not fire", async () => {
    const { file, doc } = await setup();
    writeFileSync(file, JSON.stringify({ ...doc, schedules: [{ name: "tick", cron: "* * * * *" }] }));
    await watched.watcher.reload(file);
    await watched.s.governor.putObject("w", { policy: "queue-worker" });
    const fired: string[] = [];
    watched.s.governor.events.on("timer:fired", (_id, name) => fired.push(name));
    await watched.s.advance(90_000); // 00:01:30; the next tick at 00:02:00
    expect(fired).toEqual(["tick"]);
    // A large fleet: the reload reaches this object 40 s after it began, past the 00:02 tick.
    const list = watched.s.store.listObjects.bind(watched.s.store);
    watched.s.store.listObjects = async (q) => {
      const page = await list(q);
      await watched.s.advance(40_000);
      return page;
    };
    writeFileSync(file, JSON.stringify({ ...doc, version: "2", schedules: [] }));
    await watched.watcher.reload(file);
    watched.s.store.listObjects = list;
    await watched.s.advance(60_000);
    expect(fired).toEqual(["tick"]);
    expect((await watched.s.governor.getObject("w"))!.timers).toEqual([]);
  });
});

// Two reloads of one policy file whose armings would overlap: an edit, then its undo, saved
// while the edit's arming is about to walk the objects, or is walking them. The policy that
// serves is the undone (original) version; the objects must be armed for its schedule, not the
// edit's (each arming waits for the one before and arms for the version serving when it begins;
// one that ends with another version serving clears the record, so the next walks them all).
describe("an edit and its undo, close together", () => {
  /** Objects a, b and c of policy p (a tick every five minutes), its file, its edit (09:00) and a watcher. */
  async function threeObjects() {
    const dir = watched.dir("vigil-reload-", false);
    const file = join(dir, "p.json");
    const original = scheduledPolicy({ name: "p", version: "1", cron: "*/5 * * * *" });
    const edit = scheduledPolicy({ name: "p", version: "2", cron: "0 9 * * *" });
    writeFileSync(file, JSON.stringify(original));
    const services = await watched.services({ start: Date.parse("2026-01-01T00:00:00Z"), rulesDir: dir });
    const watcher = watched.watch(dir, services.clock, { reloaded: () => {} });
    for (const id of ["a", "b", "c"]) await services.governor.putObject(id, { policy: "p" });
    const tickOf = async (id: string) =>
      new Date((await services.governor.getObject(id))!.timers.find((t) => t.name === "tick")!.dueAt).toISOString();
    expect(await tickOf("a")).toBe("2026-01-01T00:05:00.000Z");
    return { services, file, original, edit, watcher, tickOf };
  }

  test("an edit and its undo reloaded back to back leave the objects armed for the serving schedule", async () => {
    const { services, file, original, edit, watcher, tickOf } = await threeObjects();

    // The edit is saved and reloaded; its arming is under way when the undo is saved and reloaded.
    writeFileSync(file, JSON.stringify(edit));
    const first = watcher.reload(file);
    writeFileSync(file, JSON.stringify(original));
    const second = watcher.reload(file);
    await Promise.all([first, second]);
    await services.governor.idle();

    // What serves is the original, every five minutes...
    expect(services.policies.get("p")!.version).toBe("1");
    // ...so every object's next tick is 00:05, not the edit's 09:00.
    expect(await tickOf("a")).toBe("2026-01-01T00:05:00.000Z");
    expect(await tickOf("c")).toBe("2026-01-01T00:05:00.000Z");
    let fired = 0;
    services.governor.events.on("timer:fired", () => fired++);
    await services.advance(5 * 60_000);
    expect(fired).toBe(3);
  });

  test("an undo saved while the edit's arming is walking the objects leaves the original schedule in force", async () => {
    const { services, file, original, edit, watcher, tickOf } = await threeObjects();

    // Object b's mailbox is busy (an evaluation under way): the edit's arming waits there.
    let unblock!: () => void;
    const blocker = services.governor.exclusive("b", () => new Promise<void>((r) => (unblock = r)));
    writeFileSync(file, JSON.stringify(edit));
    const first = watcher.reload(file);
    // Let the edit's arming begin and reach b.
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
    expect(await tickOf("a")).toBe("2026-01-01T09:00:00.000Z"); // the edit's arming is under way
    // The undo is saved and reloaded meanwhile.
    writeFileSync(file, JSON.stringify(original));
    const second = watcher.reload(file);
    unblock();
    await blocker;
    await Promise.all([first, second]);
    await services.governor.idle();

    expect(services.policies.get("p")!.version).toBe("1");
    // The original serves: every object's next tick is 00:05, not the edit's 09:00.
    expect({ a: await tickOf("a"), b: await tickOf("b"), c: await tickOf("c") }).toEqual({
      a: "2026-01-01T00:05:00.000Z",
      b: "2026-01-01T00:05:00.000Z",
      c: "2026-01-01T00:05:00.000Z",
    });
  });
});

describe("what a reload logs", () => {
  test("a failure to re-arm the policy's schedules is a warning line after the reload's own", async () => {
    const { dir, file, doc } = await setup();
    const failing = new PolicyWatcher(
      dir,
      watched.s.policies,
      () => Promise.reject(new Error("disk full")),
      new SystemClock(),
      {
        reloaded: () => {},
      },
    );
    writeFileSync(file, JSON.stringify({ ...doc, version: "2" }));
    const r = await failing.reload(file);
    const previous = { name: "queue-worker", version: "1" } as PolicyInfo;
    expect(reloadLines(file, r, previous)).toEqual([
      {
        level: "info",
        msg: "policy reloaded",
        fields: { file, policy: "queue-worker@2", hash: expect.any(String), previous: "queue-worker@1" },
      },
      {
        level: "warn",
        msg: "policy loaded with a warning",
        fields: {
          file,
          policy: "queue-worker@2",
          path: "$.schedules",
          warning:
            "the policy is loaded, but re-arming its schedules failed: disk full; its objects keep their old ticks until the file is changed again or the server restarts",
        },
      },
    ]);
  });
});

describe("what changed while the server started", () => {
  test("a file removed meanwhile is forgotten, whether the directory is given with a trailing slash or not", async () => {
    const dir = watched.dir("vigil-rules-");
    await watched.services({ rulesDir: `${dir}/` });
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    const watcher = watched.watch(`${dir}/`, clock, { reloaded: (file) => seen.push(file) });
    rmSync(join(dir, "nightly-report.json"));
    watcher.start();
    await clock.advance(1000);
    expect(seen).toEqual([join(dir, "nightly-report.json")]);
  });

  test("a file saved between the first load and the watch is reloaded when the watch starts; the rest are not", async () => {
    const dir = watched.dir("vigil-rules-");
    const s = await watched.services({ rulesDir: dir });
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    const watcher = watched.watch(dir, clock, { reloaded: (file) => seen.push(file) });
    // Saved after makeServices loaded the directory, before the watch: no event will tell.
    const edited = join(dir, "queue-worker.json");
    const doc = JSON.parse(readFileSync(edited, "utf8")) as Record<string, unknown>;
    writeFileSync(edited, JSON.stringify({ ...doc, version: "edited" }));
    const added = join(dir, "added.json");
    writeFileSync(added, JSON.stringify({ ...doc, name: "added" }));
    const removed = join(dir, "nightly-report.json");
    rmSync(removed);
    watcher.start();
    await clock.advance(1000);
    expect(seen.sort()).toEqual([added, removed, edited].sort());
    expect(s.policies.get("queue-worker")!.version).toBe("edited");
    expect(s.policies.get("added")).not.toBeNull();
  });

  test("a policy on json-rules-engine says so when it loads, with the reason", () => {
    const file = "/rules/queue-worker.json";
    const r = loadPolicyText(readFileSync(join("rules", "queue-worker.json"), "utf8"), file, 0);
    if (!r.ok) throw new Error("queue-worker.json should load");
    // Every policy validation accepts compiles; what the registry does with one the compiler does
    // not take (loadDocument copies the engine the compiled policy runs on into its info), built
    // by the compiler's own option for a policy on json-rules-engine.
    const { info } = r.policy;
    const compiled = compilePolicy(r.policy.compiled.document, info.hash, { engine: "json-rules-engine" });
    const fallback: LoadResult = {
      ...r,
      policy: { compiled, info: { ...info, engine: { ...compiled.engine } } },
    };
    expect(reloadLines(file, fallback, null)).toEqual([
      { level: "info", msg: "policy loaded", fields: { file, policy: "queue-worker@1", hash: info.hash } },
      {
        level: "warn",
        msg: "policy runs on json-rules-engine",
        fields: { file, policy: "queue-worker@1", reason: "json-rules-engine was asked for" },
      },
    ]);
    // The compiled one has no such line.
    expect(reloadLines(file, r, null)).toHaveLength(1);
  });
});
