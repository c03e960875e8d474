// What the client and local commands take from where: an empty VIGIL_RULES_DIR means `rules/`
// (as for `vigil serve`), a bad URL or database is named as the user gave it (a flag or a
// variable), and a 2xx reply of another shape (another service answering on the URL) is the
// server's error in words, exit 5, never a JavaScript error.

import { spawnSync } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { closeServer, listen, run, vigil } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ["bin/vigil.js", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, VIGIL_URL: "", VIGIL_TOKEN: "", VIGIL_RULES_DIR: "", ...env },
    timeout: 60_000,
  });

describe("an empty VIGIL_RULES_DIR is rules/", () => {
  test("vigil validate", () => {
    const r = cli(["validate"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("rules/queue-worker.json");
    expect(r.status).toBe(0);
  });

  test("vigil test", () => {
    const r = cli(["test", "fixtures/queue-worker"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("vigil simulate", () => {
    const r = cli(["simulate", "--policy", "on-demand", "--traffic", "fixtures/traffic/queue-burst.jsonl"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

test("a bad VIGIL_URL is named as VIGIL_URL, a bad --url as --url", async () => {
  const fromEnv = await run(runObjects, ["list"], "localhost:8080");
  expect(fromEnv.code).toBe(2);
  expect(fromEnv.err).toContain('VIGIL_URL "localhost:8080" must be an http:// or https:// URL');
  const fromFlag = await run(runObjects, ["list", "--url", "localhost:8080"], "http://127.0.0.1:1");
  expect(fromFlag.err).toContain('--url "localhost:8080" must be an http:// or https:// URL');
});

test("a bad --db is named as --db by replay and simulate, as by serve", () => {
  for (const args of [
    ["replay", "--object", "w", "--db", "file:", "rules/queue-worker.json"],
    ["simulate", "--policy", "on-demand", "--db", "file:", "--object", "w"],
    ["serve", "--port", "0", "--db", "file:"],
  ]) {
    const r = cli(args);
    expect(r.status, args[0]).toBe(2);
    expect(r.stderr, args[0]).toContain("--db: a file: URL needs a path");
    expect(r.stderr, args[0]).not.toContain("VIGIL_DB_URL");
  }
});

describe("a 2xx reply of another shape", () => {
  // Another JSON service answering on the URL: 200 `{}` to everything.
  const server = http.createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end("{}");
  });
  let url = "";
  beforeAll(async () => {
    url = await listen(server);
  });
  afterAll(() => closeServer(server));

  test.each([
    ["objects list", "a list of objects", runObjects, ["list"]],
    ["objects get", "an object", runObjects, ["get", "w1"]],
    ["decisions list", "a list of decisions", runDecisions, ["list", "w1"]],
    ["decisions get", "a decision", runDecisions, ["get", "dec_0mx43l8rf000098c525b1"]],
    ["explain", "a decision", runExplain, ["dec_0mx43l8rf000098c525b1"]],
    ["facts post", "a decision", runFacts, ["post", "w1", "{}"]],
  ] as const)("%s: exit 5, the server's reply is not %s", async (_name, what, entry, args) => {
    const r = await run(entry, [...args], url);
    expect(r.err).toContain(`the server's reply is not ${what}`);
    expect(r.code).toBe(5);
  });

  test("the real binary: exit 5 and no JavaScript error", async () => {
    const r = await vigil(["objects", "list"], { VIGIL_URL: url });
    expect(r.err).not.toMatch(/Cannot read properties/);
    expect(r.code).toBe(5);
  });
});
