// The SVG pictures: well-formed, accessible, every text escaped, bands where the times say.

import { describe, expect, test } from "vitest";
import {
  binWaits,
  escapeXml,
  renderTimelines,
  renderWaitHistogram,
  spanText,
  stackSvgs,
  STATE_COLOURS,
  timeTicks,
  WAIT_BINS,
} from "../../src/report/svg.ts";

const T = Date.parse("2026-03-01T09:00:00Z");
const MIN = 60_000;

/**
 * Throws unless `xml` is well-formed as far as a picture needs: tags balance, attributes are
 * quoted, and no `<` or bare `&` is left in text or attributes.
 */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
  for (let m = token.exec(xml); m; m = token.exec(xml)) {
    if (m[0] === "<" || m[0] === "&")
      throw new Error(`stray ${m[0]} at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name!);
    else if (stack.pop() !== name) throw new Error(`</${name}> at ${m.index} closes nothing open`);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(", ")}`);
}

const rects = (svg: string) =>
  [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="(\d+)" width="([\d.]+)" height="16" fill="([^"]+)"><title>([^<]*)<\/title>/g,
    ),
  ].map((m) => ({ x: Number(m[1]), width: Number(m[3]), fill: m[4], title: m[5] }));

const DAY = 86_400_000;

/** The axis's tick labels, left to right, with where each is drawn at 6.3 pixels a character. */
function axisLabels(svg: string): { text: string; left: number; right: number }[] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="\d+" text-anchor="(\w+)"[^>]*fill="#374151">([^<]*)<\/text>/g)]
    .filter((m) => m[3] !== "UTC")
    .map((m) => {
      const x = Number(m[1]);
      const w = m[3]!.length * 6.3;
      const left = m[2] === "start" ? x : m[2] === "end" ? x - w : x - w / 2;
      return { text: m[3]!, left, right: left + w };
    });
}

