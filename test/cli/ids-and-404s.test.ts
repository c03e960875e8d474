// What a client command asks for is what it names: the ids "." and ".." (which a URL resolves as
// path steps, sending the request to another route) are refused as usage; a 404 is exit 1 only
// when the server says the object or decision does not exist, not when another service, or a
// base URL with a path in it, has no such route. Also the smaller points of the same review.

import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { commandUsage } from "../../src/cli/usage.ts";
import { closeServer, listen, recordingServer, run, serveVigil, vigil, type Served } from "./harness.ts";

describe('the ids "." and ".."', () => {
  const { seen, url } = recordingServer();

  test.each([
    ["objects", ["get", ".."], runObjects],
    ["objects", ["put", "..", "--policy", "queue-worker"], runObjects],
    ["objects", ["delete", "."], runObjects],
    ["facts", ["post", "..", '{"queue":{"depth":1}}'], runFacts],
    ["decisions", ["list", "."], runDecisions],
    ["decisions", ["get", ".."], runDecisions],
    ["explain", [".."], runExplain],
    ["objects", ["get", ""], runObjects],
    ["facts", ["post", "", "{}"], runFacts],
    ["decisions", ["get", ""], runDecisions],
    ["explain", [""], runExplain],
  ] as const)("vigil %s %j is usage, exit 2, and sends nothing", async (_name, args, entry) => {
    seen.length = 0;
    const r = await run(entry, [...args], url());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      (args as readonly string[]).includes("")
        ? /the id is empty/
        : /"\.\.?" is a path step in a URL, so no request can name it as an id/,
    );
    expect(seen).toEqual([]);
  });
});

describe("a 404", () => {
  let served: Served;
  const other = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  let otherUrl = "";
  beforeAll(async () => {
    served = await serveVigil();
    otherUrl = await listen(other);
  });
  afterAll(async () => {
    await served.close();
    await closeServer(other);
  });

  test("for an object that does not exist is exit 1, as the get-or-put idiom needs", async () => {
    const r = await run(runObjects, ["get", "nobody"], served.url);
    expect(r.code).toBe(1);
    expect(r.err).toContain('object "nobody" not found');
    expect(r.err).not.toContain("no such route");
  });

  test("from another service is exit 5, and says to check the base URL", async () => {
    const r = await run(runObjects, ["get", "nobody"], otherUrl);
    expect(r.code).toBe(5);
    expect(r.err).toContain(`no such route at ${otherUrl}: is it the Vigil server's base URL (--url or VIGIL_URL)?`);
  });

  test("for a route Vigil does not serve (a base URL with a path) is exit 5", async () => {
    const r = await run(runObjects, ["get", "nobody"], `${served.url}/base`);
    expect(r.code).toBe(5);
    expect(r.err).toContain("no route for GET /base/v1/objects/nobody");
  });
});

test("a --url with a password is never printed, even when it does not parse as a URL", async () => {
  for (const [given, shown] of [
    ["http:/admin:secret@127.0.0.1:99999", "http:/...@127.0.0.1:99999"],
    ["http:\\\\admin:secret@127.0.0.1:99999", "http:\\\\...@127.0.0.1:99999"],
    ["http://admin:secret\n@127.0.0.1:99999", "http://...@127.0.0.1:99999"],
    ["http://admin:se\u2028cret@127.0.0.1:99999", "http://...@127.0.0.1:99999"],
    // These parse (host "admin", a port, then a query or a fragment): refused for that.
    ["http://admin:2024#secret@127.0.0.1:99999", "http://...@127.0.0.1:99999"],
    ["http://admin:?secret@127.0.0.1:99999", "http://...@127.0.0.1:99999"],
  ]) {
    const r = await run(runObjects, ["list", "--url", given!], "http://127.0.0.1:1");
    expect(r.code, given).toBe(2);
    expect(r.err, given).toContain(`--url "${shown}" `);
    expect(r.err, given).not.toMatch(/secret|se\u2028cret/);
  }
});

test("a --timeout too small for a millisecond still waits one, and says so", async () => {
  const never = http.createServer(() => {});
  const url = await listen(never);
  let fire: (() => void) | undefined;
  let waited = -1;
  const r = await run(runObjects, ["list", "--timeout", "0.0001"], url, {
    setTimer: (ms, f) => {
      waited = ms;
      fire = f;
      queueMicrotask(() => fire!());
      return () => {};
    },
  });
  never.closeAllConnections();
  await closeServer(never);
  expect(waited).toBe(1);
  expect(r.code).toBe(3);
  expect(r.err).toContain("timed out after 0.001 s");
});

test("`vigil` with no command is a usage error: the usage on stderr, nothing on stdout, exit 2", async () => {
  const r = await vigil([]);
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).toContain("usage: vigil <command>");
});

test("--rules given empty is usage, in words, for validate and test", async () => {
  for (const command of ["validate", "test"]) {
    const r = await vigil([command, "--rules", ""]);
    expect(r.code, command).toBe(2);
    expect(r.err, command).toContain(`vigil ${command}: --rules: must not be empty`);
  }
});

test("`vigil validate --help` says what exit 2 is: a FILE that is missing, not one that cannot be read", () => {
  expect(commandUsage("validate")).toContain(
    "a FILE that does not exist or is a directory, or a DIR that cannot be read",
  );
});
