// The CLI as a client of a running server: `vigil objects`, `facts`, `decisions` and `explain`
// against the real HTTP API on a socket, their text and --json output, and the exit codes and
// messages of every way a request fails (usage 2, unreachable 3, token refused 4, 404 1, any
// other error reply 5).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runEvents } from "../../src/cli/events.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { refusingPort } from "../helpers/refusing-port.ts";
import { run, serveVigil, vigil, type Served } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-client-"));
let vigilServer: Served;
let url: string;
beforeAll(async () => {
  vigilServer = await serveVigil();
  url = vigilServer.url;
});
afterAll(async () => {
  await vigilServer.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback URL where a connection is refused, held so until the test finishes. */
const deadUrl = async () => `http://127.0.0.1:${await refusingPort()}`;

const json = (text: string) => JSON.parse(text) as any;

describe("vigil objects", () => {
  test("put creates then updates; list is a table, one page at a time; get shows the fields; delete", async () => {
    const created = await run(runObjects, ["put", "obj-a", "--policy", "queue-worker"], url);
    expect(created).toMatchObject({ code: 0, err: "" });
    expect(created.out).toMatch(
      /^created obj-a\n {2}policy: +queue-worker@1\n {2}state: +dormant since 2026-03-01T00:00:00\.000Z\n/,
    );
    const updated = await run(runObjects, ["put", "obj-a", "--policy", "queue-worker"], url);
    expect(updated.out).toMatch(/^updated obj-a\n/);
    const memory = await run(
      runObjects,
      ["put", "obj-b", "--policy", "nightly-report", "--driver", "simulated", "--config", "{}", "--memory", '{"n": 2}'],
      url,
    );
    expect(memory.code).toBe(0);
    expect(memory.out).toContain('  memory v0:     {"n":2}\n');

    const list = await run(runObjects, ["list"], url);
    expect(list.code).toBe(0);
    expect(list.out).toBe(
      "ID     STATE    POLICY            SINCE\n" +
        "obj-a  dormant  queue-worker@1    2026-03-01T00:00:00.000Z\n" +
        "obj-b  dormant  nightly-report@2  2026-03-01T00:00:00.000Z\n",
    );

    const first = await run(runObjects, ["list", "--limit", "1"], url);
    const cursor = /more: vigil objects list --limit 1 --cursor (\S+)\n$/.exec(first.out)?.[1];
    expect(first.out).toContain("obj-a");
    expect(cursor).toBeDefined();
    const second = await run(runObjects, ["list", "--limit", "1", "--cursor", cursor!, "--json"], url);
    expect(json(second.out).items.map((o: { id: string }) => o.id)).toEqual(["obj-b"]);

    const got = await run(runObjects, ["get", "obj-b", "--json"], url);
    expect(json(got.out)).toMatchObject({ id: "obj-b", state: "dormant", memory: { n: 2 } });
    const text = await run(runObjects, ["get", "obj-b"], url);
    expect(text.out).toMatch(/^obj-b\n {2}policy: +nightly-report@2\n/);
    expect(text.out).toContain("  substrate:     simulated\n");

    const deleted = await run(runObjects, ["delete", "obj-b"], url);
    expect(deleted).toEqual({ code: 0, out: "deleted obj-b (its compute was stopped)\n", err: "" });
    const gone = await run(runObjects, ["get", "obj-b"], url);
    expect(gone).toEqual({ code: 1, out: "", err: 'vigil objects: 404 Not found: object "obj-b" not found\n' });
    expect((await run(runObjects, ["delete", "obj-b", "--json"], url)).code).toBe(1);
  });

  test("a refused PUT exits 5 and prints the problem's title, detail and each path", async () => {
    const r = await run(runObjects, ["put", "obj-x", "--policy", "no-such-policy"], url);
    expect(r).toEqual({
      code: 5,
      out: "",
      err:
        'vigil objects: 422 Validation failed: policy "no-such-policy" is not loaded\n' +
        '  $.policy: no loaded policy named "no-such-policy"\n',
    });
  });

  test.each([
    [["get"], "objects get takes one ID"],
    [["frob"], 'unknown subcommand "frob"'],
    [[], "which subcommand?"],
    [["put", "w"], "objects put needs --policy NAME"],
    [["put", "w", "--policy", "queue-worker", "--config", "{}"], "--config needs --driver"],
    [["put", "w", "--policy", "queue-worker", "--memory", "{nope"], "--memory is not valid JSON"],
    [["put", "w", "--policy", "queue-worker", "--memory", "@/no/such/file"], "--memory: cannot read /no/such/file"],
    [["list", "--limit", "0"], "--limit takes a whole number of at least 1"],
    [["get", "w", "--state", "active"], "--state does not apply to objects get"],
    [["delete", "w", "--compute", "later"], "--compute takes stop or keep"],
    [["list", "--url", "ftp://example.com"], '--url "ftp://example.com" must be an http:// or https:// URL'],
    [["list", "--url", "not a url"], '--url "not a url" is not a URL'],
  ])("usage error %j exits 2 with the message and the synopsis", async (args, message) => {
    const r = await run(runObjects, args, url);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(`vigil objects: ${message}`);
    expect(r.err).toContain("usage: vigil objects list");
  });
});

describe("vigil facts post, decisions and explain", () => {
  test("facts inline, from a file and from stdin; the decision they took; an idempotent repeat", async () => {
    await run(runObjects, ["put", "w1", "--policy", "queue-worker"], url);
    const inline = await run(runFacts, ["post", "w1", '{"queue": {"depth": 3}}'], url);
    expect(inline.code).toBe(0);
    expect(inline.out).toMatch(
      /^decision dec_\w+ w1 at 2026-03-01T00:00:00\.000Z {2}outcome wake \(dormant -> waking\)\n {2}why: +outcome wake/,
    );
    expect(inline.out).toContain("  fired:    backlog-wake -> wake\n");
    expect(inline.out).toMatch(/\nobject w1 waking since 2026-03-01T00:00:00\.000Z, memory v1\n$/);

    const file = join(dir, "facts.json");
    writeFileSync(file, '{"jobs": {"inflight": 1}}');
    const fromFile = await run(runFacts, ["post", "w1", `@${file}`, "--json"], url);
    expect(json(fromFile.out).object.memory).toEqual({ queue: { depth: 3 }, jobs: { inflight: 1 } });
    const fromStdin = await run(runFacts, ["post", "w1", "-", "--json"], url, {
      stdin: async () => '{"queue": {"depth": 0}}',
    });
    expect(json(fromStdin.out).object.memoryVersion).toBe(3);

    const once = json((await run(runFacts, ["post", "w1", '{"x": 1}', "--idempotency-key", "k-1", "--json"], url)).out);
    const again = await run(runFacts, ["post", "w1", '{"x": 1}', "--idempotency-key", "k-1"], url);
    expect(again.out).toMatch(/^replayed: the key "k-1" was used before; nothing was applied again\n/);
    expect(again.out).toContain(`decision ${once.decision.id as string} `);
    // --json says so too, as `replayed` (the Idempotent-Replayed header); the first was not.
    expect(once.replayed).toBe(false);
    const againJson = json(
      (await run(runFacts, ["post", "w1", '{"x": 1}', "--idempotency-key", "k-1", "--json"], url)).out,
    );
    expect(againJson.replayed).toBe(true);
    expect(againJson.decision.id).toBe(once.decision.id);
    const conflict = await run(runFacts, ["post", "w1", '{"x": 2}', "--idempotency-key", "k-1"], url);
    expect(conflict.code).toBe(5);
    expect(conflict.err).toMatch(/^vigil facts: 409 Conflict: /);

    const bad = await run(runFacts, ["post", "w1", '{"queue": '], url);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("vigil facts: the facts argument is not valid JSON");
    expect((await run(runFacts, ["post", "nobody", "{}"], url)).code).toBe(1);
  });

  test("decisions list newest first, a page at a time; decisions get; explain prints the tree", async () => {
    await run(runObjects, ["put", "w2", "--policy", "queue-worker"], url);
    await run(runFacts, ["post", "w2", '{"queue": {"depth": 3}}'], url);
    const page = json((await run(runDecisions, ["list", "w2", "--json"], url)).out);
    const [wake, create] = page.items as { id: string; trigger: { kind: string } }[];
    expect([wake!.trigger.kind, create!.trigger.kind]).toEqual(["facts", "create"]);

    const table = await run(runDecisions, ["list", "w2"], url);
    expect(table.out).toBe(
      "ID" +
        " ".repeat(wake!.id.length) +
        "AT                        TRIGGER  OUTCOME  STATE              FIRED\n" +
        `${wake!.id}  2026-03-01T00:00:00.000Z  facts    wake     dormant -> waking  backlog-wake\n` +
        `${create!.id}  2026-03-01T00:00:00.000Z  create   none     dormant\n`,
    );
    const first = await run(runDecisions, ["list", "w2", "--limit", "1"], url);
    expect(first.out).toContain(`older: vigil decisions list w2 --limit 1 --before ${wake!.id}\n`);
    const older = json((await run(runDecisions, ["list", "w2", "--before", wake!.id, "--json"], url)).out);
    expect(older.items.map((d: { id: string }) => d.id)).toEqual([create!.id]);

    const got = await run(runDecisions, ["get", wake!.id], url);
    expect(got.out).toContain(`  explain:  vigil explain ${wake!.id}\n`);
    expect(json((await run(runDecisions, ["get", wake!.id, "--json"], url)).out).explanation.rules).toHaveLength(3);

    const explained = await run(runExplain, [wake!.id], url);
    expect(explained).toEqual({
      code: 0,
      err: "",
      out: [
        `decision ${wake!.id} w2 at 2026-03-01T00:00:00.000Z  outcome wake (dormant -> waking)`,
        "  outcome wake (fired: backlog-wake); dormant -> waking; start issued",
        "  trigger facts, policy queue-worker@1",
        "✓ backlog-wake  fired -> wake",
        "    ✓ all",
        "        ✓ memory $.queue.depth greaterThan 0  (was 3)",
        "✗ job-in-flight  not fired (hold-active)",
        "    ✗ all",
        "        ✗ memory $.jobs.inflight greaterThan 0  (was 0)",
        "✗ idle  not fired (dormancy)",
        "    ✗ all",
        "        ✗ memory $.queue.depth equal 0  (was 3)",
        "        ✓ memory $.jobs.inflight equal 0  (was 0)",
        '        ✗ state in ["active","waking"]  (was "dormant")',
        "",
      ].join("\n"),
    });
    // README's CLI part shows the same explanation, for worker-1 at another time: word for word
    // what the command prints (it showed the first rule alone, without the lines above it).
    const readme = readFileSync("README.md", "utf8");
    const shown = /^\$ npx vigil explain (dec_\w+)\n([^`]*)```/m.exec(readme.slice(readme.indexOf("\n## CLI\n")));
    expect(shown).not.toBeNull();
    expect(
      shown![2]!
        .replaceAll(shown![1]!, wake!.id)
        .replace(" worker-1 at 2026-12-01T02:48:39.011Z ", " w2 at 2026-03-01T00:00:00.000Z "),
    ).toBe(explained.out);
    expect(json((await run(runExplain, [wake!.id, "--json"], url)).out).id).toBe(wake!.id);
    const missing = await run(runExplain, ["dec_nope"], url);
    expect(missing).toEqual({ code: 1, out: "", err: 'vigil explain: 404 Not found: decision "dec_nope" not found\n' });
    expect((await run(runDecisions, ["list", "w2", "--before", "nope"], url)).code).toBe(5);
    expect((await run(runDecisions, ["get", wake!.id, "--limit", "2"], url)).code).toBe(2);
  });
});

describe("vigil events on the server's stream", () => {
  test("starts after --last-event-id with the stored decisions, then follows live ones", async () => {
    const { governor } = vigilServer.services;
    await governor.putObject("ev-1", { policy: "queue-worker" });
    const [created] = await governor.listDecisions("ev-1", 1);
    const stored = await governor.postFacts("ev-1", { queue: { depth: 2 } });
    let out = "";
    let live: ReturnType<typeof governor.postFacts> | null = null;
    const args = ["--object", "ev-1", "--types", "decision", "--last-event-id", created!.id, "--count", "2"];
    const code = await runEvents(args, {
      env: { VIGIL_URL: url },
      err: (s) => expect.fail(s),
      // Once the stored decision is printed the stream is live: the next arrival comes on it.
      out: (s) => {
        out += s;
        live ??= governor.postFacts("ev-1", { queue: { depth: 5 } });
      },
    });
    expect(code).toBe(0);
    const next = (await live!)!;
    expect(out).toBe(
      `2026-03-01T00:00:00.000Z  decision ${stored.decision.id}  ev-1  facts  wake (dormant -> waking)  fired backlog-wake\n` +
        `2026-03-01T00:00:00.000Z  decision ${next.decision.id}  ev-1  facts  ${next.decision.outcome} ` +
        `(${next.decision.fromState === next.decision.toState ? next.decision.toState : `${next.decision.fromState} -> ${next.decision.toState}`})` +
        `  fired ${next.decision.fired.map((f) => f.rule).join(", ")}\n`,
    );
  });
});

describe("a server that cannot be reached, or refuses the token", () => {
  test("connection refused: exit 3, naming the URL and what to do", async () => {
    const dead = await deadUrl();
    for (const [entry, args, name] of [
      [runObjects, ["list"], "objects"],
      [runFacts, ["post", "w", "{}"], "facts"],
      [runDecisions, ["list", "w"], "decisions"],
      [runExplain, ["dec_x"], "explain"],
    ] as const) {
      const r = await run(entry, [...args], dead);
      expect(r).toEqual({
        code: 3,
        out: "",
        err: `vigil ${name}: cannot reach ${dead} (connection refused); is the server running? (\`npm start\`)\n`,
      });
    }
  });

  test("a --url on a port fetch will not connect to (6666, a Fetch standard bad port) is exit 2 saying so, not 'is the server running?'", async () => {
    // fetch refuses the port before it connects: nothing listens or is asked here.
    const url = "http://127.0.0.1:6666";
    const why =
      `${url}: fetch does not connect to its port (or to a redirect's): it is one of the ports ` +
      "the Fetch standard blocks, as browsers do; run the server on another port (--port or VIGIL_PORT)";
    for (const [entry, args, name] of [
      [runObjects, ["list"], "objects"],
      [runFacts, ["post", "w", "{}"], "facts"],
      [runEvents, [], "events"],
    ] as const) {
      const r = await run(entry, [...args], url);
      expect(r).toEqual({ code: 2, out: "", err: `vigil ${name}: ${why}\n` });
    }
  });

  test("401 without or with a wrong token, 403 without the scope: exit 4, naming the scope", async () => {
    const tokens = [
      { name: "ingest", token: "0123456789abcdef-ingest", scopes: ["write:facts" as const] },
      { name: "ops", token: "0123456789abcdef-ops", scopes: ["admin" as const] },
    ];
    const secured = await serveVigil(tokens);
    try {
      const none = await run(runObjects, ["list"], secured.url);
      expect(none.code).toBe(4);
      expect(none.err).toBe(
        "vigil objects: 401 Unauthorized: this route needs a bearer token (Authorization: Bearer <token>)\n" +
          "  the server needs a token: pass --token TOKEN or set VIGIL_TOKEN\n",
      );
      const wrong = await run(runObjects, ["list", "--token", "0123456789abcdef-wrong"], secured.url);
      expect(wrong.code).toBe(4);
      expect(wrong.err).toContain("401 Unauthorized: the bearer token is not valid\n");
      const scope = await run(runObjects, ["list"], secured.url, {
        env: { VIGIL_URL: secured.url, VIGIL_TOKEN: "0123456789abcdef-ingest" },
      });
      expect(scope.code).toBe(4);
      expect(scope.err).toContain('403 Forbidden: the token "ingest" lacks the scope "read" this route needs\n');
      const ok = await run(runObjects, ["list", "--json", "--token", "0123456789abcdef-ops"], secured.url);
      expect(ok.code).toBe(0);
      expect(json(ok.out)).toEqual({ items: [] });
    } finally {
      await secured.close();
    }
  });
});

describe("through the real binary", () => {
  test("VIGIL_URL, facts from stdin, a table on stdout; a server that is down exits 3", async () => {
    const put = await vigil(["objects", "put", "bin-1", "--policy", "queue-worker", "--json"], { VIGIL_URL: url });
    expect(put.code).toBe(0);
    expect(json(put.out).id).toBe("bin-1");
    const posted = await vigil(["facts", "post", "bin-1", "-"], { VIGIL_URL: url }, '{"queue": {"depth": 1}}');
    expect(posted.code).toBe(0);
    expect(posted.out).toContain(" bin-1 at 2026-03-01T00:00:00.000Z  outcome wake (dormant -> waking)\n");
    const list = await vigil(["objects", "list", "--url", url, "--state", "active"]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^ID +STATE +POLICY +SINCE\n/);
    expect(list.out).toMatch(/\nbin-1 +active +queue-worker@1 +2026-03-01T00:00:00\.000Z\n/);

    const dead = await deadUrl();
    const down = await vigil(["objects", "list"], { VIGIL_URL: dead });
    expect(down.code).toBe(3);
    expect(down.out).toBe("");
    expect(down.err).toBe(
      `vigil objects: cannot reach ${dead} (connection refused); is the server running? (\`npm start\`)\n`,
    );
  });
});