describe("renderTimelines", () => {
  const rows = [
    {
      objectId: "w-1",
      segments: [
        { state: "dormant", from: T, to: T + 15 * MIN },
        { state: "waking", from: T + 15 * MIN, to: T + 15 * MIN + 2000 },
        { state: "active", from: T + 15 * MIN + 2000, to: T + 45 * MIN },
        { state: "dormant", from: T + 45 * MIN, to: T + 60 * MIN },
      ],
      marks: [{ at: T + 15 * MIN, label: "a fact waited 2 s" }],
    },
  ];
  const svg = renderTimelines(rows, { from: T, to: T + 60 * MIN, title: "queue-worker" });

  test("is a well-formed, accessible picture", () => {
    assertWellFormed(svg);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="\d+" viewBox="0 0 960 \d+" role="img" aria-label="queue-worker: state timelines of 1 object from 2026-03-01T09:00:00\.000Z to 2026-03-01T10:00:00\.000Z">/,
    );
    expect(svg).toContain("<title>queue-worker</title>");
  });

  test("draws a band per segment where its times fall, coloured by state", () => {
    const drawn = rects(svg);
    // 784 px for 60 minutes, from x = 160.
    expect(drawn.map((r) => [r.fill, r.x, r.width])).toEqual([
      [STATE_COLOURS.dormant, 160, 196],
      [STATE_COLOURS.waking, 356, 1], // 2 s is less than a pixel: drawn one pixel wide
      [STATE_COLOURS.active, 356.4, 391.6],
      [STATE_COLOURS.dormant, 748, 196],
    ]);
    expect(drawn[2]!.title).toBe("w-1: active 2026-03-01T09:15:02.000Z to 2026-03-01T09:45:00.000Z (29 min 58 s)");
  });

  test("marks, a time axis and a legend of the states drawn", () => {
    expect(svg).toContain(
      '<line x1="356" x2="356" y1="50" y2="55" stroke="#111827" stroke-width="1"><title>a fact waited 2 s</title></line>',
    );
    for (const label of ["09:00", "09:10", "09:30", "10:00"]) expect(svg).toContain(`>${label}</text>`);
    for (const state of ["dormant", "waking", "active"]) expect(svg).toContain(`>${state}</text>`);
    expect(svg).not.toContain(">sleeping</text>");
  });

  test("a tick at the window's start is labelled from there on, clear of the axis's UTC", () => {
    // The label ended where the first began, at x = 160: drawn over each other, "UTC09:00".
    expect(svg).toContain(
      '<text x="152" y="76" text-anchor="end" font-family="system-ui, sans-serif" font-size="11" fill="#374151">UTC</text>',
    );
    expect(svg).toContain(
      '<text x="160" y="76" text-anchor="start" font-family="system-ui, sans-serif" font-size="11" fill="#374151">09:00</text>',
    );
    // One further in is centred on its tick.
    expect(svg).toMatch(/<text x="290\.7" y="76" text-anchor="middle"[^>]*>09:10<\/text>/);
  });

  // The first label, anchored at its start to keep clear of "UTC", ran on past where the second,
  // centred on its tick, began: "08-23 12:00" written over "08-24 00:00".
  test("a tick label that would run into the one before is left out; its tick stays", () => {
    const from = Date.parse("2026-08-23T10:38:02.316Z");
    const picture = renderTimelines([], { from, to: from + 343_064_169, title: "t" });
    const labels = axisLabels(picture);
    expect(labels.map((l) => l.text)).toEqual([
      "08-24 00:00",
      "08-24 12:00",
      "08-25 00:00",
      "08-25 12:00",
      "08-26 00:00",
      "08-26 12:00",
      "08-27 00:00",
    ]);
    // Eight ticks: the first, at 08-23 12:00, is drawn without its label.
    expect(picture.match(/<line x1="[\d.]+" x2="[\d.]+" y1="60" y2="64" stroke="#6b7280"\/>/g)).toHaveLength(8);
    expect(picture).toContain('<line x1="171.2" x2="171.2" y1="60" y2="64" stroke="#6b7280"/>');
  });

  test("over windows of a second to a year, no two axis labels overlap (6.3 pixels a character)", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    for (let i = 0; i < 400; i++) {
      const from = start + ((i * 7_919_993_117) % (365 * DAY));
      const span = Math.round(1000 * Math.pow(1.05, i % 330));
      for (const width of [960, 1200]) {
        const labels = axisLabels(renderTimelines([], { from, to: from + span, title: "t", width }));
        for (let k = 1; k < labels.length; k++)
          expect(labels[k]!.left, `${new Date(from).toISOString()} + ${span} ms, ${width} px`).toBeGreaterThanOrEqual(
            labels[k - 1]!.right,
          );
      }
    }
  });

  test("takes ISO times as well as epoch milliseconds", () => {
    const iso = (t: number) => new Date(t).toISOString();
    const again = renderTimelines(
      rows.map((r) => ({
        ...r,
        segments: r.segments.map((s) => ({ ...s, from: iso(s.from), to: iso(s.to) })),
        marks: r.marks.map((m) => ({ ...m, at: iso(m.at) })),
      })),
      { from: iso(T), to: iso(T + 60 * MIN), title: "queue-worker" },
    );
    expect(again).toBe(svg);
  });

  test("escapes every text: title, object ids, states, mark labels", () => {
    const evil = `<script>alert("x")</script> & 'q'`;
    const out = renderTimelines(
      [{ objectId: evil, segments: [{ state: evil, from: T, to: T + MIN }], marks: [{ at: T, label: evil }] }],
      { from: T, to: T + MIN, title: evil },
    );
    assertWellFormed(out);
    expect(out).not.toContain("<script>");
    expect(out).toContain(escapeXml(evil));
    expect(escapeXml(evil)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;q&apos;");
  });

  test("no rows says so; segments outside the window are left out", () => {
    const none = renderTimelines([], { from: T, to: T + MIN, title: "empty" });
    assertWellFormed(none);
    expect(none).toContain(">no objects</text>");
    const outside = renderTimelines(
      [{ objectId: "o", segments: [{ state: "active", from: T - 2 * MIN, to: T - MIN }] }],
      {
        from: T,
        to: T + MIN,
        title: "t",
      },
    );
    expect(rects(outside)).toEqual([]);
  });

  test("an empty window (a simulation of one fact, --until at it) is labelled as it is, not 1 ms long", () => {
    const empty = renderTimelines([], { from: T, to: T, title: "t" });
    assertWellFormed(empty);
    expect(empty).toContain(
      'aria-label="t: state timelines of 0 objects from 2026-03-01T09:00:00.000Z to 2026-03-01T09:00:00.000Z"',
    );
    // At the last instant Vigil reads, 1 ms later would be in year 10000.
    const last = Date.parse("9999-12-31T23:59:59.999Z");
    expect(renderTimelines([], { from: last, to: last, title: "t" })).toContain(
      "from 9999-12-31T23:59:59.999Z to 9999-12-31T23:59:59.999Z",
    );
  });
});

