// JSON arguments read from a file (`@FILE`) or standard input (`-`): decoded as UTF-8 once, over
// the whole input (a character split between two reads stays whole), without a byte order mark,
// and refused as a usage error when the bytes are not UTF-8 rather than stored with U+FFFD.

import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { CliError, processIo } from "../../src/cli/client.ts";
import { readAllText } from "../../src/contracts/text.ts";
import { jsonArgument } from "../../src/cli/output.ts";
import { EXIT } from "../../src/cli/usage.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-json-arg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A JSON document of `size` bytes or more, full of two-byte characters. */
const big = (size: number) => JSON.stringify({ note: "é".repeat(size / 2) });

describe("standard input", () => {
  test("a character whose bytes fall in two chunks is read whole", async () => {
    const bytes = Buffer.from(big(70_000));
    // 64 KiB is what a pipe hands over at a time; after the 9 bytes of `{"note":"` the cut
    // there falls between the two bytes of an "é".
    const cut = 65_536;
    expect(bytes[cut - 1]).toBe(0xc3);
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    expect(await readAllText(Readable.from(chunks))).toBe(bytes.toString("utf8"));
  });

  test("bytes that are not UTF-8 are refused, and a byte order mark is dropped", async () => {
    await expect(readAllText(Readable.from([Buffer.from([0x7b, 0xff, 0x7d])]))).rejects.toThrow("not valid UTF-8");
    expect(await readAllText(Readable.from([Buffer.from("\ufeff{}")]))).toBe("{}");
  });

  test("`-` reads it; a failure to read is a usage error naming stdin", async () => {
    const ok = processIo({ stdin: async () => '{"a": 1}' });
    expect(await jsonArgument("facts", "FACTS", "-", ok)).toEqual({ a: 1 });
    const bad = processIo({
      stdin: () => readAllText(Readable.from([Buffer.from([0xff])])),
    });
    const e = await jsonArgument("facts", "FACTS", "-", bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect(e).toMatchObject({ code: EXIT.usage, message: "FACTS: cannot read stdin (not valid UTF-8)" });
  });
});

test("a directory as stdin (`- < /tmp`) is said to be one, not read as empty JSON", async () => {
  // The real binary, its stdin a directory opened to read, as a shell's `< DIR` gives it.
  const fd = openSync(dir, "r");
  const child = spawnSync(process.execPath, ["bin/vigil.js", "facts", "post", "w-1", "-"], {
    stdio: [fd, "pipe", "pipe"],
    encoding: "utf8",
    env: { ...process.env, VIGIL_URL: "http://127.0.0.1:9", VIGIL_TOKEN: "" },
  });
  closeSync(fd);
  expect(child.status).toBe(2);
  expect(child.stdout).toBe("");
  expect(child.stderr).toMatch(/^vigil facts: the facts argument: cannot read stdin \(a directory, not a file\)\n/);
});

describe("@FILE", () => {
  test("read whole, with or without a byte order mark", async () => {
    const file = join(dir, "memory.json");
    const text = big(70_000);
    writeFileSync(file, `\ufeff${text}`);
    expect(await jsonArgument("objects", "--memory", `@${file}`, processIo())).toEqual(JSON.parse(text));
  });

  test("a file that is not UTF-8 is a usage error, not text with U+FFFD in it", async () => {
    const file = join(dir, "latin1.json");
    writeFileSync(file, Buffer.from('{"name": "caf\xe9"}', "latin1"));
    const e = await jsonArgument("objects", "--memory", `@${file}`, processIo()).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: EXIT.usage,
      message: `--memory: cannot read ${file} (the file is not valid UTF-8: save it as UTF-8)`,
    });
  });

  test("`@-` is a file named `-`, not standard input", async () => {
    const io = processIo({ stdin: async () => '{"from": "stdin"}' });
    const e = await jsonArgument("objects", "--memory", "@/no/such/-", io).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: EXIT.usage,
      message: "--memory: cannot read /no/such/- (no such file or directory)",
    });
  });

  test("a directory, or an @ naming nothing, is a usage error in words", async () => {
    const io = processIo();
    const folder = await jsonArgument("facts", "FACTS", `@${dir}`, io).catch((x: unknown) => x);
    expect(folder).toMatchObject({ code: EXIT.usage, message: `FACTS: cannot read ${dir} (a directory, not a file)` });
    const bare = await jsonArgument("facts", "FACTS", "@", io).catch((x: unknown) => x);
    expect(bare).toMatchObject({ code: EXIT.usage, message: "FACTS: @ names no file (write @FILE, or - for stdin)" });
  });
});

describe("numbers JSON cannot carry", () => {
  // JSON.parse reads 1e400 as Infinity, which a request body carries as null: in facts, a merge
  // patch, that would delete the key instead of the server refusing the number.
  test.each([
    ['{"queue": {"depth": 1e400}}', "$.queue.depth"],
    ['{"a": [1, -1e400]}', "$.a[1]"],
    ['{"odd key": 1E999}', '$["odd key"]'],
  ])("%s is a usage error naming %s", async (text, path) => {
    const e = await jsonArgument("facts", "the facts argument", text, processIo()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect(e).toMatchObject({
      code: EXIT.usage,
      message: `the facts argument: ${path}: the number is too large to send (JSON would carry it as null): send a smaller one, or a string`,
    });
  });

  test("a large finite number and null are sent as they are", async () => {
    expect(await jsonArgument("objects", "--memory", '{"a": 1e300, "b": null}', processIo())).toEqual({
      a: 1e300,
      b: null,
    });
  });
});
