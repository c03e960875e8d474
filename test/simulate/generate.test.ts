// Synthetic traffic: deterministic for a seed, shaped as each shape promises, facts the example
// policies read; and the shipped fixture is what its documented command generates.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import {
  GENERATE_START,
  generateTraffic,
  MAX_OBJECTS,
  objectSeed,
  SHAPES,
  type GenerateOptions,
} from "../../src/simulate/generate.ts";
import { parseTraffic, type TrafficLine } from "../../src/simulate/traffic.ts";

const START = Date.parse(GENERATE_START);
const S = 1000;
const MIN = 60 * S;
const DAY = 24 * 60 * MIN;
const options = (o: Partial<GenerateOptions>): GenerateOptions => ({
  shape: "burst",
  objects: 4,
  days: 3,
  seed: 1,
  start: START,
  ...o,
});

const byObject = (lines: TrafficLine[]) => {
  const out = new Map<string, { at: number; facts: Record<string, any> }[]>();
  for (const l of lines) {
    if (!out.has(l.objectId)) out.set(l.objectId, []);
    out.get(l.objectId)!.push({ at: Date.parse(l.at), facts: l.facts });
  }
  return out;
};
const jsonl = (lines: TrafficLine[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join("");

describe("seeds", () => {
  // Each object's stream was seeded `seed * 7919 + i`: from the 7,920th object on, a seed's
  // objects had the streams of the next seed's first ones.
  test("the 7,920th object of seed 1 is not the first of seed 2", () => {
    const facts = (seed: number, objects: number, id: string) =>
      generateTraffic(options({ shape: "nightly", objects, days: 1, seed }))
        .filter((l) => l.objectId === id)
        .map((l) => [l.at, l.facts]);
    const first = facts(2, 1, "nightly-1");
    expect(first.length).toBeGreaterThan(10);
    expect(facts(1, 7920, "nightly-7920")).not.toEqual(first);
  });

  test("no two objects of the first 50 seeds share a stream, and the first 7,919 keep theirs", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 50; seed++) for (let i = 0; i < MAX_OBJECTS; i++) seen.add(objectSeed(seed, i) >>> 0);
    expect(seen.size).toBe(50 * MAX_OBJECTS);
    // The largest seed below which none is shared either.
    const last = 271_180;
    expect(objectSeed(last, 7918)).toBeLessThan(2 ** 31);
    expect(objectSeed(last, MAX_OBJECTS - 1)).toBeLessThan(2 ** 32);
    expect(objectSeed(7, 2)).toBe(7 * 7919 + 2);
  });
});

describe.each(SHAPES)("generate %s", (shape) => {
  const lines = generateTraffic(options({ shape }));

  test("the same seed gives the same traffic, another seed other traffic", () => {
    expect(generateTraffic(options({ shape }))).toEqual(lines);
    expect(generateTraffic(options({ shape, seed: 2 }))).not.toEqual(lines);
  });

  test("more objects leave the first objects' traffic as it was", () => {
    const more = byObject(generateTraffic(options({ shape, objects: 6 })));
    for (const [id, facts] of byObject(lines)) expect(more.get(id)).toEqual(facts);
  });

  test("is valid traffic, in time order, within its days, for every object", () => {
    const w = parseTraffic(jsonl(lines), "gen.jsonl");
    expect(w.facts.map((f) => f.at)).toEqual(lines.map((l) => Date.parse(l.at)));
    expect(w.objects.map((o) => o.id).sort()).toEqual([`${shape}-1`, `${shape}-2`, `${shape}-3`, `${shape}-4`]);
    for (const f of w.facts) {
      expect(f.at).toBeGreaterThanOrEqual(START);
      expect(f.at).toBeLessThan(START + 3 * DAY + DAY / 2);
    }
  });

  test("every fact says the queue's depth (as queue.depth and work.pending) and the jobs in flight", () => {
    for (const l of lines) {
      const f = l.facts as Record<string, any>;
      expect(Number.isInteger(f.queue.depth)).toBe(true);
      expect(f.work.pending).toBe(f.queue.depth);
      expect([0, 1]).toContain(f.jobs.inflight);
    }
  });
});

