// The page's pure parts, run in Node: the bands of a timeline from decisions and confirmations
// (segments.js, which the server's timeline.svg uses too) and the event-stream parser the page
// reads /v1/events with (sse.js).

import { describe, expect, test } from "vitest";
import { clip, confirmationIntervals, segmentsOf } from "../../src/http/ui/assets/segments.js";
import type { State, StateChange } from "../../src/http/ui/assets/segments.js";
import { parseEvents } from "../../src/http/ui/assets/sse.js";

const M = 60_000;
const d = (id: string, min: number, fromState: State, toState: State): StateChange => ({
  id,
  at: min * M,
  fromState,
  toState,
});
const bands = (segments: { state: string; from: number; to: number }[]) =>
  segments.map((s) => `${s.state} ${s.from / M}-${s.to / M}`);

/** An hour: created dormant, woke at 5, slept at 26, woke at 37; active since 37:20. */
const HOUR = [
  d("a", 0, "dormant", "dormant"),
  d("b", 5, "dormant", "waking"),
  d("c", 15, "active", "active"),
  d("e", 26, "active", "sleeping"),
  d("f", 37, "dormant", "waking"),
];
const NOW = { state: "active" as const, stateSince: 37 * M + 20_000 };

describe("segmentsOf", () => {
  test("without confirmations, a change shows at the decision that reveals it", () => {
    expect(bands(segmentsOf([...HOUR].reverse(), NOW, 45 * M))).toEqual([
      "dormant 0-5",
      "waking 5-15",
      "active 15-26",
      "sleeping 26-37",
      `waking 37-${37 + 1 / 3}`,
      `active ${37 + 1 / 3}-45`,
    ]);
  });

  test("a confirmation ends the waking or sleeping band where it came", () => {
    const confirmed = new Map([
      ["b", 5 * M + 20_000],
      ["e", 26 * M + 15_000],
    ]);
    expect(bands(segmentsOf(HOUR, NOW, 45 * M, confirmed))).toEqual([
      "dormant 0-5",
      `waking 5-${5 + 1 / 3}`,
      `active ${5 + 1 / 3}-26`,
      "sleeping 26-26.25",
      "dormant 26.25-37",
      `waking 37-${37 + 1 / 3}`,
      `active ${37 + 1 / 3}-45`,
    ]);
  });

  test("a confirmation later than the next decision is left to that decision", () => {
    const confirmed = new Map([["b", 20 * M]]);
    expect(bands(segmentsOf(HOUR.slice(0, 3), { state: "active", stateSince: 5 * M }, 30 * M, confirmed))).toEqual([
      "dormant 0-5",
      "waking 5-15",
      "active 15-30",
    ]);
  });

  test("the state now is drawn, even when it began this moment; with no decision, since stateSince", () => {
    expect(bands(segmentsOf(HOUR.slice(0, 2), { state: "active", stateSince: 9 * M }, 9 * M))).toEqual([
      "dormant 0-5",
      "waking 5-9",
      "active 9-9",
    ]);
    expect(bands(segmentsOf([], { state: "dormant", stateSince: 2 * M }, 10 * M))).toEqual(["dormant 2-10"]);
  });

  test("decisions that all came after the object entered its state: the state is drawn from then", () => {
    // A busy object's newest decisions (the page keeps 200, the picture reads 2,000), none of
    // which changed its state: it has been active since 10, not since the oldest of them.
    const busy = [d("x", 30, "active", "active"), d("y", 40, "active", "active")];
    expect(bands(segmentsOf(busy, { state: "active", stateSince: 10 * M }, 45 * M))).toEqual(["active 10-45"]);
    // Created earlier (every decision kept): from its creation, in the oldest one's fromState.
    expect(bands(segmentsOf(busy, { state: "active", stateSince: 10 * M, createdAt: 5 * M }, 45 * M))).toEqual([
      "active 5-45",
    ]);
  });
});

describe("confirmationIntervals", () => {
  test("names the decisions into waking or sleeping whose next decision starts where a confirmation leads", () => {
    expect(confirmationIntervals([...HOUR].reverse())).toEqual([
      { id: "b", state: "waking", from: 5 * M, to: 15 * M },
      { id: "e", state: "sleeping", from: 26 * M, to: 37 * M },
    ]);
    // Waking, then failed: no confirmation came. The last decision's is the object's stateSince.
    expect(confirmationIntervals([d("a", 0, "dormant", "waking"), d("b", 3, "failed", "failed")])).toEqual([]);
  });
});

test("clip keeps only the window", () => {
  const segments = segmentsOf(HOUR, NOW, 45 * M);
  expect(bands(clip(segments, 10 * M, 30 * M))).toEqual(["waking 10-15", "active 15-26", "sleeping 26-30"]);
});

async function* chunks(...parts: string[]) {
  yield* parts;
}
const all = async (parts: string[]) => {
  const out = [];
  for await (const e of parseEvents(chunks(...parts))) out.push(e);
  return out;
};

describe("parseEvents", () => {
  test("reads events, data lines, ids and comments, whatever the chunks", async () => {
    const stream =
      ': connected\n\nevent: decision\nid: dec_1\ndata: {"a":1}\n\n: heartbeat\n\nevent: action\ndata: x\ndata:y\n\n';
    const expected = [
      { type: "decision", data: '{"a":1}', id: "dec_1" },
      { type: "action", data: "x\ny", id: "dec_1" },
    ];
    expect(await all([stream])).toEqual(expected);
    // Every split of the text into two chunks gives the same events.
    for (let i = 1; i < stream.length; i++) expect(await all([stream.slice(0, i), stream.slice(i)])).toEqual(expected);
  });

  test("takes \\r\\n, \\r and \\n as line ends, a \\r\\n split between chunks as one", async () => {
    expect(await all(["data: a\r", "\ndata: b\r\n\r", "\ndata: c\r\rdata: d\n", "\n"])).toEqual([
      { type: "message", data: "a\nb", id: null },
      { type: "message", data: "c", id: null },
      { type: "message", data: "d", id: null },
    ]);
  });

  test("drops an event without data and an unfinished one at the end", async () => {
    expect(await all(["event: decision\n\nid: x\n\ndata: half"])).toEqual([]);
  });
});
