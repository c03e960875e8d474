// Configuration and the secure default: no tokens means loopback only, and a public address
// without tokens is refused.

import { spawnSync } from "node:child_process";
import dns from "node:dns";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { isLoopback, loadConfig, shownDbUrl } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { startServer } from "../src/main.ts";

describe("loopback", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0::1", true],
    ["0000:0000:0000:0000:0000:0000:0000:0001", true],
    ["::2", false],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["192.168.1.1", false],
    ["127.0.0.256", false],
    ["example.com", false],
  ])("%s is loopback: %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

/** All a refused configuration tells (its message and its fields), for a test that it shows no secret. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    return String(e instanceof Error ? `${e.message} ${JSON.stringify(e)}` : e);
  }
  throw new Error("the configuration was accepted");
}

describe("configuration", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      VIGIL_HOST: "127.0.0.1",
      VIGIL_PORT: 8080,
      VIGIL_DB_URL: "file:data/vigil.db",
      VIGIL_RULES_DIR: "rules",
      VIGIL_TOKENS: "",
      VIGIL_LOG_LEVEL: "info",
      VIGIL_BODY_LIMIT: 1048576,
      VIGIL_JOURNAL_RETENTION: "P30D",
      VIGIL_RECONCILE_INTERVAL: "PT30S",
      VIGIL_PROCESS_CGROUP: "off",
    });
  });

  test("a FLY_API_TOKEN with a line break is refused, and not shown", () => {
    const token = "FlyV1 fm2_SECRETPARTONE\nfm2_SECRETPARTTWO";
    const message = refusal({ FLY_API_TOKEN: token });
    expect(message).toMatch(/FLY_API_TOKEN: must be one line/);
    expect(message).not.toContain("SECRETPART");
    expect(loadConfig({ FLY_API_TOKEN: "FlyV1 fm2_abc,fm2_def" }).FLY_API_TOKEN).toBe("FlyV1 fm2_abc,fm2_def");
    // A secret read from a file ends in a line break: trimmed, as a header's value is.
    expect(loadConfig({ FLY_API_TOKEN: "FlyV1 fm2_abc,fm2_def\n" }).FLY_API_TOKEN).toBe("FlyV1 fm2_abc,fm2_def");
    // Nothing but a line break (an empty secret file) is no token, as an empty variable is.
    expect(loadConfig({ FLY_API_TOKEN: "\n" }).FLY_API_TOKEN).toBeUndefined();
  });

  test("a VIGIL_DB_AUTH_TOKEN with a line break is refused, and not shown", () => {
    const message = refusal({
      VIGIL_DB_URL: "libsql://db.example.com",
      VIGIL_DB_AUTH_TOKEN: "eyJSECRETPARTONE\neyJSECRETPARTTWO",
    });
    expect(message).toMatch(/VIGIL_DB_AUTH_TOKEN: must be one line/);
    expect(message).not.toContain("SECRETPART");
    expect(loadConfig({ VIGIL_DB_AUTH_TOKEN: "eyJabc.def-ghi" }).VIGIL_DB_AUTH_TOKEN).toBe("eyJabc.def-ghi");
    // Read from a file, it ends in a line break: trimmed, as a header's value is.
    expect(loadConfig({ VIGIL_DB_AUTH_TOKEN: "eyJabc.def-ghi\n" }).VIGIL_DB_AUTH_TOKEN).toBe("eyJabc.def-ghi");
    expect(loadConfig({ VIGIL_DB_AUTH_TOKEN: "\n" }).VIGIL_DB_AUTH_TOKEN).toBeUndefined();
  });

  test("an authToken in VIGIL_DB_URL with a line break inside is refused, and not shown", () => {
    const message = refusal({ VIGIL_DB_URL: "libsql://db.example.com?authToken=eyJSECRETPARTONE%0AeyJSECRETPARTTWO" });
    expect(message).toMatch(/VIGIL_DB_URL: the authToken in its query must be one line/);
    expect(message).not.toContain("SECRETPART");
    for (const url of [
      "libsql://db.example.com?authToken=eyJabc.def",
      "libsql://db.example.com?tls=1&authToken=eyJabc%0A",
    ])
      expect(loadConfig({ VIGIL_DB_URL: url }).VIGIL_DB_URL).toBe(url);
  });

  test("flags override the environment", () => {
    expect(loadConfig({ VIGIL_PORT: "9000" }, { VIGIL_PORT: "9001" }).VIGIL_PORT).toBe(9001);
  });

  test.each([
    [{ VIGIL_PORT: "eighty" }, "VIGIL_PORT"],
    [{ VIGIL_PORT: "70000" }, "VIGIL_PORT"],
    [{ VIGIL_LOG_LEVEL: "loud" }, "VIGIL_LOG_LEVEL"],
    [{ VIGIL_JOURNAL_RETENTION: "30 days" }, "VIGIL_JOURNAL_RETENTION"],
    [{ VIGIL_DECISION_RETENTION: "P0D" }, "VIGIL_DECISION_RETENTION"],
    [{ VIGIL_JOURNAL_RETENTION: "PT30S" }, "VIGIL_JOURNAL_RETENTION"],
    [{ VIGIL_IDEMPOTENCY_TTL: "forever" }, "VIGIL_IDEMPOTENCY_TTL"],
    [{ VIGIL_DECISIONS_PER_OBJECT: "-1" }, "VIGIL_DECISIONS_PER_OBJECT"],
    [{ VIGIL_HOT_OBJECTS: "lots" }, "VIGIL_HOT_OBJECTS"],
    // Blank is not empty (empty means the default): Number(" ") would be 0, the hot set off.
    [{ VIGIL_HOT_OBJECTS: " " }, "VIGIL_HOT_OBJECTS"],
    [{ VIGIL_HOT_OBJECTS: "\t" }, "VIGIL_HOT_OBJECTS"],
    [{ VIGIL_PORT: " " }, "VIGIL_PORT"],
    [{ VIGIL_PORT: "0x50" }, "VIGIL_PORT"],
    [{ VIGIL_BODY_LIMIT: "1e6" }, "VIGIL_BODY_LIMIT"],
    [{ VIGIL_DECISIONS_PER_OBJECT: "+5" }, "VIGIL_DECISIONS_PER_OBJECT"],
    [{ VIGIL_RECONCILE_INTERVAL: "PT0.1S" }, "VIGIL_RECONCILE_INTERVAL"],
    [{ VIGIL_PROCESS_CGROUP: "relative/dir" }, "VIGIL_PROCESS_CGROUP"],
    // Node's setTimeout fires at once past about 24.8 days: the drain was cut after 1 ms.
    [{ VIGIL_DRAIN_TIMEOUT: "P30D" }, "VIGIL_DRAIN_TIMEOUT"],
    [{ VIGIL_DRAIN_TIMEOUT: "PT0S" }, "VIGIL_DRAIN_TIMEOUT"],
    // An empty file name is a private temporary database: everything acknowledged would be lost.
    [{ VIGIL_DB_URL: "file:" }, "VIGIL_DB_URL"],
    [{ VIGIL_DB_URL: "file:?mode=rwc" }, "VIGIL_DB_URL"],
  ])("%j is refused, naming %s", (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}:`));
  });
});

describe("a count past its bound", () => {
  test.each([
    ["VIGIL_PORT", "99999999999999999999", "must be at most 65535"],
    ["VIGIL_BODY_LIMIT", "9007199254740993", "must be at most 67108864"],
    ["VIGIL_HOT_OBJECTS", "9".repeat(400), "must be at most 100000000"],
  ])("%s: a value past its bound is told that bound, in one line", (name, value, message) => {
    // It was told a safe integer's bound too (9007199254740991), or "a number too large to represent".
    expect(() => loadConfig({ [name]: value })).toThrow(new Error(`invalid configuration:\n  ${name}: ${message}`));
  });
});

describe("shownDbUrl", () => {
  test.each([
    ["file:data/vigil.db", "file:data/vigil.db"],
    ["file:x.db?authToken=SECRET", "file:x.db?authToken=[redacted]"],
    ["libsql://db.example.io?authToken=SECRET&tls=1", "libsql://db.example.io?authToken=[redacted]&tls=1"],
    ["http://user:SECRET@db.example.io:8080/x", "http://[redacted]@db.example.io:8080/x"],
    ["libsql://vigil:s3cr@tPassw0rd@db.example.io:8080/x", "libsql://[redacted]@db.example.io:8080/x"],
    // libsql percent-decodes a parameter's name: this one is its authToken.
    [
      "libsql://db.example.io?tls=1&%61%75%74%68%54%6f%6b%65%6e=SECRET",
      "libsql://db.example.io?tls=1&%61%75%74%68%54%6f%6b%65%6e=[redacted]",
    ],
    ["file:x.db?%70%61%73%73=SECRET", "file:x.db?%70%61%73%73=[redacted]"],
  ])("%s is shown as %s", (url, shown) => {
    expect(shownDbUrl(url)).toBe(shown);
  });

  test("the server's listening line carries no database credential", async () => {
    const lines: string[] = [];
    const log = createLogger("info", (l) => void lines.push(l));
    const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
    const config = loadConfig({
      VIGIL_DB_URL: `file:${dir}/x.db?authToken=db-token-not-for-logs`,
      VIGIL_PORT: "0",
      VIGIL_RECONCILE_INTERVAL: "off",
    });
    const server = await startServer(config, log);
    try {
      const listening = lines.find((l) => l.includes('"listening"'));
      expect(listening).toContain(`"db":"file:${dir}/x.db?authToken=[redacted]"`);
      expect(lines.join("")).not.toContain("db-token-not-for-logs");
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("binding", () => {
  const silent = createLogger("silent");

  test("a non-loopback address without tokens is refused before anything opens", async () => {
    const config = loadConfig({ VIGIL_HOST: "0.0.0.0", VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0" });
    await expect(startServer(config, silent)).rejects.toThrow(/refusing to bind 0\.0\.0\.0 without tokens/);
  });

  test("a loopback name that resolves to another address without tokens is refused, not bound", async () => {
    // A resolver that answers 0.0.0.0 for localhost (an /etc/hosts without it, a search domain's
    // DNS): the server would listen on every interface with no token. dns.lookup is what Node's
    // listen asks too.
    const lookup = dns.lookup;
    const spy = vi.spyOn(dns, "lookup").mockImplementation(((host: string, ...rest: unknown[]) => {
      const callback = rest.at(-1) as (e: Error | null, address: string, family: number) => void;
      if (host === "localhost") return void process.nextTick(() => callback(null, "0.0.0.0", 4));
      return (lookup as (...args: unknown[]) => void)(host, ...rest);
    }) as typeof dns.lookup);
    const config = loadConfig({ VIGIL_HOST: "localhost", VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0" });
    try {
      const started = startServer(config, silent);
      // Without the check the server starts, on 0.0.0.0: it is closed again, and the test fails.
      void started.then(
        (s) => s.close(),
        () => {},
      );
      await expect(started).rejects.toThrow(
        "refusing to bind localhost (it resolves to 0.0.0.0, not a loopback address) without tokens",
      );
    } finally {
      spy.mockRestore();
    }
  });

  test("VIGIL_HOST=localhost. (the name written whole) without tokens is bound and told as localhost", async () => {
    // It was refused as a public address ("anyone who can reach it could govern your objects").
    const config = loadConfig({ VIGIL_HOST: "localhost.", VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0" });
    expect(config.VIGIL_HOST).toBe("localhost");
    const server = await startServer(config, silent);
    try {
      expect(server.url).toMatch(/^http:\/\/localhost:\d+$/);
      const status = await new Promise<number | undefined>((resolve, reject) =>
        request(`${server.url}/healthz`, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
          .on("error", reject)
          .end(),
      );
      expect(status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test("a port taken, or an address no interface has, is said with what to do about it", async () => {
    // The quick start's 8080 is often another program's: the refusal said EADDRINUSE alone.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const config = loadConfig({ VIGIL_PORT: String(port), VIGIL_DB_URL: ":memory:" });
      await expect(startServer(config, silent)).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port}: EADDRINUSE (another program holds the port: stop it, or choose another port with VIGIL_PORT or --port)`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface has it; binding it needs tokens.
    const elsewhere = loadConfig({
      VIGIL_HOST: "192.0.2.1",
      VIGIL_PORT: "0",
      VIGIL_DB_URL: ":memory:",
      VIGIL_TOKENS: "ops:0123456789abcdef-ops:admin",
    });
    await expect(startServer(elsewhere, silent)).rejects.toThrow(
      "cannot listen on 192.0.2.1:0: EADDRNOTAVAIL (no interface of this machine has that address: choose another with VIGIL_HOST or --host)",
    );
  });

  test("a port taken on an IPv6 address is said with the address bracketed", async () => {
    // `cannot listen on ::1:PORT` reads as the address ::1:PORT with no port.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "::1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const config = loadConfig({ VIGIL_HOST: "::1", VIGIL_PORT: String(port), VIGIL_DB_URL: ":memory:" });
      await expect(startServer(config, silent)).rejects.toThrow(`cannot listen on [::1]:${port}: EADDRINUSE`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test("a VIGIL_PROCESS_CGROUP that cannot be used stops the server, naming it, as a bad value", async () => {
    const config = loadConfig({
      VIGIL_PROCESS_CGROUP: "/proc/vigil-not-a-cgroup",
      VIGIL_DB_URL: ":memory:",
      VIGIL_PORT: "0",
    });
    await expect(startServer(config, silent)).rejects.toThrow(
      /^invalid configuration:\n {2}VIGIL_PROCESS_CGROUP: cannot use the cgroup \/proc\/vigil-not-a-cgroup: .* is not in a cgroup v2 hierarchy/,
    );
  });

  test("the real command exits 1 and says why", () => {
    const r = spawnSync(process.execPath, ["bin/vigil.js", "serve", "--host", "0.0.0.0", "--port", "0"], {
      encoding: "utf8",
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: ":memory:" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("refusing to bind 0.0.0.0 without tokens");
  });

  test("without tokens the server binds loopback and says so", async () => {
    const lines: string[] = [];
    const log = createLogger("info", (l) => void lines.push(l));
    const config = loadConfig({ VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0", VIGIL_RECONCILE_INTERVAL: "off" });
    const server = await startServer(config, log);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join("")).toContain("no tokens configured: binding loopback only");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test.each(["[::1]", "::1"])("VIGIL_HOST=%s binds IPv6 loopback, without tokens", async (host) => {
    const config = loadConfig({
      VIGIL_DB_URL: ":memory:",
      VIGIL_PORT: "0",
      VIGIL_HOST: host,
      VIGIL_RECONCILE_INTERVAL: "off",
    });
    const server = await startServer(config, silent);
    try {
      expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  // ::1 written out: refused before as if public ("anyone who can reach it"), or bound and told
  // as written (`http://[0:0:0:0:0:0:0:1]:PORT`), a Host the server itself answers with a 400.
  test.each([
    ["0::1", ""],
    ["[0000:0000:0000:0000:0000:0000:0000:0001]", ""],
    ["0:0:0:0:0:0:0:1", ""],
    ["0:0:0:0:0:0:0:1", "ops:0123456789abcdef-ops:admin"],
    // With a zone, the interface it is on: refused before without tokens, and told with tokens
    // as `http://[::1%lo]:PORT`, which no client parses.
    ["::1%lo", ""],
    ["[::1%lo]", ""],
    ["::1%lo", "ops:0123456789abcdef-ops:admin"],
  ])("VIGIL_HOST=%s binds ::1 and tells it as [::1] (tokens: %j)", async (host, tokens) => {
    const config = loadConfig({
      VIGIL_DB_URL: ":memory:",
      VIGIL_PORT: "0",
      VIGIL_HOST: host,
      VIGIL_TOKENS: tokens,
      VIGIL_RECONCILE_INTERVAL: "off",
    });
    const server = await startServer(config, silent);
    try {
      expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      // The Host sent as the URL writes it, as a client that does not rewrite it sends it.
      const status = await getStatus(Number(server.url.split(":").pop()), server.url.slice("http://".length));
      expect(status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test.each(["::ffff:127.0.0.1", "[::ffff:127.0.0.1]", "::ffff:7f00:1"])(
    "VIGIL_HOST=%s (IPv4 loopback written as IPv6) binds 127.0.0.1, without tokens",
    async (host) => {
      const config = loadConfig({
        VIGIL_DB_URL: ":memory:",
        VIGIL_PORT: "0",
        VIGIL_HOST: host,
        VIGIL_RECONCILE_INTERVAL: "off",
      });
      // Without the change it is refused as if it were public ("anyone who can reach it").
      const server = await startServer(config, silent);
      try {
        // The URL, and the Host a client sends for it, are ones the loopback check passes.
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      } finally {
        await server.close();
      }
    },
  );

  test("VIGIL_HOST=::ffff:10.0.0.1 without tokens is refused, naming its IPv4 address", async () => {
    const config = loadConfig({ VIGIL_HOST: "::ffff:10.0.0.1", VIGIL_DB_URL: ":memory:", VIGIL_PORT: "0" });
    await expect(startServer(config, silent)).rejects.toThrow(
      "refusing to bind ::ffff:10.0.0.1 (the IPv4 address 10.0.0.1, not a loopback address) without tokens",
    );
  });

  test("with tokens, requests need one", async () => {
    const config = loadConfig({
      VIGIL_DB_URL: ":memory:",
      VIGIL_PORT: "0",
      VIGIL_HOST: "127.0.0.2",
      VIGIL_TOKENS: "ops:0123456789abcdef-ops:admin",
      VIGIL_RECONCILE_INTERVAL: "off",
    });
    const server = await startServer(config, silent);
    try {
      expect((await fetch(`${server.url}/v1/objects`)).status).toBe(401);
      const ok = await fetch(`${server.url}/v1/objects`, { headers: { authorization: "Bearer 0123456789abcdef-ops" } });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

/** The status of `GET /healthz` on [::1]:`port`, sent with the Host header `host` as it is. */
function getStatus(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    request({ host: "::1", port, path: "/healthz", headers: { host } }, (res) => {
      res.resume().once("end", () => resolve(res.statusCode));
    })
      .once("error", reject)
      .end();
  });
}
