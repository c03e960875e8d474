// Loading a policy file never crashes the server: a file that is malformed, too big, or that
// describes too much work is a refused file with a message, on start and on hot reload alike.

import { execFileSync, spawn } from "node:child_process";
import { readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { MAX_CONDITION_NODES, MAX_POLICY_CHARS } from "../../src/contracts/policy-budget.ts";
import { fileDigest, MAX_POLICY_TEXT } from "../../src/governor/policy-registry.ts";
import type { LoadResult } from "../../src/governor/policy-registry.ts";
import { SystemClock } from "../../src/timers/clock.ts";
import { watchedRules } from "../helpers/watched-rules.ts";

const watched = watchedRules();

const failures: Error[] = [];

async function setup(armSchedules?: (name: string) => Promise<unknown>) {
  const dir = watched.dir("vigil-rules-");
  await watched.services({ rulesDir: dir });
  watched.watch(dir, new SystemClock(), { reloaded: () => {}, failed: (e) => failures.push(e) }, armSchedules);
  const file = join(dir, "queue-worker.json");
  const doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return { file, doc };
}

const refused = (r: LoadResult | { removed: true }) => {
  if ("removed" in r || r.ok) throw new Error(`expected a refused file, got ${JSON.stringify(r)}`);
  return r.error.errors;
};

describe("a hot-reloaded file", () => {
  test("with a path escape JSON does not know is refused, not an exception", async () => {
    const { file, doc } = await setup();
    const rule = {
      name: "odd",
      conditions: { all: [{ fact: "memory", path: '$["\\x"]', operator: "equal", value: 1 }] },
      event: { type: "wake" },
    };
    writeFileSync(file, JSON.stringify({ ...doc, version: "2", rules: [rule] }));
    expect(refused(await watched.watcher.reload(file))).toContainEqual({
      path: "$.rules[0].conditions.all[0].path",
      message: expect.stringMatching(/^must be a path/),
    });
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
  });

  test("that expands to billions of condition nodes is refused", async () => {
    const { file, doc } = await setup();
    const conditions: Record<string, unknown> = { c0: { all: [{ fact: "now", operator: "equal", value: 0 }] } };
    for (let i = 1; i <= 30; i++)
      conditions[`c${i}`] = { all: [{ condition: `c${i - 1}` }, { condition: `c${i - 1}` }] };
    const rules = [{ name: "boom", conditions: { condition: "c30" }, event: { type: "wake" } }];
    writeFileSync(file, JSON.stringify({ ...doc, version: "2", conditions, rules }));
    const errors = refused(await watched.watcher.reload(file));
    expect(errors.map((e) => e.message).join("\n")).toContain(`at most ${MAX_CONDITION_NODES} are allowed`);
    expect(watched.s.policies.list().errors.map((e) => e.file)).toEqual([file]);
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
  });

  test("nested past the document limit is refused without a stack overflow", async () => {
    const { file, doc } = await setup();
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    // Its own `defaults` left out: a second one would be refused as a key written twice.
    writeFileSync(
      file,
      `${JSON.stringify({ ...doc, version: "2", defaults: undefined }).slice(0, -1)},"defaults":{"x":${deep}}}`,
    );
    expect(refused(await watched.watcher.reload(file))[0]!.message).toMatch(/^nesting deeper than 64 levels/);
  });

  test("larger than the limit is refused: its compact JSON, and past four times that before it is parsed", async () => {
    const { file, doc } = await setup();
    const over = JSON.stringify({ ...doc, version: "2", description: "x".repeat(MAX_POLICY_CHARS) });
    writeFileSync(file, over);
    expect(refused(await watched.watcher.reload(file))).toEqual([
      { path: "$", message: expect.stringMatching(`characters of JSON: at most ${MAX_POLICY_CHARS} are allowed$`) },
    ]);
    const huge = JSON.stringify({ ...doc, version: "2", description: "x".repeat(MAX_POLICY_TEXT) });
    writeFileSync(file, huge);
    expect(refused(await watched.watcher.reload(file))).toEqual([
      { path: "$", message: `the policy file is ${huge.length} bytes: at most ${MAX_POLICY_TEXT} are read` },
    ]);
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
  });

  test("past the bound is not read at all, and the polls that follow do not load it again", async () => {
    const { file } = await setup();
    // 600 MB (of zeros, a sparse file): more than V8 makes a string of. Read whole, it threw, the
    // file's digest was left unknown, and every poll of the watcher read and refused it again.
    const size = 600 * 1024 * 1024;
    truncateSync(file, size);
    expect(refused(await watched.watcher.reload(file))).toEqual([
      { path: "$", message: `the policy file is ${size} bytes: at most ${MAX_POLICY_TEXT} are read` },
    ]);
    expect(fileDigest(file)).toBe(watched.s.policies.readFiles().get(file));
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
  });

  test("that is a FIFO is refused without waiting for a writer, at load and at every poll", async () => {
    const { file } = await setup();
    const fifo = join(dirname(file), "fifo.json");
    execFileSync("mkfifo", [fifo]);
    // Opening a FIFO to read waits for a writer, with the event loop: this one comes after 2 s, so
    // that a read that waits does not hang the test for good (its refusal then says something else).
    const writer = spawn("sh", ["-c", `sleep 2; exec 3>"${fifo}"`]);
    try {
      expect(refused(await watched.watcher.reload(fifo))).toEqual([
        { path: "$", message: expect.stringContaining("not a regular file") },
      ]);
      expect(fileDigest(fifo)).toBe("");
    } finally {
      writer.kill();
    }
  });

  test("that is a socket, or a loop of symbolic links, is refused in words, not in an errno's", async () => {
    const { file } = await setup();
    const socket = join(dirname(file), "socket.json");
    const server = createServer();
    await new Promise<void>((done) => server.listen(socket, done));
    const loop = join(dirname(file), "loop.json");
    symlinkSync("loop.json", loop);
    try {
      // Opening a socket is refused by the kernel (ENXIO: "no such device or address").
      expect(refused(await watched.watcher.reload(socket))).toEqual([
        { path: "$", message: "cannot read the file: not a regular file (a FIFO, a device or a socket)" },
      ]);
      // As a start reads it, and as a reload does.
      expect(refused(watched.s.policies.loadFile(loop))).toEqual([
        { path: "$", message: "cannot read the file: a loop of symbolic links" },
      ]);
      expect(refused(await watched.watcher.reload(loop))).toEqual([
        { path: "$", message: "cannot read the file: a loop of symbolic links" },
      ]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  test("that is a symbolic link to nothing is refused as at start, not taken for a removed file", async () => {
    const { file } = await setup();
    const dangling = join(dirname(file), "dangling.json");
    symlinkSync("nowhere.json", dangling);
    const atStart = watched.s.policies.loadFile(dangling);
    expect(refused(atStart)).toEqual([{ path: "$", message: "cannot read the file: no such file or directory" }]);
    // What a running server does when the link appears: the same refusal, listed under errors.
    watched.s.policies.forgetFile(dangling);
    expect(refused(await watched.watcher.reload(dangling))).toEqual(refused(atStart));
    expect(watched.s.policies.list().errors.map((e) => e.file)).toEqual([dangling]);
  });

  test("with a shared condition json-rules-engine cannot build is refused, and the version serving stays", async () => {
    const { file, doc } = await setup();
    writeFileSync(file, JSON.stringify({ ...doc, version: "2", conditions: { "": { all: [] } } }));
    expect(refused(await watched.watcher.reload(file))).toEqual([
      { path: '$.conditions[""]', message: expect.stringContaining("a shared condition needs a name") },
    ]);
    expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
  });

  test("whose schedules fail to re-arm is still loaded, and the reload does not reject", async () => {
    const { file, doc } = await setup(() => Promise.reject(new Error("store is closed")));
    writeFileSync(file, JSON.stringify({ ...doc, version: "2" }));
    const r = await watched.watcher.reload(file);
    if ("removed" in r || !r.ok) throw new Error(`expected a loaded file, got ${JSON.stringify(r)}`);
    expect(r.warnings).toContainEqual({
      path: "$.schedules",
      message:
        "the policy is loaded, but re-arming its schedules failed: store is closed; its objects keep their old ticks until the file is changed again or the server restarts",
    });
    expect(watched.s.policies.get("queue-worker")!.version).toBe("2");
  });
});

describe("the directory watcher", () => {
  test("reports an error instead of throwing it", async () => {
    await setup();
    watched.watcher.start();
    const fsWatcher = (watched.watcher as unknown as { watcher: import("node:fs").FSWatcher }).watcher;
    expect(() => fsWatcher.emit("error", new Error("ENOENT: the rules directory is gone"))).not.toThrow();
    expect(failures.map((e) => e.message)).toEqual(["ENOENT: the rules directory is gone"]);
  });
});