describe("timeTicks", () => {
  test.each([
    [T, T + 60 * MIN, ["09:00", "09:10", "09:20", "09:30", "09:40", "09:50", "10:00"]],
    [
      T,
      T + 40_000,
      ["09:00:00", "09:00:05", "09:00:10", "09:00:15", "09:00:20", "09:00:25", "09:00:30", "09:00:35", "09:00:40"],
    ],
    [
      Date.parse("2026-03-01T00:00:00Z"),
      Date.parse("2026-03-08T00:00:00Z"),
      ["03-01", "03-02", "03-03", "03-04", "03-05", "03-06", "03-07", "03-08"],
    ],
  ])("from %d to %d", (from, to, labels) => {
    const ticks = timeTicks(from, to);
    expect(ticks.map((t) => t.label)).toEqual(labels);
    expect(ticks.length).toBeLessThanOrEqual(9);
  });

  test.each([
    ["2025-01-01T00:00:00Z", "2026-07-01T00:00:00Z"],
    ["2016-03-01T00:00:00Z", "2026-03-01T00:00:00Z"],
    ["0000-01-01T00:00:00Z", "2026-03-01T00:00:00Z"],
  ])("from %s to %s: a few ticks however long the span, labelled with their year", (from, to) => {
    const ticks = timeTicks(Date.parse(from), Date.parse(to));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.length).toBeLessThanOrEqual(9);
    for (const t of ticks) expect(t.label).toBe(new Date(t.at).toISOString().slice(0, 10));
  });
  // A year-long window (an object's page opened as a picture) had its ticks every 60 days from
  // 1970 ("2026-03-08 | 2026-05-07 | ..."), and longer ones every 365 days ("2027-12-18 |
  // 2028-12-17"): dates that drift, named as if round. They fall on the first of a month now.
  test.each([
    [
      "2026-03-01T00:45:00Z",
      "2026-09-17T00:45:00Z",
      ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01"],
    ],
    [
      "2026-03-01T00:45:00Z",
      "2027-04-25T00:49:00Z",
      ["2026-05-01", "2026-07-01", "2026-09-01", "2026-11-01", "2027-01-01", "2027-03-01"],
    ],
    [
      "2026-03-01T00:45:00Z",
      "2031-08-23T00:00:00Z",
      ["2027-01-01", "2028-01-01", "2029-01-01", "2030-01-01", "2031-01-01"],
    ],
  ])("from %s to %s: ticks on the first of a month, UTC", (from, to, labels) => {
    const ticks = timeTicks(Date.parse(from), Date.parse(to));
    expect(ticks.map((t) => t.label)).toEqual(labels);
    for (const t of ticks) expect(new Date(t.at).toISOString()).toBe(`${t.label}T00:00:00.000Z`);
  });
});

