// `vigil simulate --generate` against docs/simulate.md's table of shapes, for every object of a
// few days: trickle's jobs 1 to 15 minutes apart and never overlapping, bursts at least 10
// minutes apart, across midnight too (each day started afresh, and broke both), and nightly's
// backlog of 50 to 200 (it stopped at 199).

import { describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";

interface Line {
  at: string;
  objectId: string;
  facts: { queue: { depth: number } };
}

async function generate(args: string[]): Promise<Line[][]> {
  const out: string[] = [];
  expect(await runSimulate(["--generate", ...args], (s) => out.push(s))).toBe(0);
  const byObject = new Map<string, Line[]>();
  for (const text of out.join("").split("\n").filter(Boolean)) {
    const l = JSON.parse(text) as Line;
    if (!byObject.has(l.objectId)) byObject.set(l.objectId, []);
    byObject.get(l.objectId)!.push(l);
  }
  return [...byObject.values()];
}

const MINUTE = 60_000;
/** Times are whole seconds: two moments a minute apart may print 59 s apart. */
const SECOND = 1000;

describe("trickle: a job every 1 to 15 minutes, queued (depth 1) then done (depth 0)", () => {
  test.each([1, 16])("every object, three days, seed %i", async (seed) => {
    const bad: string[] = [];
    for (const lines of await generate(["trickle", "--objects", "40", "--days", "3", "--seed", String(seed)])) {
      lines.forEach((l, i) => {
        // Depths alternate 1, 0, 1, 0...: a job is done before the next is queued.
        if (l.facts.queue.depth !== (i % 2 === 0 ? 1 : 0))
          bad.push(`${l.objectId} ${l.at} depth ${l.facts.queue.depth}`);
      });
      const queued = lines.filter((l) => l.facts.queue.depth === 1).map((l) => Date.parse(l.at));
      queued.slice(1).forEach((t, i) => {
        const gap = t - queued[i]!;
        if (gap < MINUTE - SECOND || gap > 15 * MINUTE + SECOND)
          bad.push(`${lines[0]!.objectId} ${new Date(queued[i]!).toISOString()} +${gap / MINUTE} min`);
      });
    }
    expect(bad).toEqual([]);
  });
});

describe("burst: bursts at least 10 minutes apart", () => {
  test("every object, five days", async () => {
    const bad: string[] = [];
    for (const lines of await generate(["burst", "--objects", "300", "--days", "5", "--seed", "1"])) {
      let lastEnd = -Infinity;
      let inBurst = false;
      for (const l of lines) {
        const t = Date.parse(l.at);
        if (!inBurst && l.facts.queue.depth > 0) {
          if (t - lastEnd < 10 * MINUTE - SECOND)
            bad.push(`${l.objectId} ${new Date(lastEnd).toISOString()} -> ${l.at}`);
          inBurst = true;
        }
        if (l.facts.queue.depth === 0) {
          lastEnd = t;
          inBurst = false;
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

describe("backlogs: burst's 5 to 40, nightly's 50 to 200", () => {
  const peaks = (objects: Line[][]) => objects.map((lines) => Math.max(...lines.map((l) => l.facts.queue.depth)));
  test.each([
    ["burst", 5, 40],
    ["nightly", 50, 200],
  ])("%s", async (shape, lo, hi) => {
    const all = peaks(await generate([shape, "--objects", "3000"]));
    expect({ min: Math.min(...all), max: Math.max(...all) }).toEqual({ min: lo, max: hi });
  });
});
