// `vigil simulate --generate` makes its lines as it writes them, a few objects' worth of memory
// and not every line at once (the bounds allow 2×10⁹ lines; 400 objects for 30 days ran out of
// memory), waits for a reader that is behind, and prints byte for byte what the generator that
// sorted every line in one array printed.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import { GENERATE_START, SHAPES } from "../../src/simulate/generate.ts";
import { generateTrafficEagerly } from "./generate-eager.ts";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

interface Shape {
  objects: number;
  days: number;
  seed: number;
  start: string;
}

/** What the generator that held every line printed. */
function eagerly(shape: (typeof SHAPES)[number], s: Shape): string {
  const lines = generateTrafficEagerly({ shape, ...s, start: Date.parse(s.start) });
  return lines.map((l) => `${JSON.stringify(l)}\n`).join("");
}

const args = (shape: string, s: Shape) =>
  `--generate ${shape} --objects ${s.objects} --days ${s.days} --seed ${s.seed} --start ${s.start}`.split(" ");

describe.each(SHAPES)("%s prints what the eager generator printed", (shape) => {
  test.each<Shape>([
    { objects: 3, days: 1, seed: 7, start: GENERATE_START },
    // Ten objects and more: `x-10` sorts before `x-2`, as strings.
    { objects: 12, days: 3, seed: 1, start: GENERATE_START },
    // Many objects at the same second, across a leap day, from an afternoon (its midnight).
    { objects: 40, days: 2, seed: 2 ** 31 - 1, start: "2024-02-28T15:30:00Z" },
  ])("$objects objects, $days days, seed $seed, from $start", async (s) => {
    const out: string[] = [];
    expect(await runSimulate(args(shape, s), (text) => out.push(text))).toBe(0);
    const expected = eagerly(shape, s);
    expect(out.join("")).toBe(expected);
    if (s.objects === 40) {
      // The case covers ties: lines of several objects at one time, ordered by object id.
      const times = expected
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { at: string }).at);
      expect(times.filter((t, i) => i > 0 && t === times[i - 1]).length).toBeGreaterThan(0);
    }
  });
});

test("a reader that is behind is waited for: no write before the one before has drained", async () => {
  let pending = false;
  let overlapping = 0;
  let writes = 0;
  const out = (): Promise<void> => {
    writes++;
    if (pending) overlapping++;
    pending = true;
    // Drained a moment later, as a stream's 'drain' comes.
    return Promise.resolve().then(() => {
      pending = false;
    });
  };
  expect(await runSimulate(["--generate", "trickle", "--objects", "10"], out)).toBe(0);
  expect(writes).toBeGreaterThan(5);
  expect(overlapping).toBe(0);
});

test("30 objects' trickle for 10 days (177,000 lines, 60 MB held at once) prints in a 32 MB heap", async () => {
  const s: Shape = { objects: 30, days: 10, seed: 1, start: GENERATE_START };
  const child = spawn(process.execPath, ["--max-old-space-size=32", BIN, "simulate", ...args("trickle", s)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const hash = createHash("sha256");
  child.stdout.on("data", (b: Buffer) => hash.update(b));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  expect({ code, stderr: stderr.slice(0, 500) }).toEqual({ code: 0, stderr: "" });
  expect(hash.digest("hex")).toBe(createHash("sha256").update(eagerly("trickle", s)).digest("hex"));
});