// Steps of 7 and 14 days were counted from 1970, a Thursday: every tick fell on a Thursday
// ("03-05 | 03-12"). And a span across a new year said no year ("12-05 | 01-04"): which was first?
describe("timeTicks: weeks on Mondays, the year where the span crosses one", () => {
  test.each([
    [
      "2026-03-01T00:00:00Z",
      "2026-04-20T00:00:00Z",
      ["03-02", "03-09", "03-16", "03-23", "03-30", "04-06", "04-13", "04-20"],
    ],
    [
      "2026-11-20T00:00:00Z",
      "2027-01-20T00:00:00Z",
      ["2026-11-23", "2026-12-07", "2026-12-21", "2027-01-04", "2027-01-18"],
    ],
    ["2026-01-01T00:00:00Z", "2026-03-31T00:00:00Z", ["01-05", "01-19", "02-02", "02-16", "03-02", "03-16", "03-30"]],
  ])("from %s to %s", (from, to, labels) => {
    const ticks = timeTicks(Date.parse(from), Date.parse(to));
    expect(ticks.map((t) => t.label)).toEqual(labels);
    for (const t of ticks) {
      expect(new Date(t.at).getUTCDay()).toBe(1);
      expect(new Date(t.at).toISOString()).toMatch(new RegExp(`${t.label}T00:00:00.000Z$`));
    }
  });

  test("days and hours across a new year name it; within one year they do not", () => {
    const days = timeTicks(Date.parse("2026-12-28T00:00:00Z"), Date.parse("2027-01-03T00:00:00Z"));
    expect(days.map((t) => t.label)).toEqual([
      "2026-12-28",
      "2026-12-29",
      "2026-12-30",
      "2026-12-31",
      "2027-01-01",
      "2027-01-02",
      "2027-01-03",
    ]);
    const hours = timeTicks(Date.parse("2026-12-31T00:00:00Z"), Date.parse("2027-01-02T00:00:00Z"));
    // The date at midnight, the time between (a date and a time each would run into each other).
    expect(hours.map((t) => t.label)).toEqual([
      "2026-12-31",
      "06:00",
      "12:00",
      "18:00",
      "2027-01-01",
      "06:00",
      "12:00",
      "18:00",
      "2027-01-02",
    ]);
    const within = timeTicks(Date.parse("2026-12-01T00:00:00Z"), Date.parse("2026-12-03T00:00:00Z"));
    expect(within[0]!.label).toBe("12-01 00:00");
  });

  // A window of a day or less was labelled with times alone: one across a new year read
  // "18:00 | 20:00 | 22:00 | 00:00 | ...", and no label said which year, or which day.
  test.each([
    ["2026-12-31T18:00:00Z", "2027-01-01T06:00:00Z", "18:00 | 20:00 | 22:00 | 2027-01-01 | 02:00 | 04:00 | 06:00"],
    [
      "2026-12-31T06:00:00Z",
      "2027-01-01T06:00:00Z",
      "06:00 | 09:00 | 12:00 | 15:00 | 18:00 | 21:00 | 2027-01-01 | 03:00 | 06:00",
    ],
    [
      "2026-12-31T23:59:30Z",
      "2027-01-01T00:00:20Z",
      "23:59:30 | 23:59:40 | 23:59:50 | 2027-01-01 | 00:00:10 | 00:00:20",
    ],
  ])("a window of a day or less across a new year names it at midnight: %s to %s", (from, to, labels) => {
    const ticks = timeTicks(Date.parse(from), Date.parse(to));
    expect(ticks.map((t) => t.label).join(" | ")).toBe(labels);
    expect(new Date(ticks.find((t) => t.label === "2027-01-01")!.at).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  test("a day or less within one year is labelled with times alone, as before", () => {
    const ticks = timeTicks(Date.parse("2026-12-30T18:00:00Z"), Date.parse("2026-12-31T06:00:00Z"));
    expect(ticks.map((t) => t.label).join(" | ")).toBe("18:00 | 20:00 | 22:00 | 00:00 | 02:00 | 04:00 | 06:00");
  });
});

describe("renderWaitHistogram", () => {
  test("bins are (lo, hi]: a wait of exactly 2 s is in 1-2 s", () => {
    const counts = binWaits([0, 100, 101, 2000, 2001, 7_200_000, 30_000_000]);
    const at = (label: string) => counts[WAIT_BINS.findIndex((b) => b.label === label)];
    expect([at("≤0.1s"), at("0.1–0.5s"), at("1–2s"), at("2–5s"), at("1–6h"), at(">6h")]).toEqual([2, 1, 1, 1, 1, 1]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(7);
  });

  test("one bar per series and bin it fills, as the share of that series' waits", () => {
    const svg = renderWaitHistogram(
      [
        { name: "on-demand", waits: [2000, 2000, 2000, 500] },
        { name: "autostop(PT5M)", waits: [2000] },
        { name: "idle", waits: [] },
      ],
      { title: "waits" },
    );
    assertWellFormed(svg);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="waits: histogram of waits, on-demand 4, autostop(PT5M) 1, idle 0"');
    const bars = [...svg.matchAll(/<title>([^<]*waits? \([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(bars).toEqual([
      "on-demand: 1 of 4 waits (25.0%) in 0.1–0.5s",
      "on-demand: 3 of 4 waits (75.0%) in 1–2s",
      "autostop(PT5M): 1 of 1 wait (100.0%) in 1–2s",
    ]);
    expect(svg).toContain(">idle (no waits)</text>");
    // One wait is one, not "1 waits".
    expect(svg).toContain(">autostop(PT5M) (1 wait)</text>");
    // Six bins at least, up to the last one filled.
    expect([...svg.matchAll(/text-anchor="middle"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1])).toEqual(
      WAIT_BINS.slice(0, 6).map((b) => b.label),
    );
  });

  test("a row whose facts all waited unserved says so in the legend, not that nothing waited", () => {
    const svg = renderWaitHistogram(
      [
        { name: "nightly-report", waits: [], unserved: 121 },
        { name: "on-demand", waits: [2000, 500], unserved: 3 },
        { name: "idle", waits: [], unserved: 0 },
      ],
      { title: "waits" },
    );
    assertWellFormed(svg);
    expect(svg).toContain(">nightly-report (no served waits, 121 unserved)</text>");
    expect(svg).toContain(">on-demand (2 served waits, 3 unserved)</text>");
    expect(svg).toContain(">idle (no waits)</text>");
    expect(renderWaitHistogram([{ name: "trickle", waits: [500], unserved: 1 }], { title: "waits" })).toContain(
      ">trickle (1 served wait, 1 unserved)</text>",
    );
    expect(svg).toContain(
      'aria-label="waits: histogram of waits, nightly-report 0 (121 unserved), on-demand 2 (3 unserved), idle 0"',
    );
    // The bars are the served waits' shares, as before.
    expect([...svg.matchAll(/<title>(on-demand: [^<]*)<\/title>/g)].map((m) => m[1])).toEqual([
      "on-demand: 1 of 2 waits (50.0%) in 0.1–0.5s",
      "on-demand: 1 of 2 waits (50.0%) in 1–2s",
    ]);
  });

  test("every row has a colour of its own, past the palette's six too, the same on its bar and in the legend", () => {
    // `vigil simulate --policy a --compare b,c,d,e,f,g --autostop-after PT5M`: eight rows. The
    // palette was taken round, and the seventh row's bar and legend were the first one's colour.
    const names = ["a", "b", "c", "d", "e", "f", "g", "autostop(PT5M)"];
    const svg = renderWaitHistogram(
      names.map((name) => ({ name, waits: [2000] })),
      { title: "waits" },
    );
    assertWellFormed(svg);
    const bars = [...svg.matchAll(/fill="(#[0-9a-f]{6})"><title>([^:<]+): 1 of 1 wait/g)].map((m) => [m[2], m[1]]);
    expect(bars.map(([name]) => name)).toEqual(names);
    expect(new Set(bars.map(([, colour]) => colour)).size).toBe(names.length);
    // The legend's swatch beside each name is its bar's colour.
    const swatches = [...svg.matchAll(/fill="(#[0-9a-f]{6})"\/>\n<text [^>]*>([^<]+) \(1 wait\)<\/text>/g)].map((m) => [
      m[2],
      m[1],
    ]);
    expect(swatches).toEqual(bars);
  });
});

describe("stackSvgs", () => {
  test("stacks pictures one under the other in one accessible SVG", () => {
    const a = renderTimelines([], { from: T, to: T + MIN, title: "a" });
    const b = renderWaitHistogram([], { title: "b" });
    const h = (s: string) => Number(/height="(\d+)"/.exec(s)![1]);
    const both = stackSvgs([a, b], "report");
    assertWellFormed(both);
    expect(both).toMatch(
      new RegExp(`^<svg [^>]*width="960" height="${h(a) + 12 + h(b)}"[^>]*role="img" aria-label="report">`),
    );
    expect(both).toContain(`<svg x="0" y="${h(a) + 12}" xmlns=`);
  });
});

describe("spans in words", () => {
  test.each([
    [2_000, "2 s"],
    [59_940, "59.9 s"],
    [252_000, "4 min 12 s"],
    [119_600, "2 min"],
    [3_599_600, "1 h"],
    [10_920_000, "3 h 2 min"],
    [2 * 86_400_000 + 3_600_000, "2 d 1 h"],
  ])("%d ms is %s (the seconds rounded before they are split)", (ms, text) => {
    expect(spanText(ms)).toBe(text);
  });
});

// A long window of many short states (a review's `--generate trickle --days 60`) drew every
// segment, a pixel wide at least with its tooltip: 888,182 rects and a report of 147 MB. The
// segments narrower than a pixel in one pixel column are one stack now, each state as tall as
// its share of the column's time (first they were one rect in the state that held longest, and
// a trickle 5% active looked as if it never woke).
describe("a row of more segments than pixels", () => {
  const DAY = 24 * 60 * MIN;
  /** Every rect of a band with its tooltip: its own, or its pixel column's group's. */
  const rects = (svg: string) =>
    [
      ...svg.matchAll(
        /<g><title>([^<]*)<\/title>((?:<rect [^>]*\/>)+)<\/g>|<rect ([^>]*)><title>([^<]*)<\/title><\/rect>/g,
      ),
    ].flatMap(([, groupTitle, stack, attrs, title]) =>
      (stack ? [...stack.matchAll(/<rect ([^>]*)\/>/g)].map((r) => r[1]!) : [attrs!]).map((rect) => {
        const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(rect)![1]!;
        return {
          x: Number(attr("x")),
          y: Number(attr("y")),
          h: Number(attr("height")),
          fill: attr("fill"),
          title: (groupTitle ?? title)!,
        };
      }),
    );

  test("draws each pixel column as a stack of its states, each as tall as its share of the time", () => {
    // 60 days: 57 s dormant, then 3 s active, each minute (86,400 segments).
    const segments = [];
    for (let t = T; t < T + 60 * DAY; t += MIN) {
      segments.push({ state: "dormant", from: t, to: t + 57_000 });
      segments.push({ state: "active", from: t + 57_000, to: t + MIN });
    }
    const svg = renderTimelines([{ objectId: "w", segments }], { from: T, to: T + 60 * DAY, title: "t" });
    assertWellFormed(svg);
    const drawn = rects(svg).filter((r) => r.y >= 34 && r.y < 50);
    const columns = 960 - 160 - 16 + 1;
    expect(drawn.length).toBeLessThanOrEqual(2 * columns);
    expect(drawn.length).toBeGreaterThan(2 * 700);
    const active = drawn.filter((r) => r.fill === STATE_COLOURS.active);
    const dormant = drawn.filter((r) => r.fill === STATE_COLOURS.dormant);
    expect(active.length).toBe(dormant.length);
    // Active stacks on top, 5% of the row's 16 px; dormant under it, 95%.
    expect(active.every((r) => r.y === 34 && Math.abs(r.h - 0.8) <= 0.1)).toBe(true);
    expect(dormant.every((r) => Math.abs(r.y - 34.8) <= 0.1 && Math.abs(r.h - 15.2) <= 0.1)).toBe(true);
    expect(drawn[0]!.title).toMatch(/^w: \d+ spans, 5% active, 95% dormant, 2026-03-01T09:00:00\.000Z to /);
    // A column's stack is one group, its tooltip said once; the columns tile the row.
    expect(new Set(active.map((r) => r.x)).size).toBe(active.length);
    expect(active.every((r) => Number.isInteger(r.x))).toBe(true);
    expect(svg.length).toBeLessThan(300_000);
  });

  test("a column of one state is one rect, and a share that rounds to none is named but not drawn", () => {
    // A day of whole minutes dormant (about 1.8 minutes a pixel), and 1 ms failed in one of them.
    const segments = [];
    for (let t = T; t < T + DAY; t += MIN) segments.push({ state: "dormant", from: t, to: t + MIN });
    segments.splice(1, 0, { state: "failed", from: T + MIN, to: T + MIN + 1 });
    segments[2] = { state: "dormant", from: T + MIN + 1, to: T + 2 * MIN };
    const drawn = rects(renderTimelines([{ objectId: "w", segments }], { from: T, to: T + DAY, title: "t" }));
    expect(drawn.every((r) => r.fill === STATE_COLOURS.dormant && r.h === 16)).toBe(true);
    const named = drawn.filter((r) => r.title.includes("failed"));
    expect(named.map((r) => r.title)).toEqual([expect.stringMatching(/^w: \d+ spans, 100% dormant, &lt;1% failed, /)]);
  });

  // A review: a column drawn from its whole pixel painted over the end of the wide stretch
  // before it (which ended within that pixel).
  test("a column begins where a wide stretch before it ends, within its pixel", () => {
    // 3 h 17 min dormant (about 8.7 px of a day), then a trickle.
    const segments = [{ state: "dormant", from: T, to: T + 197 * MIN }];
    for (let t = T + 197 * MIN; t < T + 24 * 60 * MIN; t += MIN)
      segments.push({ state: t % (2 * MIN) === 0 ? "active" : "dormant", from: t, to: t + MIN });
    const drawn = rects(renderTimelines([{ objectId: "w", segments }], { from: T, to: T + 24 * 60 * MIN, title: "t" }));
    const wide = drawn[0]!;
    const wideEnd = 160 + (197 / (24 * 60)) * (960 - 160 - 16);
    expect(wide.x).toBe(160);
    const column = drawn[1]!;
    expect(column.x).toBeCloseTo(wideEnd, 1);
    expect(Math.floor(column.x)).toBe(Math.floor(wideEnd));
  });

  test("a column after a stretch that ends late in its pixel is still drawn, half a pixel wide at least", () => {
    // 784 plot pixels over 784 minutes: a pixel a minute.
    const svg = renderTimelines(
      [
        {
          objectId: "w",
          segments: [
            { state: "dormant", from: T, to: T + 10.97 * MIN },
            { state: "active", from: T + 10.97 * MIN, to: T + 11.5 * MIN },
            { state: "dormant", from: T + 11.5 * MIN, to: T + 12 * MIN },
          ],
        },
      ],
      { from: T, to: T + 784 * MIN, title: "t" },
    );
    const drawn = rects(svg);
    expect(drawn.filter((r) => r.fill === STATE_COLOURS.active)).toEqual([expect.objectContaining({ x: 171 })]);
    expect(svg).not.toMatch(/<rect [^>]*width="0"/);
    expect([...svg.matchAll(/width="([^"]*)"/g)].every(([, w]) => Number(w) >= 0.5)).toBe(true);
  });

  // A review: an object dormant for weeks with brief wakes. Each wake fell in one pixel column,
  // drawn half a pixel wide at least from where the wake began, and the dormant stretch after it,
  // drawn from the wake's end within that pixel, covered it: the wakes did not show.
  test("a brief wake of a mostly dormant object shows, a pixel wide at least, over the dormant band", () => {
    const wakes = [3.2, 9.71, 17.5, 26.98].map((d) => T + Math.round(d * DAY));
    const segments = [];
    let t = T;
    for (const w of wakes) {
      segments.push({ state: "dormant", from: t, to: w });
      segments.push({ state: "waking", from: w, to: w + 2000 });
      segments.push({ state: "active", from: w + 2000, to: w + 32_000 });
      t = w + 32_000;
    }
    segments.push({ state: "dormant", from: t, to: T + 30 * DAY });
    const svg = renderTimelines([{ objectId: "w", segments }], { from: T, to: T + 30 * DAY, title: "t" });
    assertWellFormed(svg);
    // Every rect of the row, in the order drawn (a later one paints over an earlier).
    const drawn = [...svg.matchAll(/<rect ([^>]*?)\/?>/g)]
      .map(([, attrs]) => {
        const attr = (name: string) => new RegExp(`(?:^| )${name}="([^"]*)"`).exec(attrs!)?.[1];
        return {
          x: Number(attr("x")),
          y: Number(attr("y")),
          w: Number(attr("width")),
          h: Number(attr("height")),
          fill: attr("fill"),
        };
      })
      .filter((r) => r.y >= 34 && r.y < 50);
    const x = (at: number) => 160 + ((at - T) / (30 * DAY)) * (960 - 160 - 16);
    for (const w of wakes) {
      const mine = drawn.filter((r) => r.fill === STATE_COLOURS.active && r.x <= x(w) + 1 && r.x + r.w >= x(w) - 1);
      expect(mine, new Date(w).toISOString()).toHaveLength(1);
      const { x: left, w: width, y, h } = mine[0]!;
      expect(width).toBeGreaterThanOrEqual(1);
      // What shows across the wake's rect: on top at every point, the wake's own colours.
      for (const px of [left + 0.05, left + width / 2, left + width - 0.05]) {
        const top = drawn.findLast((r) => r.x <= px && px < r.x + r.w && r.y <= y + h / 2 && y + h / 2 < r.y + r.h);
        expect({ at: new Date(w).toISOString(), px, fill: top?.fill }).toEqual({
          at: new Date(w).toISOString(),
          px,
          fill: STATE_COLOURS.active,
        });
      }
    }
  });

  test("a segment a pixel wide or more among them is drawn as it is", () => {
    const segments = [];
    for (let t = T; t < T + DAY; t += MIN) segments.push({ state: "dormant", from: t, to: t + MIN });
    segments.push({ state: "failed", from: T + DAY, to: T + 2 * DAY });
    const svg = renderTimelines([{ objectId: "w", segments }], { from: T, to: T + 2 * DAY, title: "t" });
    const drawn = rects(svg);
    expect(drawn.at(-1)!.fill).toBe(STATE_COLOURS.failed);
    expect(drawn.at(-1)!.title).toBe("w: failed 2026-03-02T09:00:00.000Z to 2026-03-03T09:00:00.000Z (1 d)");
    expect(drawn.length).toBeLessThanOrEqual((960 - 160 - 16) / 2 + 2);
  });
});
