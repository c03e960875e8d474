// `vigil serve` on one of the Fetch standard's bad ports (6000, 6665-6669, 10080...) starts and
// serves curl, but fetch, and so every `vigil` client command, and browsers (the dashboard)
// refuse to connect to it. It is not refused, but warned of in one log line at start-up.

import { expect, test } from "vitest";
import { FETCH_BAD_PORTS, warnOfBadPort } from "../../src/cli/serve.ts";
import { createLogger } from "../../src/log.ts";

test("each port of the list is one this Node's fetch refuses, before it resolves or connects", async () => {
  expect(FETCH_BAD_PORTS.size).toBeGreaterThan(70);
  for (const port of FETCH_BAD_PORTS) {
    // A host no resolver knows: a port fetch did not refuse would fail on the name instead.
    const e = await fetch(`http://vigil.invalid:${port}/`).catch((x: unknown) => x);
    expect((e as { cause?: { message?: unknown } }).cause?.message, String(port)).toBe("bad port");
  }
});

test("a bad port is warned of in one log line, naming the port and what to do; another is not", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  warnOfBadPort(log, 6666);
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]!) as { level: string; msg: string; port: number };
  expect(entry).toMatchObject({ level: "warn", port: 6666 });
  expect(entry.msg).toBe(
    "port 6666 is one of the Fetch standard's bad ports: browsers (the dashboard) and the vigil client " +
      "commands will not connect to it, curl and other clients will; use another port (--port or VIGIL_PORT)",
  );
  for (const port of [0, 8080, 6664, 6670, 10081]) warnOfBadPort(log, port);
  expect(lines).toHaveLength(1);
});
