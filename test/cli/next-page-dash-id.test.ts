// docs/cli.md: a full page of `vigil decisions list` ends with the command for the next one,
// "quoted for a POSIX shell to run as printed". An object id may start with "-" (`-w` is a valid
// id), and the command printed it first, `older: vigil decisions list -w --limit 1 --before ...`,
// which the command reads back as an unknown option `-w`: exit 2, the next page never listed.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { serveVigil, vigil, type Run, type Served } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

let served: Served;
beforeAll(async () => {
  served = await serveVigil();
});
afterAll(async () => served.close());

/** A command line as printed, run by sh with `vigil` standing for the real binary. */
function shell(line: string, env: Record<string, string>): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn("sh", ["-c", `vigil() { "$NODE" "$BIN" "$@"; }\n${line}`], {
      env: { ...process.env, VIGIL_TOKEN: "", ...env, NODE: process.execPath, BIN },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

test("the 'older:' command of an object whose id starts with '-' runs as printed and lists the next page", async () => {
  const env = { VIGIL_URL: served.url };
  // Options first, then the id after "--", as for any argument that starts with "-".
  expect((await vigil(["objects", "put", "--policy", "queue-worker", "--", "-w"], env)).code).toBe(0);
  for (const n of [1, 2])
    expect((await vigil(["facts", "post", "--", "-w", JSON.stringify({ queue: { depth: n } })], env)).code).toBe(0);

  const first = await vigil(["decisions", "list", "--limit", "1", "--", "-w"], env);
  expect(first.code).toBe(0);
  const shown = first.out.split("\n").filter((l) => l.startsWith("dec_"));
  expect(shown).toHaveLength(1);
  const older = /^older: (vigil decisions list .*)$/m.exec(first.out)?.[1];
  expect(older).toBeDefined();

  const next = await shell(older!, env);
  expect(next.err).toBe("");
  expect(next.code).toBe(0);
  const rows = next.out.split("\n").filter((l) => l.startsWith("dec_"));
  // The next page of one: an older decision than the one shown.
  expect(rows).toHaveLength(1);
  expect(rows[0]!.split(" ")[0]).not.toBe(shown[0]!.split(" ")[0]);
});

test("an id that does not start with '-' is printed where it was, before the flags", async () => {
  const env = { VIGIL_URL: served.url };
  expect((await vigil(["objects", "put", "w-1", "--policy", "queue-worker"], env)).code).toBe(0);
  expect((await vigil(["facts", "post", "w-1", '{"queue": {"depth": 1}}'], env)).code).toBe(0);
  const first = await vigil(["decisions", "list", "w-1", "--limit", "1"], env);
  expect(first.out).toMatch(/^older: vigil decisions list w-1 --limit 1 --before dec_\S+$/m);
});