describe("the shapes", () => {
  test("burst: one to three bursts a day, a fact every 5-20 s, ending with an empty queue, 10 min apart", () => {
    for (const facts of byObject(generateTraffic(options({ shape: "burst", days: 5 }))).values()) {
      const bursts: (typeof facts)[] = [];
      for (const f of facts) {
        const last = bursts[bursts.length - 1];
        if (last && f.at - last[last.length - 1]!.at < 10 * MIN) last.push(f);
        else bursts.push([f]);
      }
      expect(bursts.length).toBeGreaterThanOrEqual(5);
      expect(bursts.length).toBeLessThanOrEqual(15);
      for (const b of bursts) {
        const length = b[b.length - 1]!.at - b[0]!.at;
        expect(length).toBeGreaterThanOrEqual(2 * MIN - S);
        expect(length).toBeLessThanOrEqual(6 * MIN + S);
        for (let i = 1; i < b.length - 1; i++) expect(b[i]!.at - b[i - 1]!.at).toBeLessThanOrEqual(21 * S);
        expect(b[0]!.facts.queue.depth).toBeGreaterThanOrEqual(5);
        expect(b[b.length - 1]!.facts).toEqual({ queue: { depth: 0 }, work: { pending: 0 }, jobs: { inflight: 0 } });
      }
    }
  });

  test("nightly: a report requested at 02:00-02:05 UTC each day, sent 10-30 minutes later", () => {
    for (const facts of byObject(generateTraffic(options({ shape: "nightly" }))).values()) {
      for (let day = 0; day < 3; day++) {
        const batch = facts.filter((f) => f.at >= START + day * DAY && f.at < START + (day + 1) * DAY);
        const first = batch[0]!;
        const last = batch[batch.length - 1]!;
        expect(first.at - (START + day * DAY)).toBeGreaterThanOrEqual(2 * 60 * MIN);
        expect(first.at - (START + day * DAY)).toBeLessThanOrEqual(2 * 60 * MIN + 5 * MIN);
        expect(first.facts.report).toEqual({ requested: true, status: "running" });
        expect(last.facts.report).toEqual({ requested: false, status: "sent" });
        expect(last.facts.queue.depth).toBe(0);
        expect(last.at - first.at).toBeGreaterThanOrEqual(10 * MIN - S);
        expect(last.at - first.at).toBeLessThanOrEqual(30 * MIN + S);
      }
    }
  });

  test("trickle: a job every 1-15 minutes, done 5-40 s after it is queued", () => {
    for (const facts of byObject(generateTraffic(options({ shape: "trickle", days: 1 }))).values()) {
      expect(facts.length % 2).toBe(0);
      expect(facts.length / 2).toBeGreaterThan((24 * 60) / 15);
      for (let i = 0; i < facts.length; i += 2) {
        expect(facts[i]!.facts.queue.depth).toBe(1);
        expect(facts[i + 1]!.facts.queue.depth).toBe(0);
        const done = facts[i + 1]!.at - facts[i]!.at;
        expect(done).toBeGreaterThanOrEqual(5 * S - S);
        expect(done).toBeLessThanOrEqual(40 * S + S);
        if (i > 0) {
          expect(facts[i]!.at - facts[i - 2]!.at).toBeGreaterThanOrEqual(MIN - S);
          expect(facts[i]!.at - facts[i - 2]!.at).toBeLessThanOrEqual(15 * MIN + S);
        }
      }
    }
  });
});

describe("vigil simulate --generate", () => {
  test("fixtures/traffic/queue-burst.jsonl is what `--generate burst --objects 3 --days 1 --seed 7` prints", async () => {
    const out: string[] = [];
    const code = await runSimulate(["--generate", "burst", "--objects", "3", "--days", "1", "--seed", "7"], (s) =>
      out.push(s),
    );
    expect(code).toBe(0);
    const shipped = readFileSync(new URL("../../fixtures/traffic/queue-burst.jsonl", import.meta.url), "utf8");
    expect(out.join("")).toBe(shipped);
    expect(shipped.trim().split("\n").length).toBeLessThan(200);
  });

  test.each(SHAPES)("%s on the last day it may take prints traffic a simulation reads", async (shape) => {
    const out: string[] = [];
    const code = await runSimulate(["--generate", shape, "--objects", "20", "--start", "9999-12-30"], (s) =>
      out.push(s),
    );
    expect(code).toBe(0);
    expect(parseTraffic(out.join(""), "late.jsonl").facts.length).toBeGreaterThan(20);
  });

  test.each([
    [["--generate", "spiky"], /--generate takes one of burst, nightly, trickle, not "spiky"/],
    // Its last day's lines were in the year 10000, which a simulation of them refuses (a trickle's
    // last job of 9999-12-30 may be done after midnight too).
    [
      ["--generate", "trickle", "--start", "9999-12-31"],
      /--start and --days run the traffic past 9999-12-31 \(its last day may be 9999-12-30 at the latest\)/,
    ],
    [["--generate", "burst", "--start", "9999-12-29", "--days", "3"], /run the traffic past 9999-12-31/],
    [["--generate", "burst", "--objects", "0"], /--objects takes a whole number from 1 to 10000/],
    [["--generate", "burst", "--days", "1.5"], /--days takes a whole number from 1 to 366/],
    [["--generate", "burst", "--start", "soon"], /--start takes an ISO 8601 date-time/],
    // The last day a Date holds: its lines' toISOString threw "Invalid time value".
    [
      ["--generate", "trickle", "--start", "+275760-09-13"],
      /--start must fall from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z in UTC, not "\+275760-09-13"/,
    ],
  ])("%j is exit 2", async (args, message) => {
    const err: string[] = [];
    expect(
      await runSimulate(
        args,
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join("")).toMatch(message);
  });
});
