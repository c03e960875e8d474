// The logger (src/log.ts): pino underneath, the line shape Vigil has always written (time as
// ISO text, level as a word, msg, fields flattened), filtering by level, and redaction of
// tokens, Authorization headers and `env` values wherever a field carries them.

import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { createLogger, errorText, REDACTED, type Level } from "../src/log.ts";

function capture(level: Level) {
  const lines: string[] = [];
  const log = createLogger(level, (l) => void lines.push(l));
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe("the line", () => {
  test("one JSON line per call: time (ISO), level (a word), msg, and the fields flattened", () => {
    const { log, lines, parsed } = capture("debug");
    log.info("policies loaded", { dir: "rules", policies: ["a@1"], nested: { n: 1 } });
    log.warn("no fields");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const [first, second] = parsed();
    expect(first).toEqual({
      time: expect.any(String),
      level: "info",
      msg: "policies loaded",
      dir: "rules",
      policies: ["a@1"],
      nested: { n: 1 },
    });
    expect(new Date(first!.time as string).toISOString()).toBe(first!.time);
    expect(second).toEqual({ time: expect.any(String), level: "warn", msg: "no fields" });
  });

  test.each([
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
    ["silent", []],
  ] as const)("at %s, lines of %j are written", (level, written) => {
    const { log, parsed } = capture(level);
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(parsed().map((l) => l.level)).toEqual(written);
    for (const l of ["debug", "info", "warn", "error"] as const)
      expect(log.isLevelEnabled?.(l)).toBe((written as readonly string[]).includes(l));
  });

  test("without a writer, lines go to stderr", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", 'import("./src/log.ts").then((m) => m.createLogger("info").info("hello", { n: 1 }))'],
      { encoding: "utf8" },
    );
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr)).toMatchObject({ level: "info", msg: "hello", n: 1 });
  });
});

describe("redaction", () => {
  test("tokens, Authorization headers and configured secrets are replaced, at any depth", () => {
    const { log, lines, parsed } = capture("info");
    log.error("request failed", {
      authorization: "Bearer top-secret-1",
      headers: { authorization: "Bearer top-secret-2", accept: "application/json" },
      req: { headers: { authorization: "Bearer top-secret-3" } },
      token: "top-secret-4",
      config: { VIGIL_TOKENS: "ops:top-secret-5:admin", FLY_API_TOKEN: "top-secret-6", VIGIL_PORT: 8080 },
      deep: { a: { b: [{ c: { apiToken: "top-secret-7", Password: "top-secret-8" } }] } },
      tokenName: "ops",
    });
    expect(lines.join("")).not.toMatch(/top-secret/);
    const [line] = parsed();
    expect(line).toMatchObject({
      authorization: REDACTED,
      headers: { authorization: REDACTED, accept: "application/json" },
      req: { headers: { authorization: REDACTED } },
      token: REDACTED,
      config: { VIGIL_TOKENS: REDACTED, FLY_API_TOKEN: REDACTED, VIGIL_PORT: 8080 },
      deep: { a: { b: [{ c: { apiToken: REDACTED, Password: REDACTED } }] } },
      // A token's name is not a secret: access lines carry it.
      tokenName: "ops",
    });
  });

  test("the values of an env object are replaced, its keys kept", () => {
    const { log, lines, parsed } = capture("info");
    log.warn("object", {
      object: { id: "p1", substrate: { config: { command: "worker", env: { API_KEY: "env-secret-1" } } } },
      env: { DB_PASSWORD: "env-secret-2" },
      config: { env: { PATH: "env-secret-3" } },
      spawn: { options: { env: ["A=env-secret-4"] } },
    });
    expect(lines.join("")).not.toMatch(/env-secret/);
    const [line] = parsed();
    expect(line).toMatchObject({
      object: { id: "p1", substrate: { config: { command: "worker", env: { API_KEY: REDACTED } } } },
      env: { DB_PASSWORD: REDACTED },
      config: { env: { PATH: REDACTED } },
      spawn: { options: { env: [REDACTED] } },
    });
  });

  test("the caller's fields are left as they were", () => {
    const { log } = capture("info");
    const fields = { authorization: "Bearer keep-me", env: { A: "keep-me" } };
    log.info("x", fields);
    expect(fields).toEqual({ authorization: "Bearer keep-me", env: { A: "keep-me" } });
  });
});

describe("errorText", () => {
  test("an error with its causes, without a failed query's parameters", () => {
    const cause = Object.assign(new Error("SERVER_ERROR: Server returned HTTP status 503"), {
      code: "SERVER_ERROR",
      name: "LibsqlError",
    });
    const query = new Error("Failed query: select 1 from idempotency where key = ?\nparams: w,secret-key", { cause });
    expect(errorText(query)).toBe(
      "Failed query: select 1 from idempotency where key = ?: LibsqlError: SERVER_ERROR: Server returned HTTP status 503",
    );
    expect(errorText(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      "TypeError: Cannot read properties of undefined (reading 'x')",
    );
    expect(errorText(new Error("plain"))).toBe("plain");
    expect(errorText("a string thrown")).toBe("a string thrown");
    // A message repeated by its cause is said once, whatever their kinds; an empty one not at all.
    expect(errorText(new Error("same", { cause: new Error("same") }))).toBe("same");
    const refused = new Error("fetch failed", {
      cause: new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") }),
    });
    expect(errorText(refused)).toBe("fetch failed: connect ECONNREFUSED 127.0.0.1:1");
    const empty = new Error("Failed query: select 1\nparams: ", {
      cause: new TypeError("fetch failed", { cause: new AggregateError([]) }),
    });
    expect(errorText(empty)).toBe("Failed query: select 1: TypeError: fetch failed");
  });
});
